"""Provider selection: each preference field, default load balancing, health, and the 404."""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Collection, Sequence

import pytest

from junction.catalog import EndpointInfo, Price, PriceTier
from junction.routing import (
    EndpointStats,
    MaxPrice,
    PercentileCutoffs,
    ProviderPreferences,
    Selection,
    Sort,
    StatsConfig,
    parse_preferences,
    select,
)
from junction.routing.stats import BreakerConfig
from junction.types import GatewayError


def ep(
    provider: str,
    price: float | None = 1.0,
    *,
    params: Collection[str] = (),
    **fields: object,
) -> EndpointInfo:
    return EndpointInfo(
        id=f"m@{provider}",
        model="m",
        provider=provider,
        upstream_model="m",
        supported_parameters=frozenset(params),
        price=Price(input=price, output=0.0) if price is not None else None,
        **fields,  # type: ignore[arg-type]
    )


def _stats() -> EndpointStats:
    return EndpointStats(StatsConfig(refresh_s=0.0))


def run(
    endpoints: Sequence[EndpointInfo],
    prefs: ProviderPreferences | None = None,
    *,
    params: Collection[str] = (),
    needs: Collection[str] = (),
    prompt: int = 1_000,
    stats: EndpointStats | None = None,
    seed: int = 1,
    now: float = 1_000.0,
    admit_tiers: Collection[str] = (),
) -> Selection:
    return select(
        endpoints,
        prefs or ProviderPreferences(),
        params=params,
        needs=needs,
        prompt_tokens_estimate=prompt,
        stats=stats or _stats(),
        rng=random.Random(seed),
        now=now,
        admit_tiers=admit_tiers,
    )


def names(selection: Selection) -> list[str]:
    return [e.provider for e in selection.ordered]


def reasons(selection: Selection) -> dict[str, str]:
    return {e.provider: why for e, why in selection.excluded}


def _streamed(
    stats: EndpointStats, e: EndpointInfo, *, ttft: float, tps: float, now: float
) -> None:
    stats.record(
        e.id,
        ok=True,
        timeout=False,
        status=200,
        ttft_ms=ttft,
        latency_ms=ttft + 1000.0,
        output_tokens=round(tps),
        now=now,
    )


def _failures(stats: EndpointStats, e: EndpointInfo, n: int, now: float) -> None:
    for _ in range(n):
        stats.record(
            e.id,
            ok=False,
            timeout=False,
            status=502,
            ttft_ms=None,
            latency_ms=20.0,
            output_tokens=0,
            now=now,
        )


# --- hard filters -----------------------------------------------------------------


def test_only_matches_slugs_with_their_regions_case_insensitively() -> None:
    endpoints = [ep("google-vertex/us-east5"), ep("google-vertex"), ep("Groq"), ep("openai")]
    chosen = run(endpoints, parse_preferences({"only": ["google-vertex", "groq"]}))
    assert sorted(names(chosen)) == ["Groq", "google-vertex", "google-vertex/us-east5"]
    assert reasons(chosen) == {"openai": "only"}
    with pytest.raises(GatewayError, match="google-vertex-2 excluded by only"):
        run([ep("google-vertex-2")], ProviderPreferences(only=("google-vertex",)))


def test_ignore_is_exact_about_variants() -> None:
    chosen = run(
        [ep("deepinfra"), ep("deepinfra/turbo")], ProviderPreferences(ignore=("deepinfra/turbo",))
    )
    assert names(chosen) == ["deepinfra"]
    assert reasons(chosen) == {"deepinfra/turbo": "ignore"}
    everything = run(
        [ep("deepinfra"), ep("deepinfra/turbo"), ep("groq")],
        ProviderPreferences(ignore=("DeepInfra",)),
    )
    assert names(everything) == ["groq"]


def test_quantizations() -> None:
    endpoints = [ep("a", quantization="fp8"), ep("b", quantization="fp16"), ep("c")]
    chosen = run(endpoints, ProviderPreferences(quantizations=("fp16", "unknown")))
    assert sorted(names(chosen)) == ["b", "c"]  # no quantization given counts as "unknown"
    assert reasons(chosen) == {"a": "quantizations (fp8 not in fp16, unknown)"}


