"""The dashboard's routes under ``/ui``: the page and its files, the login
(session.py), the admin API behind the session cookie, and the charts.

``/ui/api/admin/<path>`` answers what ``/admin/<path>`` answers, for a browser that
holds a valid session cookie instead of the master key: the same handlers,
called with the master key's principal, every answer ``no-store``.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, cast
from urllib.parse import parse_qs

import msgspec

from junction.gateway.trace import Principal
from junction.requestlog import SpendQuery
from junction.requestlog.rollup import ROLLUP_SUMS
from junction.server import admin, admin_logs
from junction.server.asgi import Handler, Request, Response, Router
from junction.server.dashboard import api, charts, session
from junction.server.dashboard.api import DashboardState
from junction.server.dashboard.static import Assets
from junction.types import ErrorKind, GatewayError

StateHandler = Callable[[Any, Request], Awaitable[Response]]
MASTER = Principal("master", admin=True, id="master")
NO_STORE = ("cache-control", "no-store")
SVG_HEADERS = (
    ("content-security-policy", "default-src 'none'"),
    ("x-content-type-options", "nosniff"),
    ("cache-control", "private, max-age=10"),
)
TOP_SERIES = 6
"""Series a chart draws by name; the rest are summed as "other"."""
CACHE_SECONDS = 10.0
CACHE_ENTRIES = 64


class _Login(msgspec.Struct, forbid_unknown_fields=True):
    key: str


async def _unrouted(request: Request, status: int) -> Response:
    raise AssertionError("the dashboard's admin table is only matched, never dispatched")


class Dashboard:
    """What the ``/ui`` routes share: the files, the admin table, a small cache."""

    def __init__(self, assets: Assets) -> None:
        self.assets = assets
        self.admin = Router(_unrouted)
        self._cache: dict[tuple[str, ...], tuple[float, Any]] = {}

        def collect(method: str, paths: tuple[str, ...], handler: StateHandler) -> None:
            for path in paths:
                # The table only finds handlers; they are StateHandlers, called below.
                self.admin.add(method, path, cast(Handler, handler))

        admin.add_routes(collect)
        collect("GET", ("/admin/logs",), admin_logs.logs)
        collect("GET", ("/admin/spend",), admin_logs.spend)
        for method, path, handler in api.ROUTES:
            collect(method, (path,), handler)

    # ----- session ------------------------------------------------------------

    def _signed_in(self, st: DashboardState, request: Request) -> int:
        master = st.gateway.authenticator.master
        if master is None:
            raise GatewayError(
                "authentication",
                "The dashboard needs a master key: set server.master_key or JUNCTION_MASTER_KEY.",
            )
        token = session.cookie_token(request)
        expires = session.valid(master, token) if token else None
        if expires is None:
            raise GatewayError("authentication", "Sign in to the dashboard with the master key.")
        return expires

    async def login(self, st: DashboardState, request: Request) -> Response:
        session.check_same_origin(request)
        try:
            key = msgspec.json.decode(await request.body(4096), type=_Login).key
        except (msgspec.DecodeError, msgspec.ValidationError):
            raise GatewayError(
                "invalid_request", 'Send {"key": "<the master key>"}.', param="key"
            ) from None
        master = st.gateway.authenticator.master
        if master is None:
            raise GatewayError(
                "permission_denied",
                "This gateway has no master key (server.master_key), so nobody can sign in.",
            )
        principal = await st.gateway.authenticate(key)
        if principal is None or not principal.admin:
            raise GatewayError(
                "permission_denied", "That is a client key; the dashboard takes the master key."
            )
        token, expires = session.new_token(master)
        body = msgspec.json.encode({"authenticated": True, "expires_at": api._iso(expires)})
        return Response(body, headers=[session.set_cookie(request, token), NO_STORE])

    async def logout(self, st: DashboardState, request: Request) -> Response:
        session.check_same_origin(request)
        body = msgspec.json.encode({"authenticated": False})
        return Response(body, headers=[session.clear_cookie(request), NO_STORE])

    async def whoami(self, st: DashboardState, request: Request) -> Response:
        """Whether this browser is signed in, and what the gateway has (always 200)."""
        try:
            expires: int | None = self._signed_in(st, request)
        except GatewayError:
            expires = None
        body: dict[str, Any] = {
            "authenticated": expires is not None,
            "expires_at": api._iso(expires) if expires else None,
            "master_key": st.gateway.authenticator.master is not None,
        }
        if expires is not None:
            body |= {
                "request_log": st.request_log is not None,
                "models": sorted(st.gateway.routes),
                "routers": sorted({r.name for r in st.gateway.auto.by_name.values()}),
            }
        return Response(msgspec.json.encode(body), headers=[NO_STORE])

    # ----- files --------------------------------------------------------------

    async def page(self, st: DashboardState, request: Request) -> Response:
        return self.assets.page_response(request)

    async def file(self, st: DashboardState, request: Request) -> Response:
        found = self.assets.file_response(request.params["name"], request)
        if found is None:
            raise GatewayError("not_found", f"There is no dashboard file {request.path}.")
        return found

    # ----- the admin API, behind the cookie ----------------------------------

    async def proxy(self, st: DashboardState, request: Request) -> Response:
        self._signed_in(st, request)
        if request.method != "GET":
            session.check_same_origin(request)
        path = "/" + request.params["path"]
        handler, params, exists = self.admin.match(request.method, path)
        if handler is None:
            kind: ErrorKind = "invalid_request" if exists else "not_found"
            status = 405 if exists else 404
            raise GatewayError(kind, f"There is no {request.method} {path}.", status=status)
        request.params = params
        request.principal = MASTER
        response = await cast(StateHandler, handler)(st, request)
        response.headers.append((b"cache-control", b"no-store"))
        return response

    # ----- charts -------------------------------------------------------------

    async def chart(self, st: DashboardState, request: Request) -> Response:
        self._signed_in(st, request)
        query = parse_qs(request.query, keep_blank_values=True)
        name = request.params["name"]
        if name == "usage":
            svg = await self._usage_chart(st, query)
        elif name == "latency":
            svg = await self._latency_chart(st, query)
        elif name == "routing":
            svg = await self._routing_chart(st, query)
        else:
            raise GatewayError("not_found", f"There is no chart {name!r}.")
        return Response(svg.encode("utf-8"), headers=SVG_HEADERS, media_type="image/svg+xml")

    async def _cached(self, key: tuple[str, ...], make: Callable[[], Awaitable[Any]]) -> Any:
        """The same figures for the charts of one page (they share a query)."""
        now = time.monotonic()
        hit = self._cache.get(key)
        if hit is not None and now - hit[0] < CACHE_SECONDS:
            return hit[1]
        value = await make()
        if len(self._cache) >= CACHE_ENTRIES:
            self._cache = {k: v for k, v in self._cache.items() if now - v[0] < CACHE_SECONDS}
            if len(self._cache) >= CACHE_ENTRIES:
                self._cache.clear()
        self._cache[key] = (now, value)
        return value

    async def _usage_chart(self, st: DashboardState, query: dict[str, list[str]]) -> str:
        metric = _one(query, "metric", "requests")
        if metric not in _METRICS:
            raise GatewayError(
                "invalid_request", f"Give metric as one of {', '.join(_METRICS)}.", param="metric"
            )
        log = api._log(st)
        rest = {k: v for k, v in query.items() if k != "metric"}
        q = SpendQuery.parse(rest)
        if q.start is None or q.end is None:
            raise GatewayError("invalid_request", "Give start and end.", param="start")
        rows = await self._cached(("usage", *_key(rest)), lambda: log.store.spend(q))
        step = 3600 if q.group_by == "hour" else 86400
        periods = _periods(q.start, q.end, step)
        title, unit = _METRICS[metric]
        series = _pivot(rows, periods, metric)
        labels = [_label(p, step) for p in periods]
        return charts.stacked_bars(f"{title} by {q.by}", labels, series, unit)

    async def _latency_chart(self, st: DashboardState, query: dict[str, list[str]]) -> str:
        view = await self._cached(("latency", *_key(query)), lambda: api.latency_view(st, query))
        labels = [_label(_epoch(s["period"]), view["bucket_seconds"]) for s in view["series"]]
        series: list[charts.Series] = []
        for field, name in (("ttft_ms", "time to first token"), ("latency_ms", "latency")):
            for q in ("p50", "p95"):
                vals = [s[field][q] if s[field] else None for s in view["series"]]
                series.append((f"{name} {q}", vals))
        return charts.lines("Latency (ms, successful requests)", labels, series, "ms")

    async def _routing_chart(self, st: DashboardState, query: dict[str, list[str]]) -> str:
        router = _one(query, "router", "")
        rest = {k: v for k, v in query.items() if k != "router"}
        view = await self._cached(("routing", *_key(rest)), lambda: api.routing_view(st, rest))
        result = view["results"].get(router)
        if result is None:
            raise GatewayError("not_found", f"No figures for router {router!r}.", param="router")
        step = view["bucket_seconds"]
        labels = [_label(_epoch(p), step) for p in view["periods"]]
        models = sorted({m for b in result["series"] for m in b})
        series: list[charts.Series] = []
        for m in models:
            shares = []
            for b in result["series"]:
                total = sum(b.values())
                shares.append(100 * b.get(m, 0.0) / total if total else None)
            series.append((m, shares))
        return charts.stacked_bars(f"{router}: share of calls by model", labels, series, "%")


_METRICS = {
    "requests": ("Requests", ""),
    "total_tokens": ("Tokens", ""),
    "cost": ("Spend", "$"),
    "errors": ("Errors", ""),
}
_AT = {name: 2 + i for i, name in enumerate(ROLLUP_SUMS)}


def _one(query: dict[str, list[str]], name: str, default: str) -> str:
    values = query.get(name)
    return values[-1] if values else default


def _key(query: dict[str, list[str]]) -> tuple[str, ...]:
    return tuple(f"{k}={v}" for k in sorted(query) for v in query[k])


def _epoch(iso: str) -> float:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def _periods(start: float, end: float, step: int) -> list[int]:
    first = int(start) // step * step
    return list(range(first, int(end) if end > first else first + 1, step)) or [first]


def _label(period: float, step: float) -> str:
    moment = datetime.fromtimestamp(period, UTC)
    return moment.strftime("%H:00" if step < 86400 else "%m-%d")


def _value(row: Any, metric: str) -> float:
    if metric == "total_tokens":
        return float(row[_AT["prompt_tokens"]] or 0) + float(row[_AT["completion_tokens"]] or 0)
    return float(row[_AT[metric]] or 0)


def _pivot(rows: list[Any], periods: list[int], metric: str) -> list[charts.Series]:
    """Per dimension value, the metric per period; the largest TOP_SERIES by name."""
    at = {p: i for i, p in enumerate(periods)}
    by: dict[str, list[float]] = {}
    for row in rows:
        i = at.get(int(row[0]))
        if i is None:
            continue
        vals = by.setdefault(str(row[1]) or "(none)", [0.0] * len(periods))
        vals[i] += _value(row, metric)
    ranked = sorted(by.items(), key=lambda kv: -sum(kv[1]))
    top = [(name, vals) for name, vals in ranked[:TOP_SERIES] if sum(vals) > 0]
    rest = ranked[TOP_SERIES:]
    if rest:
        other = [sum(vals[i] for _, vals in rest) for i in range(len(periods))]
        if sum(other) > 0:
            top.append(("other", other))
    return [(name, list(vals)) for name, vals in top]
