"""The admin endpoints the dashboard reads beside the admin API (docs/admin.md,
"Dashboard endpoints"): providers' live statistics, limits with their current
use, latency percentiles and the auto-router's decisions, one logged request.

Master key only, like the rest of ``/admin``. Each answer is bounded whatever
the size of the log: live statistics are in memory, use is one counter read,
and the percentiles and router figures come from a stratified sample
(sampling.py), never from reading every row.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import parse_qs

import msgspec

from junction.catalog import Price, cost
from junction.gateway import Gateway
from junction.policy.limits import LEASE, MINUTE
from junction.policy.periods import Periods
from junction.requestlog import RequestLog
from junction.requestlog.rows import row_dict
from junction.server.admin import require_master
from junction.server.asgi import Request, Response
from junction.server.dashboard.sampling import AT, Bucket, Window, percentiles, sample
from junction.stores import Check, CounterReader, Limits, StoreUnavailable
from junction.stores.protocols import CheckKind
from junction.types import GatewayError, Usage

if TYPE_CHECKING:
    from junction.gateway.semantic_router import AutoRouter

FAILURES_SHOWN = 5
"""Failed attempts listed per endpoint (this process's most recent)."""
LATENCY_PER_BUCKET = 200
ROUTING_PER_BUCKET = 200
DECISIONS_SHOWN = 50


class DashboardState(Protocol):
    @property
    def gateway(self) -> Gateway: ...

    @property
    def request_log(self) -> RequestLog | None: ...


def _log(st: DashboardState) -> RequestLog:
    if st.request_log is None:
        raise GatewayError(
            "not_found",
            "The request log is off: configure stores.database_url (see docs/operations.md).",
        )
    return st.request_log


def _json(value: object) -> Response:
    return Response(msgspec.json.encode(value), headers=[("cache-control", "no-store")])


def _iso(moment: float | None) -> str | None:
    if moment is None:
        return None
    return datetime.fromtimestamp(moment, UTC).isoformat().replace("+00:00", "Z")


def _query(request: Request) -> dict[str, list[str]]:
    return parse_qs(request.query, keep_blank_values=True)


# ----- providers --------------------------------------------------------------


async def providers(st: DashboardState, request: Request) -> Response:
    """``GET /admin/providers``: every endpoint's live statistics (the ones
    routing reads), circuit state and this process's recent failed attempts."""
    require_master(request)
    gw = st.gateway
    now = gw.clock()
    stats = gw.stats
    failures = _recent_failures(gw)
    data = []
    for route in gw.routes.values():
        for ep in route.endpoints:
            eid = ep.info.id
            snap = stats.snapshot(eid, now=now)
            data.append(
                {
                    "model": route.name,
                    "kind": route.kind,
                    "endpoint": eid,
                    "provider": ep.label,
                    "upstream_model": ep.info.upstream_model,
                    "uptime_5m": snap.uptime_5m,
                    "uptime_30m": snap.uptime_30m,
                    "uptime_1d": snap.uptime_1d,
                    "error_rate_5m": stats.error_rate(eid, now=now, window_s=300.0),
                    "ttft_ms_30m": _pcts(stats.ttft(eid, now=now, window_s=1800.0)),
                    "latency_ms_30m": _pcts(stats.latency(eid, now=now, window_s=1800.0)),
                    "throughput_30m": _pcts(snap.throughput_30m),
                    "circuit": snap.circuit,
                    "resting": stats.resting(eid, now=now),
                    "recent_failures": stats.recent_failures(eid, now=now),
                    "failures": failures.get(eid, []),
                }
            )
    return _json({"object": "list", "data": data})


def _pcts(p: Any) -> dict[str, float] | None:
    return None if p is None else msgspec.structs.asdict(p)


def _recent_failures(gw: Gateway) -> dict[str, list[dict[str, Any]]]:
    """The newest failed attempts per endpoint, from the generation log in memory."""
    out: dict[str, list[dict[str, Any]]] = {}
    for g in reversed(list(gw.generations)):
        for a in reversed(g.attempts):
            if a.ok:
                continue
            shown = out.setdefault(a.endpoint.info.id, [])
            if len(shown) < FAILURES_SHOWN:
                shown.append(
                    {
                        "time": _iso(a.started),
                        "generation": g.id,
                        "status": a.status,
                        "error": a.error,
                        "timeout": a.timeout,
                        "latency_ms": round(a.latency_ms, 3),
                    }
                )
    return out


# ----- usage ------------------------------------------------------------------


async def usage(st: DashboardState, request: Request) -> Response:
    """``GET /admin/usage[?key=|team=|user=]``: each key's, team's and user's
    limits and budgets with what is counted against them now."""
    require_master(request)
    query = _query(request)
    for name in query:
        if name not in ("key", "team", "user"):
            raise GatewayError(
                "invalid_request",
                f"Unknown filter {name!r}; this route filters by key, team or user.",
                param=name,
            )
    gw = st.gateway
    records = gw.stores.records
    owners: list[tuple[str, str, str, Limits]] = []
    try:
        if not query or "key" in query:
            wanted = query.get("key", [None])[-1]
            owners += [
                ("key", k.id, k.name, k.limits)
                for k in await records.keys()
                if wanted in (None, k.id) and k.revoked_at is None
            ]
        if not query or "team" in query:
            wanted = query.get("team", [None])[-1]
            owners += [
                ("team", t.id, t.name, t.limits)
                for t in await records.teams()
                if wanted in (None, t.id)
            ]
        if not query or "user" in query:
            wanted = query.get("user", [None])[-1]
            owners += [
                ("user", u.id, u.name, u.limits)
                for u in await records.users()
                if wanted in (None, u.id)
            ]
        data = await _use(gw, owners)
    except StoreUnavailable:
        raise GatewayError(
            "overloaded", "The record or counter store cannot be reached. Retry shortly."
        ) from None
    return _json({"object": "list", "data": data})


_LIMITS: tuple[tuple[str, CheckKind], ...] = (
    ("rpm", "requests"),
    ("tpm", "tokens"),
    ("max_parallel", "parallel"),
)


async def _use(gw: Gateway, owners: Sequence[tuple[str, str, str, Limits]]) -> list[dict[str, Any]]:
    now = gw.wall_clock()
    periods = Periods(gw.config.stores.timezone)
    checks: list[Check] = []
    shown: list[list[tuple[str, Check, float]]] = []
    for scope, ident, _, limits in owners:
        mine: list[tuple[str, Check, float]] = []
        for field, kind in _LIMITS:
            value = getattr(limits, field)
            if value is not None:
                window = LEASE if kind == "parallel" else MINUTE
                mine.append((field, Check(f"{scope}:{ident}", kind, value, 0, window), value))
        hard, soft = limits.budget_usd, limits.soft_budget_usd
        if hard is not None or soft is not None:
            window = periods.window(limits.budget_period, now)
            limit = hard if hard is not None else soft
            assert limit is not None
            spend = Check(f"{scope}:{ident}", "spend", limit, 0, window)
            mine += [
                (f, spend, v)
                for f, v in (("budget_usd", hard), ("soft_budget_usd", soft))
                if v is not None
            ]
        checks += [c for _, c, _ in mine]
        shown.append(mine)
    counters = gw.stores.counters
    read = (
        await counters.peek(checks, now) if checks and isinstance(counters, CounterReader) else None
    )
    index = {id(c): i for i, c in enumerate(checks)}
    out = []
    for (scope, ident, name, limits), mine in zip(owners, shown, strict=True):
        items = []
        for field, check, value in mine:
            i = index[id(check)]
            item: dict[str, Any] = {"limit": field, "max": value, "used": None, "resets_at": None}
            if read is not None:
                item["used"] = round(read.used[i], 9)
                reset = read.reset_at[i]
                if check.kind != "parallel" and reset < float("inf"):
                    item["resets_at"] = _iso(reset)
            if check.kind == "spend":
                item["period"] = limits.budget_period
            items.append(item)
        out.append({"object": "usage", "scope": scope, "id": ident, "name": name, "limits": items})
    return out


# ----- latency ----------------------------------------------------------------


async def latency(st: DashboardState, request: Request) -> Response:
    """``GET /admin/latency``: latency and time-to-first-token percentiles of
    successful requests over a range, per bucket and per model."""
    require_master(request)
    return _json(await latency_view(st, _query(request)))


async def latency_view(st: DashboardState, query: dict[str, list[str]]) -> dict[str, Any]:
    log = _log(st)
    window = Window.parse(query, st.gateway.wall_clock())
    buckets = await sample(log, window, LATENCY_PER_BUCKET)
    lat: list[tuple[float, float]] = []
    ttft: list[tuple[float, float]] = []
    by_model: dict[str, tuple[list[tuple[float, float]], list[tuple[float, float]]]] = {}
    series = []
    for b in buckets:
        w = b.weight
        b_lat: list[tuple[float, float]] = []
        b_ttft: list[tuple[float, float]] = []
        for row in b.rows:
            if row[AT["status"]] >= 400:
                continue
            pair_l = (float(row[AT["latency_ms"]]), w)
            model = by_model.setdefault(row[AT["model_used"]], ([], []))
            b_lat.append(pair_l)
            model[0].append(pair_l)
            if row[AT["ttft_ms"]] is not None:
                pair_t = (float(row[AT["ttft_ms"]]), w)
                b_ttft.append(pair_t)
                model[1].append(pair_t)
        lat += b_lat
        ttft += b_ttft
        series.append(
            {
                "period": _iso(b.start),
                "requests": b.requests,
                "sampled": len(b.rows),
                "latency_ms": percentiles(b_lat),
                "ttft_ms": percentiles(b_ttft),
            }
        )
    models = [
        {
            "model": name,
            "sampled": len(pairs[0]),
            "requests": round(sum(w for _, w in pairs[0])),
            "latency_ms": percentiles(pairs[0]),
            "ttft_ms": percentiles(pairs[1]),
        }
        for name, pairs in sorted(by_model.items(), key=lambda kv: -len(kv[1][0]))
    ]
    return {
        **_window_view(window, buckets),
        "latency_ms": percentiles(lat),
        "ttft_ms": percentiles(ttft),
        "by_model": models,
        "series": series,
    }


def _window_view(window: Window, buckets: Sequence[Bucket]) -> dict[str, Any]:
    return {
        "start": _iso(window.start),
        "end": _iso(window.end),
        "bucket_seconds": int(buckets[0].end - buckets[0].start) if buckets else 3600,
        "requests": sum(b.requests for b in buckets),
        "sampled": sum(len(b.rows) for b in buckets),
        "exact": all(len(b.rows) >= b.requests for b in buckets),
    }


# ----- routing ----------------------------------------------------------------


def _routers(gw: Gateway) -> list[tuple[AutoRouter, list[str]]]:
    """Each configured router once, with every name it answers to."""
    seen: dict[int, tuple[AutoRouter, list[str]]] = {}
    for name, router in gw.auto.by_name.items():
        seen.setdefault(id(router), (router, []))[1].append(name)
    return list(seen.values())


def _price(gw: Gateway, model: str) -> Price | None:
    route = gw.routes.get(model)
    if route is None:
        return None
    return next((e.info.price for e in route.endpoints if e.info.price is not None), None)


def _strong(gw: Gateway, router: AutoRouter) -> str | None:
    """The model "always strong" would call: the artifact's strong model, else
    the candidate dearest for a 1,000-in / 1,000-out request."""
    decider = router.decider
    if decider.strong is not None:
        return router.to_model[decider.models[decider.strong]]
    probe = Usage(prompt_tokens=1000, completion_tokens=1000)
    priced = [(cost(probe, p), m) for m in router.to_model.values() if (p := _price(gw, m))]
    return max(priced)[1] if priced else None


def _row_usage(row: Sequence[Any]) -> Usage:
    return Usage(
        prompt_tokens=row[AT["prompt_tokens"]],
        completion_tokens=row[AT["completion_tokens"]],
        cached_tokens=row[AT["cached_tokens"]],
        cache_write_tokens=row[AT["cache_write_tokens"]],
        reasoning_tokens=row[AT["reasoning_tokens"]],
    )


class _Tally:
    """One router's figures over the sample (weighted)."""

    def __init__(self, strong_price: Price | None) -> None:
        self.strong_price = strong_price
        self.requests = 0.0
        self.sampled = 0
        self.chosen: dict[str, float] = {}
        self.served: dict[str, float] = {}
        self.series: list[dict[str, float]] = []
        self.cost = 0.0
        self.strong_cost = 0.0
        self.priced = 0.0
        self.agree = 0.0
        self.if_routed = 0.0

    def add(self, gw: Gateway, row: Sequence[Any], choice: dict[str, Any], w: float) -> None:
        chosen, served = str(choice.get("model")), str(row[AT["model_used"]])
        self.requests += w
        self.sampled += 1
        self.chosen[chosen] = self.chosen.get(chosen, 0.0) + w
        self.served[served] = self.served.get(served, 0.0) + w
        shown = chosen if choice.get("shadow") else served
        self.series[-1][shown] = self.series[-1].get(shown, 0.0) + w
        spent = row[AT["cost"]]
        if row[AT["status"]] >= 400 or spent is None:
            return
        used = _row_usage(row)
        self.priced += w
        self.cost += w * spent
        if self.strong_price is not None:
            self.strong_cost += w * cost(used, self.strong_price)
        if choice.get("shadow"):
            self.agree += w if chosen == served else 0.0
            price = _price(gw, chosen)
            self.if_routed += w * (cost(used, price) if price is not None else spent)

    def view(self, shadow: bool) -> dict[str, Any]:
        total = self.requests or 1.0
        out: dict[str, Any] = {
            "requests": round(self.requests),
            "sampled": self.sampled,
            "share": {m: round(v / total, 4) for m, v in sorted(self.chosen.items())},
            "served": {m: round(v / total, 4) for m, v in sorted(self.served.items())},
            "cost": round(self.cost, 9),
        }
        if shadow:
            out["shadow"] = {
                "agreement": round(self.agree / self.priced, 4) if self.priced else None,
                "cost_served": round(self.cost, 9),
                "cost_if_routed": round(self.if_routed, 9),
            }
        elif self.strong_price is not None:
            out["always_strong_cost"] = round(self.strong_cost, 9)
            out["savings"] = round(self.strong_cost - self.cost, 9)
            out["savings_share"] = (
                round(1 - self.cost / self.strong_cost, 4) if self.strong_cost else None
            )
        return out


async def routing(st: DashboardState, request: Request) -> Response:
    """``GET /admin/routing``: the configured routers and, from the log's
    router fields over a range, their decisions, each model's share over
    time, realised savings against always-strong and shadow comparisons."""
    require_master(request)
    return _json(await routing_view(st, _query(request)))


async def routing_view(st: DashboardState, query: dict[str, list[str]]) -> dict[str, Any]:
    log = _log(st)
    gw = st.gateway
    window = Window.parse(query, gw.wall_clock())
    configured = _routers(gw)
    names: dict[str, str] = {}
    tallies: dict[str, _Tally] = {}
    routers = []
    for router, aliases in configured:
        strong = _strong(gw, router)
        for alias in aliases:
            names[alias] = router.name
        tallies[router.name] = _Tally(_price(gw, strong) if strong else None)
        routers.append(
            {
                "name": router.name,
                "aliases": aliases,
                "candidates": sorted(router.to_model.values()),
                "shadow": router.shadow,
                "default": router.default,
                "strong": strong,
            }
        )
    buckets = await sample(log, window, ROUTING_PER_BUCKET)
    decisions: list[dict[str, Any]] = []
    periods = []
    for b in buckets:
        periods.append(_iso(b.start))
        for t in tallies.values():
            t.series.append({})
        for row in b.rows:
            raw = row[AT["router"]]
            if not raw:
                continue
            choice = msgspec.json.decode(raw) if isinstance(raw, str) else raw
            name = names.get(str(choice.get("name")), str(choice.get("name")))
            tally = tallies.get(name)
            if tally is None:  # a router no longer configured: still shown
                tally = tallies[name] = _Tally(None)
                tally.series = [{} for _ in periods]
            tally.add(gw, row, choice, b.weight)
            decisions.append(_decision(row, choice, name))
    decisions.sort(key=lambda d: d["time"], reverse=True)
    shadow = {r["name"]: bool(r["shadow"]) for r in routers}
    return {
        **_window_view(window, buckets),
        "routers": routers,
        "periods": periods,
        "results": {
            name: {**t.view(shadow.get(name, False)), "series": t.series}
            for name, t in tallies.items()
        },
        "decisions": decisions[:DECISIONS_SHOWN],
    }


def _decision(row: Sequence[Any], choice: dict[str, Any], name: str) -> dict[str, Any]:
    return {
        "time": _iso(float(row[AT["time"]])),
        "id": row[AT["id"]],
        "router": name,
        "chosen": choice.get("model"),
        "served": row[AT["model_used"]],
        "score": choice.get("score"),
        "shadow": bool(choice.get("shadow")),
        "status": row[AT["status"]],
        "cost": row[AT["cost"]],
    }


# ----- one logged request -----------------------------------------------------


async def log_row(st: DashboardState, request: Request) -> Response:
    """``GET /admin/logs/{id}``: one request as ``GET /admin/logs`` shows it."""
    require_master(request)
    found = await _log(st).store.get(request.params["id"])
    if found is None:
        raise GatewayError(
            "not_found", f"There is no logged request {request.params['id']!r}.", param="id"
        )
    return _json(row_dict(found))


ROUTES: Iterable[tuple[str, str, Any]] = (
    ("GET", "/admin/providers", providers),
    ("GET", "/admin/usage", usage),
    ("GET", "/admin/latency", latency),
    ("GET", "/admin/routing", routing),
    ("GET", "/admin/logs/{id}", log_row),
)