def test_data_collection_deny_and_zdr() -> None:
    endpoints = [
        ep("keeps", data_collection="allow"),
        ep("private", data_collection="deny"),
        ep("zero", data_collection="deny", zdr=True),
    ]
    denied = run(endpoints, ProviderPreferences(data_collection="deny"))
    assert sorted(names(denied)) == ["private", "zero"]
    assert reasons(denied)["keeps"].startswith("data_collection")
    zdr = run(endpoints, ProviderPreferences(zdr=True))
    assert names(zdr) == ["zero"]
    assert set(reasons(zdr)) == {"keeps", "private"}
    assert names(run(endpoints, ProviderPreferences(data_collection="allow", zdr=False))) != []


def test_max_price_excludes_what_costs_more() -> None:
    endpoints = [
        EndpointInfo(
            id="m@a",
            model="m",
            provider="a",
            upstream_model="m",
            price=Price(input=0.5, output=2.0),
        ),
        EndpointInfo(
            id="m@b",
            model="m",
            provider="b",
            upstream_model="m",
            price=Price(input=0.5, output=4.0),
        ),
        EndpointInfo(
            id="m@c",
            model="m",
            provider="c",
            upstream_model="m",
            price=Price(input=0.5, output=1.0, request=0.02),
        ),
        EndpointInfo(id="m@free", model="m", provider="free", upstream_model="m"),
    ]
    prefs = parse_preferences({"max_price": {"prompt": "1", "completion": "3", "request": "0.01"}})
    chosen = run(endpoints, prefs)
    assert sorted(names(chosen)) == ["a", "free"]  # an unpriced endpoint passes
    assert reasons(chosen) == {
        "b": "max_price.completion (4.00 > 3.00)",
        "c": "max_price.request (0.02 > 0.01)",
    }


def test_max_price_uses_the_prompt_size_tier() -> None:
    tiered = EndpointInfo(
        id="m@t",
        model="m",
        provider="t",
        upstream_model="m",
        price=Price(
            input=1.25, output=10, tiers=(PriceTier(above_prompt_tokens=200_000, input=2.5),)
        ),
    )
    prefs = ProviderPreferences(max_price=MaxPrice(prompt=2.0))
    assert names(run([tiered], prefs, prompt=150_000)) == ["t"]
    with pytest.raises(GatewayError, match=r"t excluded by max_price.prompt \(2.50 > 2.00\)"):
        run([tiered], prefs, prompt=250_000)


def test_require_parameters_excludes_endpoints_missing_any() -> None:
    endpoints = [
        ep("full", params={"temperature", "seed", "logprobs"}),
        ep("partial", params={"temperature"}),
    ]
    used = {"temperature", "seed", "logprobs"}
    strict = run(endpoints, ProviderPreferences(require_parameters=True), params=used)
    assert names(strict) == ["full"]
    assert reasons(strict) == {"partial": "require_parameters (does not support logprobs, seed)"}
    lax = run(endpoints, ProviderPreferences(), params=used)
    assert sorted(names(lax)) == ["full", "partial"]


def test_context_length() -> None:
    endpoints = [ep("small", context_length=8_192), ep("big", context_length=128_000)]
    chosen = run(endpoints, prompt=10_000)
    assert names(chosen) == ["big"]
    assert reasons(chosen) == {"small": "context_length (10000 > 8192 tokens)"}


def test_service_tier_endpoints_need_an_opt_in() -> None:
    endpoints = [ep("openai"), ep("openai/priority", tier="priority")]
    assert names(run(endpoints)) == ["openai"]
    assert reasons(run(endpoints)) == {"openai/priority": "service tier priority (not requested)"}
    assert sorted(names(run(endpoints, admit_tiers={"priority"}))) == ["openai", "openai/priority"]


# --- soft needs and health --------------------------------------------------------------


def test_tools_are_a_soft_filter() -> None:
    endpoints = [ep("plain"), ep("tooled", params={"tools"})]
    chosen = run(endpoints, needs={"tools"})
    assert names(chosen) == ["tooled"]
    assert reasons(chosen) == {"plain": "tools not supported (soft filter)"}
    nobody = run([ep("plain"), ep("plain2")], needs={"tools", "response_format"})
    assert sorted(names(nobody)) == ["plain", "plain2"]
    assert nobody.excluded == []


