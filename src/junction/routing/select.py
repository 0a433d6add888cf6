"""Provider selection: one model's endpoints → the order to try them in.

Rules (OpenRouter's provider routing, aggregation.md 1.1-1.3), applied in this order:

1. **Hard filters**, each naming itself in ``Selection.excluded``: service tier
   not asked for (``admit_tiers``), ``only``, ``ignore``, ``order`` with
   ``allow_fallbacks: false``, ``quantizations`` (an endpoint without one counts
   as ``"unknown"``), ``data_collection: "deny"`` (drops endpoints that allow
   it), ``zdr``, ``max_price`` (at the prompt-size tier of
   ``prompt_tokens_estimate``; an *unpriced* endpoint passes, since junction
   accounts it at 0), ``require_parameters`` (every name in ``params``), and
   the context length against ``prompt_tokens_estimate``.
2. **Soft needs** (``tools``, ``response_format``...): if some endpoints
   support a need, the others are dropped; if none does, all stay.
3. **Resting endpoints** (circuit breaker open, or cooling down after a
   ``retry-after``) are never dropped: they go last, ordered among
   themselves by the same rules, so they are tried only when every other
   endpoint failed (a last resort beats a certain error). Each is named in
   ``Selection.demoted``.
4. **Order**:

   * ``order``: matching endpoints first, in the list's order (endpoints that
     match one entry by price); then, with fallbacks allowed, the rest as
     ``sort`` says, or by price.
   * ``sort``: ``price`` = input + output price per Mtok (1:1) ascending,
     unpriced last; ``throughput`` (and ``exacto``) = p50 output tokens/s
     descending; ``latency`` = p50 time to first token ascending. Both from the
     5-minute window; endpoints without stats come after those with stats;
     ties go to the cheaper endpoint.
   * otherwise (**default load balancing**): endpoints with significant
     failures in the last 30 s go last; the first endpoint is drawn at random
     among the rest, weighted by 1/price² (an unpriced endpoint weighs as the
     median price of the priced candidates; a free one as $0.000001); the
     others follow by price ascending (OpenRouter's "if A fails, C is tried,
     then B").

   ``preferred_min_throughput`` / ``preferred_max_latency`` (5-minute window;
   latency in seconds) then move endpoints that miss a cutoff behind those
   that meet it, keeping each group's order; an endpoint without stats
   counts as meeting it. In default mode the random draw is among the
   endpoints that meet the cutoffs.

If nothing is left, GatewayError("not_found", code="no_endpoints") says which
constraint excluded which endpoint.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Collection, Sequence
from typing import Literal

import msgspec

from junction.catalog import EndpointInfo, Percentiles, Price
from junction.routing.preferences import PercentileCutoffs, ProviderPreferences
from junction.routing.stats import StatsStore
from junction.types import GatewayError

__all__ = ["Selection", "matches_slug", "select"]

_WINDOW_S = 300.0
_FREE = 1e-6

SelectionMode = Literal["order", "sort", "balanced"]


class Selection(msgspec.Struct):
    """``ordered[0]`` is the primary endpoint, the rest are fallbacks in order."""

    ordered: list[EndpointInfo]
    excluded: list[tuple[EndpointInfo, str]]
    mode: SelectionMode = "balanced"
    demoted: list[tuple[EndpointInfo, str]] = msgspec.field(default_factory=list)
    """Endpoints kept only as a last resort (at the end of ``ordered``), and why."""

    def promote(self, endpoint_id: str) -> Selection:
        """The same selection with ``endpoint_id`` first (sticky routing), if it is in it."""
        for i, endpoint in enumerate(self.ordered):
            if endpoint.id == endpoint_id:
                if i == 0:
                    return self
                rest = self.ordered[:i] + self.ordered[i + 1 :]
                return Selection([endpoint, *rest], self.excluded, self.mode, self.demoted)
        return self


def matches_slug(provider: str, wanted: str) -> bool:
    """``wanted`` names ``provider``: equal, or a prefix ending at ``/`` (case-insensitive)."""
    p = provider.lower()
    w = wanted.lower()
    return p == w or (p.startswith(w) and p[len(w)] == "/")


def _any_match(provider: str, wanted: Sequence[str]) -> bool:
    return any(matches_slug(provider, w) for w in wanted)


def _usd(value: float) -> str:
    text = f"{value:.2f}"
    return text if abs(float(text) - value) < 1e-12 else f"{value:g}"


def _rates(price: Price, prompt_tokens: int) -> tuple[float, float]:
    inp, out, _, _ = price.rates(prompt_tokens)
    return inp, out


def _price_reason(endpoint: EndpointInfo, prefs: ProviderPreferences, prompt: int) -> str | None:
    cap = prefs.max_price
    price = endpoint.price
    if cap is None or price is None:
        return None
    inp, out = _rates(price, prompt)
    if cap.prompt is not None and inp > cap.prompt:
        return f"max_price.prompt ({_usd(inp)} > {_usd(cap.prompt)})"
    if cap.completion is not None and out > cap.completion:
        return f"max_price.completion ({_usd(out)} > {_usd(cap.completion)})"
    fee = price.request or 0.0
    if cap.request is not None and fee > cap.request:
        return f"max_price.request ({_usd(fee)} > {_usd(cap.request)})"
    return None


def _policy_reason(
    endpoint: EndpointInfo, prefs: ProviderPreferences, admit_tiers: Collection[str]
) -> str | None:
    slug = endpoint.provider
    if endpoint.tier is not None and endpoint.tier not in admit_tiers:
        return f"service tier {endpoint.tier} (not requested)"
    if prefs.only is not None and not _any_match(slug, prefs.only):
        return "only"
    if prefs.ignore is not None and _any_match(slug, prefs.ignore):
        return "ignore"
    if (
        prefs.order is not None
        and not prefs.fallbacks_allowed
        and not _any_match(slug, prefs.order)
    ):
        return "order (allow_fallbacks is false)"
    if prefs.quantizations is not None:
        quant = endpoint.quantization or "unknown"
        if quant not in prefs.quantizations:
            return f"quantizations ({quant} not in {', '.join(prefs.quantizations)})"
    if prefs.data_collection == "deny" and endpoint.data_collection == "allow":
        return "data_collection (the provider may store or train on prompts)"
    if prefs.zdr and not endpoint.zdr:
        return "zdr (not a zero-data-retention endpoint)"
    return None


def _capability_reason(
    endpoint: EndpointInfo, prefs: ProviderPreferences, params: Collection[str], prompt: int
) -> str | None:
    reason = _price_reason(endpoint, prefs, prompt)
    if reason is not None:
        return reason
    if prefs.require_parameters:
        missing = [p for p in params if p not in endpoint.supported_parameters]
        if missing:
            return f"require_parameters (does not support {', '.join(sorted(missing))})"
    if endpoint.context_length is not None and prompt > endpoint.context_length:
        return f"context_length ({prompt} > {endpoint.context_length} tokens)"
    return None


def _soft_filter(
    survivors: list[EndpointInfo], needs: Collection[str], excluded: list[tuple[EndpointInfo, str]]
) -> list[EndpointInfo]:
    for need in sorted(needs):
        able = [e for e in survivors if need in e.supported_parameters]
        if able and len(able) < len(survivors):
            excluded.extend(
                (e, f"{need} not supported (soft filter)")
                for e in survivors
                if need not in e.supported_parameters
            )
            survivors = able
    return survivors


def _rest_split(
    survivors: list[EndpointInfo],
    stats: StatsStore,
    now: float,
    demoted: list[tuple[EndpointInfo, str]],
) -> tuple[list[EndpointInfo], list[EndpointInfo]]:
    """(endpoints available now, resting endpoints), each in input order."""
    ready: list[EndpointInfo] = []
    resting: list[EndpointInfo] = []
    for e in survivors:
        why = stats.resting(e.id, now=now)
        if why is None:
            ready.append(e)
        else:
            resting.append(e)
            demoted.append((e, why))
    return ready, resting


class _Ctx:
    """Per-call lookups, computed at most once per endpoint."""

    __slots__ = ("_prices", "now", "prompt", "stats")

    def __init__(self, stats: StatsStore, now: float, prompt: int) -> None:
        self.stats = stats
        self.now = now
        self.prompt = prompt
        self._prices: dict[str, float | None] = {}

    def price(self, endpoint: EndpointInfo) -> float | None:
        """Input + output USD per Mtok at this prompt size (``None``: unpriced)."""
        try:
            return self._prices[endpoint.id]
        except KeyError:
            pass
        value = None
        if endpoint.price is not None:
            inp, out = _rates(endpoint.price, self.prompt)
            value = inp + out
        self._prices[endpoint.id] = value
        return value

    def throughput(self, endpoint: EndpointInfo) -> Percentiles | None:
        return self.stats.throughput(endpoint.id, now=self.now, window_s=_WINDOW_S)

    def latency(self, endpoint: EndpointInfo) -> Percentiles | None:
        """Time to first token (ms); total latency when no streamed request was seen."""
        stats, now = self.stats, self.now
        return stats.ttft(endpoint.id, now=now, window_s=_WINDOW_S) or stats.latency(
            endpoint.id, now=now, window_s=_WINDOW_S
        )


def _median(values: list[float]) -> float | None:
    if not values:
        return None
    values = sorted(values)
    mid = len(values) // 2
    return values[mid] if len(values) % 2 else (values[mid - 1] + values[mid]) / 2


def _by_price(
    endpoints: list[EndpointInfo], ctx: _Ctx, unpriced: float | None
) -> list[EndpointInfo]:
    """Ascending price; unpriced endpoints at ``unpriced`` (``None``: after all priced)."""

    def key(e: EndpointInfo) -> tuple[bool, float]:
        p = ctx.price(e)
        if p is None:
            p = unpriced
        return (p is None, p or 0.0)

    return sorted(endpoints, key=key)


def _sorted(endpoints: list[EndpointInfo], by: str, ctx: _Ctx) -> list[EndpointInfo]:
    """Sort by a live measure. An endpoint with no traffic at all in the
    window goes first (explore: it is measured by one request, so a cold
    start or an endpoint idle for 5 minutes gets re-measured); endpoints
    with measurements follow, best first; then those with traffic but no
    measurement (only failures); endpoints failing recently go last."""
    if by == "price":
        return _by_price(endpoints, ctx, None)
    cheap = {e.id: i for i, e in enumerate(_by_price(endpoints, ctx, None))}

    def key(e: EndpointInfo) -> tuple[int, float, int]:
        if ctx.stats.recent_failures(e.id, now=ctx.now):
            return (3, 0.0, cheap[e.id])
        if ctx.stats.uptime(e.id, now=ctx.now, window_s=_WINDOW_S) is None:
            return (0, 0.0, cheap[e.id])
        if by == "latency":
            p = ctx.latency(e)
            return (1, p.p50, cheap[e.id]) if p is not None else (2, 0.0, cheap[e.id])
        t = ctx.throughput(e)
        return (1, -t.p50, cheap[e.id]) if t is not None else (2, 0.0, cheap[e.id])

    return sorted(endpoints, key=key)


_PCTS = ("p50", "p75", "p90", "p99")


def _meets(
    observed: Percentiles | None,
    cutoffs: PercentileCutoffs | None,
    ok: Callable[[float, float], bool],
    scale: float,
) -> bool:
    if cutoffs is None or observed is None:
        return True
    for name in _PCTS:
        limit = getattr(cutoffs, name)
        if limit is not None and not ok(getattr(observed, name), limit * scale):
            return False
    return True


def _meets_thresholds(endpoint: EndpointInfo, prefs: ProviderPreferences, ctx: _Ctx) -> bool:
    tput, lat = prefs.preferred_min_throughput, prefs.preferred_max_latency
    if tput is not None and not _meets(
        ctx.throughput(endpoint), tput, lambda seen, limit: seen >= limit, 1.0
    ):
        return False
    return lat is None or _meets(
        ctx.latency(endpoint), lat, lambda seen, limit: seen <= limit, 1000.0
    )


def _partition(
    endpoints: list[EndpointInfo], keep_first: Callable[[EndpointInfo], bool]
) -> tuple[list[EndpointInfo], list[EndpointInfo]]:
    first: list[EndpointInfo] = []
    last: list[EndpointInfo] = []
    for e in endpoints:
        (first if keep_first(e) else last).append(e)
    return first, last


def _weighted_pick(
    candidates: list[EndpointInfo], ctx: _Ctx, median: float | None, rng: random.Random
) -> int:
    if len(candidates) == 1:
        return 0
    weights: list[float] = []
    for e in candidates:
        p = ctx.price(e)
        if p is None:
            p = median if median is not None else 1.0
        p = max(p, _FREE)
        weights.append(1.0 / (p * p))
    draw = rng.random() * sum(weights)
    for i, w in enumerate(weights):
        draw -= w
        if draw < 0:
            return i
    return len(candidates) - 1


def _balanced(
    endpoints: list[EndpointInfo],
    prefs: ProviderPreferences,
    ctx: _Ctx,
    rng: random.Random,
) -> list[EndpointInfo]:
    median = _median([p for e in endpoints if (p := ctx.price(e)) is not None])
    stable, failing = _partition(
        endpoints, lambda e: not ctx.stats.recent_failures(e.id, now=ctx.now)
    )
    meeting, missing = _partition(stable, lambda e: _meets_thresholds(e, prefs, ctx))
    groups = [g for g in (meeting, missing, failing) if g]
    ordered: list[EndpointInfo] = []
    for n, group in enumerate(groups):
        group = _by_price(group, ctx, median)
        if n == 0:
            ordered.append(group.pop(_weighted_pick(group, ctx, median, rng)))
        ordered.extend(group)
    return ordered


def _ordered(
    endpoints: list[EndpointInfo], prefs: ProviderPreferences, ctx: _Ctx
) -> list[EndpointInfo]:
    wanted = prefs.order or ()
    by = prefs.sort_by
    first: list[EndpointInfo] = []
    taken: set[str] = set()
    for entry in wanted:
        matching = [e for e in endpoints if e.id not in taken and matches_slug(e.provider, entry)]
        for e in _by_price(matching, ctx, None):
            first.append(e)
            taken.add(e.id)
    rest = [e for e in endpoints if e.id not in taken]
    rest = (
        _sorted(rest, "throughput" if by == "exacto" else by, ctx)
        if by
        else _by_price(rest, ctx, None)
    )
    return first + rest


def select(
    endpoints: Sequence[EndpointInfo],
    prefs: ProviderPreferences,
    *,
    params: Collection[str],
    needs: Collection[str],
    prompt_tokens_estimate: int,
    stats: StatsStore,
    rng: random.Random,
    now: float,
    model: str | None = None,
    admit_tiers: Collection[str] = (),
) -> Selection:
    """Order one model's endpoints for a request (see the module docstring for the rules).

    ``params`` are the canonical parameters the request sets (``ChatRequest.given()``),
    ``needs`` the soft needs among them (``tools``, ``response_format``);
    ``admit_tiers`` the service tiers the request opted into (``:nitro`` →
    ``{"priority"}``, ``:floor`` → ``{"flex"}``).
    """
    excluded: list[tuple[EndpointInfo, str]] = []
    survivors: list[EndpointInfo] = []
    for endpoint in endpoints:
        reason = _policy_reason(endpoint, prefs, admit_tiers) or _capability_reason(
            endpoint, prefs, params, prompt_tokens_estimate
        )
        if reason is None:
            survivors.append(endpoint)
        else:
            excluded.append((endpoint, reason))
    survivors = _soft_filter(survivors, needs, excluded)
    if not survivors:
        raise _no_endpoints(model or (endpoints[0].model if endpoints else "?"), excluded)
    ctx = _Ctx(stats, now, prompt_tokens_estimate)
    demoted: list[tuple[EndpointInfo, str]] = []
    ready, resting = _rest_split(survivors, stats, now, demoted)
    mode, ordered = _order(ready, prefs, ctx, rng)
    if resting:
        ordered += _order(resting, prefs, ctx, rng)[1]
    return Selection(ordered, excluded, mode, demoted)


def _order(
    endpoints: list[EndpointInfo], prefs: ProviderPreferences, ctx: _Ctx, rng: random.Random
) -> tuple[SelectionMode, list[EndpointInfo]]:
    if not endpoints:
        return _mode(prefs), []
    ordered: list[EndpointInfo]
    if prefs.order:
        ordered = _ordered(endpoints, prefs, ctx)
    elif prefs.sort_by is not None:
        by = prefs.sort_by
        ordered = _sorted(endpoints, "throughput" if by == "exacto" else by, ctx)
    else:
        return "balanced", _balanced(endpoints, prefs, ctx, rng)
    if prefs.preferred_min_throughput is not None or prefs.preferred_max_latency is not None:
        meeting, missing = _partition(ordered, lambda e: _meets_thresholds(e, prefs, ctx))
        ordered = meeting + missing
    return _mode(prefs), ordered


def _mode(prefs: ProviderPreferences) -> SelectionMode:
    if prefs.order:
        return "order"
    return "sort" if prefs.sort_by is not None else "balanced"


def _no_endpoints(model: str, excluded: list[tuple[EndpointInfo, str]]) -> GatewayError:
    if not excluded:
        message = f"model {model} has no endpoints"
    else:
        reasons = ", ".join(f"{e.provider} excluded by {why}" for e, why in excluded)
        message = (
            f"no endpoint of model {model} meets the request's provider preferences: {reasons}"
        )
    return GatewayError("not_found", message, code="no_endpoints")