def test_open_breakers_go_last_and_stay_as_a_last_resort() -> None:
    stats = EndpointStats(StatsConfig(breaker=BreakerConfig(failure_threshold=2, cooldown_s=60)))
    a, b = ep("a", 1.0), ep("b", 5.0)
    _failures(stats, a, 2, now=1_000.0)
    for seed in range(20):  # a is cheaper (the 1/p² draw favours it 25:1), yet it goes last
        chosen = run([a, b], stats=stats, now=1_001.0, seed=seed)
        assert names(chosen) == ["b", "a"]
    assert chosen.excluded == []
    assert {e.provider: why for e, why in chosen.demoted} == {"a": "circuit breaker open"}
    _failures(stats, b, 2, now=1_000.0)
    both_open = run([a, b], stats=stats, now=1_001.0, seed=3)
    assert sorted(names(both_open)) == ["a", "b"]
    assert len(both_open.demoted) == 2
    half_open = run([a, b], stats=stats, now=1_061.0)
    assert sorted(names(half_open)) == ["a", "b"]
    assert half_open.excluded == []
    assert half_open.demoted == []


def test_an_endpoint_cooling_down_after_retry_after_goes_last_until_then() -> None:
    stats = _stats()
    a, b = ep("a", 1.0), ep("b", 1.0)
    stats.cool_down(a.id, until=1_030.0, now=1_000.0)
    prefs = ProviderPreferences(order=("a", "b"))
    assert names(run([a, b], prefs, stats=stats, now=1_000.0)) == ["b", "a"]
    assert names(run([a, b], prefs, stats=stats, now=1_029.9)) == ["b", "a"]
    assert names(run([a, b], prefs, stats=stats, now=1_030.0)) == ["a", "b"]


def test_a_huge_retry_after_is_capped() -> None:
    stats = EndpointStats(StatsConfig(breaker=BreakerConfig(max_cooldown_s=60)))
    stats.cool_down("e", until=1e12, now=0.0)
    assert stats.resting("e", now=59.9) == "cooling down (retry-after)"
    assert stats.resting("e", now=60.0) is None


# --- order and sort ------------------------------------------------------------------


def test_order_puts_listed_providers_first_then_the_rest_by_price() -> None:
    endpoints = [ep("a", 3.0), ep("b", 1.0), ep("c", 2.0), ep("d", 0.5)]
    chosen = run(endpoints, ProviderPreferences(order=("c", "a")))
    assert names(chosen) == ["c", "a", "d", "b"]
    assert chosen.mode == "order"


def test_order_without_fallbacks_uses_only_the_listed() -> None:
    endpoints = [ep("a", 3.0), ep("b", 1.0), ep("c", 2.0)]
    chosen = run(endpoints, ProviderPreferences(order=("c", "a"), allow_fallbacks=False))
    assert names(chosen) == ["c", "a"]
    assert reasons(chosen) == {"b": "order (allow_fallbacks is false)"}


def test_order_entry_matching_several_regions_takes_them_by_price() -> None:
    endpoints = [ep("vertex/eu", 2.0), ep("vertex/us", 1.0), ep("groq", 0.1)]
    assert names(run(endpoints, ProviderPreferences(order=("vertex",)))) == [
        "vertex/us",
        "vertex/eu",
        "groq",
    ]


def test_order_then_sorted_rest() -> None:
    stats = _stats()
    a, b, c = ep("a", 1.0), ep("b", 2.0), ep("c", 3.0)
    _streamed(stats, b, ttft=100, tps=10, now=990.0)
    _streamed(stats, c, ttft=100, tps=90, now=990.0)
    prefs = ProviderPreferences(order=("a",), sort=Sort(by="throughput"))
    assert names(run([a, b, c], prefs, stats=stats)) == ["a", "c", "b"]


def test_sort_by_price_puts_unpriced_last() -> None:
    endpoints = [ep("x", None), ep("a", 3.0), ep("b", 1.0), ep("c", 2.0)]
    chosen = run(endpoints, parse_preferences({"sort": "price"}))
    assert names(chosen) == ["b", "c", "a", "x"]
    assert chosen.mode == "sort"


def test_sort_by_throughput_and_latency_from_stats() -> None:
    stats = _stats()
    slow, fast, quick, unseen = (
        ep("slow", 1.0),
        ep("fast", 2.0),
        ep("quick", 3.0),
        ep("unseen", 0.1),
    )
    _streamed(stats, slow, ttft=900, tps=20, now=990.0)
    _streamed(stats, fast, ttft=500, tps=200, now=990.0)
    _streamed(stats, quick, ttft=50, tps=80, now=990.0)
    endpoints = [slow, fast, quick, unseen]
    # An endpoint with no traffic in the window is tried first, once, to be
    # measured (bench/aggregation.py showed a cold start otherwise never
    # finds the fast providers); the measured ones follow, best first.
    by_tput = run(endpoints, parse_preferences({"sort": "throughput"}), stats=stats)
    assert names(by_tput) == ["unseen", "fast", "quick", "slow"]
    by_latency = run(endpoints, parse_preferences({"sort": {"by": "latency"}}), stats=stats)
    assert names(by_latency) == ["unseen", "quick", "fast", "slow"]
    exacto = run(endpoints, parse_preferences({"sort": "exacto"}), stats=stats)
    assert names(exacto) == names(by_tput)


def test_sort_puts_unmeasured_and_failing_endpoints_after_measured_ones() -> None:
    stats = _stats()
    measured, failed_once, failing = ep("measured", 3.0), ep("failed-once", 1.0), ep("failing", 0.5)
    _streamed(stats, measured, ttft=800, tps=10, now=990.0)
    stats.record(
        failed_once.id, ok=False, timeout=False, status=500, ttft_ms=None, latency_ms=5.0,
        output_tokens=0, now=990.0,
    )  # fmt: skip
    for _ in range(4):
        stats.record(
            failing.id, ok=False, timeout=False, status=503, ttft_ms=None, latency_ms=5.0,
            output_tokens=0, now=995.0,
        )  # fmt: skip
    order = run(
        [failing, failed_once, measured], parse_preferences({"sort": "latency"}), stats=stats
    )
    assert names(order) == ["measured", "failed-once", "failing"]


def test_sort_ties_go_to_the_cheaper() -> None:
    stats = _stats()
    a, b = ep("a", 2.0), ep("b", 1.0)
    for e in (a, b):
        _streamed(stats, e, ttft=100, tps=50, now=990.0)
    assert names(run([a, b], parse_preferences({"sort": "latency"}), stats=stats)) == ["b", "a"]


def test_preferred_thresholds_move_endpoints_to_the_end() -> None:
    stats = _stats()
    a, b, c = ep("a", 1.0), ep("b", 2.0), ep("c", 3.0)
    _streamed(stats, a, ttft=3_000, tps=10, now=990.0)  # slow to start, slow to generate
    _streamed(stats, b, ttft=200, tps=40, now=990.0)
    _streamed(stats, c, ttft=200, tps=150, now=990.0)
    by_price = ProviderPreferences(sort=Sort(by="price"))
    latency = parse_preferences({"sort": "price", "preferred_max_latency": 1})  # 1 second
    assert names(run([a, b, c], latency, stats=stats)) == ["b", "c", "a"]
    throughput = parse_preferences({"sort": "price", "preferred_min_throughput": {"p90": 100}})
    assert names(run([a, b, c], throughput, stats=stats)) == ["c", "a", "b"]
    assert names(run([a, b, c], by_price, stats=stats)) == ["a", "b", "c"]
    unseen = ep("d", 0.5)
    kept = run([a, b, c, unseen], throughput, stats=stats)
    assert names(kept) == ["d", "c", "a", "b"]  # no stats: not moved
    assert kept.excluded == []


# --- default load balancing ---------------------------------------------------------------


def _first_choices(endpoints: list[EndpointInfo], draws: int, **kw: object) -> Counter[str]:
    rng = random.Random(20240601)
    stats = kw.pop("stats", None) or _stats()
    counts: Counter[str] = Counter()
    for _ in range(draws):
        chosen = select(
            endpoints,
            ProviderPreferences(),
            params=(),
            needs=(),
            prompt_tokens_estimate=100,
            stats=stats,  # type: ignore[arg-type]
            rng=rng,
            now=kw.get("now", 1_000.0),  # type: ignore[arg-type]
        )
        counts[chosen.ordered[0].provider] += 1
    return counts


def _within_4_sigma(count: int, draws: int, p: float) -> bool:
    return abs(count - draws * p) <= 4 * math.sqrt(draws * p * (1 - p))


def test_first_choice_is_weighted_by_inverse_square_price() -> None:
    draws = 20_000
    counts = _first_choices([ep("a", 1.0), ep("b", 2.0), ep("c", 3.0)], draws)
    # weights 1, 1/4, 1/9 = 36/49, 9/49, 4/49
    for name, p in (("a", 36 / 49), ("b", 9 / 49), ("c", 4 / 49)):
        assert _within_4_sigma(counts[name], draws, p), (name, counts)
    # and not inverse-linear (the older documented rule): 6/11, 3/11, 2/11
    assert not _within_4_sigma(counts["a"], draws, 6 / 11)


def test_unpriced_endpoint_weighs_as_the_median_price() -> None:
    draws = 20_000
    counts = _first_choices([ep("a", 1.0), ep("x", None), ep("c", 3.0)], draws)
    # median of $1 and $3 = $2
    for name, p in (("a", 36 / 49), ("x", 9 / 49), ("c", 4 / 49)):
        assert _within_4_sigma(counts[name], draws, p), (name, counts)


def test_fallbacks_follow_by_price() -> None:
    a, b, c = ep("a", 1.0), ep("b", 2.0), ep("c", 3.0)
    seen: set[tuple[str, ...]] = set()
    for seed in range(200):
        seen.add(tuple(names(run([c, a, b], seed=seed))))
    assert seen == {("a", "b", "c"), ("b", "a", "c"), ("c", "a", "b")}


def test_failing_endpoint_goes_last_for_30_seconds() -> None:
    stats = _stats()
    a, b, c = ep("a", 1.0), ep("b", 2.0), ep("c", 3.0)
    _failures(stats, b, 3, now=100.0)
    during: set[tuple[str, ...]] = set()
    for seed in range(300):
        during.add(tuple(names(run([a, b, c], stats=stats, now=110.0, seed=seed))))
    # OpenRouter's example: "if A fails, C is tried, then B"
    assert during == {("a", "c", "b"), ("c", "a", "b")}
    after = _first_choices([a, b, c], 5_000, stats=stats, now=131.0)
    assert _within_4_sigma(after["b"], 5_000, 9 / 49)


def test_a_single_endpoint_needs_no_draw() -> None:
    class NoRandom(random.Random):
        def random(self) -> float:
            raise AssertionError("no draw expected")

    chosen = select(
        [ep("a")],
        ProviderPreferences(),
        params=(),
        needs=(),
        prompt_tokens_estimate=10,
        stats=_stats(),
        rng=NoRandom(),
        now=0.0,
    )
    assert names(chosen) == ["a"]


def test_free_endpoints_win_the_draw() -> None:
    counts = _first_choices([ep("free", 0.0), ep("paid", 0.01)], 2_000)
    assert counts["free"] == 2_000


def test_default_mode_prefers_endpoints_meeting_thresholds() -> None:
    stats = _stats()
    a, b = ep("a", 1.0), ep("b", 2.0)
    _streamed(stats, a, ttft=5_000, tps=5, now=990.0)
    _streamed(stats, b, ttft=100, tps=100, now=990.0)
    prefs = ProviderPreferences(preferred_max_latency=PercentileCutoffs(p50=1.0))
    for seed in range(50):
        assert names(run([a, b], prefs, stats=stats, seed=seed)) == ["b", "a"]


# --- nothing left --------------------------------------------------------------------


def test_no_endpoint_left_names_each_constraint() -> None:
    endpoints = [ep("sim-a", 1.2), ep("sim-b", 0.5)]
    prefs = parse_preferences({"max_price": {"prompt": 1}, "ignore": ["sim-b"]})
    with pytest.raises(GatewayError) as caught:
        select(
            endpoints,
            prefs,
            params=(),
            needs=(),
            prompt_tokens_estimate=10,
            stats=_stats(),
            rng=random.Random(0),
            now=0.0,
            model="x",
        )
    err = caught.value
    assert (err.kind, err.status, err.code) == ("not_found", 404, "no_endpoints")
    assert err.message == (
        "no endpoint of model x meets the request's provider preferences: "
        "sim-a excluded by max_price.prompt (1.20 > 1.00), sim-b excluded by ignore"
    )


def test_model_without_endpoints() -> None:
    with pytest.raises(GatewayError, match="model y has no endpoints"):
        select(
            [],
            ProviderPreferences(),
            params=(),
            needs=(),
            prompt_tokens_estimate=10,
            stats=_stats(),
            rng=random.Random(0),
            now=0.0,
            model="y",
        )


def test_promote_for_sticky_routing() -> None:
    chosen = run([ep("a", 1.0), ep("b", 2.0)], ProviderPreferences(sort=Sort(by="price")))
    assert names(chosen.promote("m@b")) == ["b", "a"]
    assert chosen.promote("m@a") is chosen
    assert chosen.promote("m@gone") is chosen
