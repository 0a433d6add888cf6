"""Endpoint statistics on a fake clock: percentiles, windows, rates, uptime, breaker."""

from __future__ import annotations

import pytest

from junction.catalog import LiveStats, Percentiles
from junction.routing import BreakerConfig, EndpointStats, StatsConfig

EP = "m@a"


def _ok(
    stats: EndpointStats,
    now: float,
    *,
    ttft: float | None = 100.0,
    latency: float = 1100.0,
    tokens: int = 50,
    ep: str = EP,
) -> None:
    stats.record(
        ep,
        ok=True,
        timeout=False,
        status=200,
        ttft_ms=ttft,
        latency_ms=latency,
        output_tokens=tokens,
        now=now,
    )


def _fail(
    stats: EndpointStats, now: float, *, status: int = 500, timeout: bool = False, ep: str = EP
) -> None:
    stats.record(
        ep,
        ok=False,
        timeout=timeout,
        status=status,
        ttft_ms=None,
        latency_ms=30_000.0 if timeout else 50.0,
        output_tokens=0,
        now=now,
    )


def _fresh() -> EndpointStats:
    return EndpointStats(StatsConfig(refresh_s=0.0))


def test_nearest_rank_percentiles_of_known_samples() -> None:
    stats = _fresh()
    for i in range(1, 11):
        # ttft 100..1000 ms; then i*10 tokens over 1000 ms -> 10..100 tokens/s
        _ok(stats, now=float(i - 1), ttft=100.0 * i, latency=100.0 * i + 1000.0, tokens=10 * i)
    # nearest rank over 10 samples: p50 = 5th, p75 = 8th, p90 = 9th, p99 = 10th
    assert stats.ttft(EP, now=9.0) == Percentiles(p50=500.0, p75=800.0, p90=900.0, p99=1000.0)
    assert stats.latency(EP, now=9.0) == Percentiles(p50=1500.0, p75=1800.0, p90=1900.0, p99=2000.0)
    assert stats.throughput(EP, now=9.0) == Percentiles(p50=50.0, p75=80.0, p90=90.0, p99=100.0)


def test_percentiles_weight_busy_buckets_by_their_request_count() -> None:
    stats = _fresh()
    for _ in range(100):  # 100 requests in one 10 s bucket: the reservoir keeps 16 of them
        _ok(stats, now=0.0, ttft=1.0)
    for _ in range(10):  # 10 in the next bucket
        _ok(stats, now=10.0, ttft=2.0)
    # weights: 100 at 1 ms, 10 at 2 ms (total 110). p90 target 99 <= 100; p99 target 108.9 > 100.
    assert stats.ttft(EP, now=10.0) == Percentiles(p50=1.0, p75=1.0, p90=1.0, p99=2.0)


def test_reservoirs_stay_bounded() -> None:
    stats = EndpointStats(StatsConfig(reservoir=16))
    for i in range(5_000):
        _ok(stats, now=i * 0.001, ttft=float(i))
    bucket = stats._endpoints[EP].fine[0]
    assert bucket is not None
    assert len(bucket.ttft.samples) == 16
    assert bucket.ttft.seen == 5_000
    assert len(stats._endpoints[EP].fine) == 180


def test_samples_leave_the_window_with_the_clock() -> None:
    stats = _fresh()
    _ok(stats, now=0.0, ttft=300.0)
    assert stats.ttft(EP, now=299.0) is not None
    assert stats.ttft(EP, now=300.0) is None  # the 5-minute window has passed
    assert stats.ttft(EP, now=1799.0, window_s=1800.0) is not None
    assert stats.ttft(EP, now=1800.0, window_s=1800.0) is None
    assert stats.ttft("never-seen", now=0.0) is None


def test_non_streamed_requests_have_latency_and_a_whole_request_throughput() -> None:
    stats = _fresh()
    _ok(stats, now=0.0, ttft=None, latency=2000.0, tokens=100)
    assert stats.ttft(EP, now=0.0) is None
    assert stats.latency(EP, now=0.0) == Percentiles(2000.0, 2000.0, 2000.0, 2000.0)
    assert stats.throughput(EP, now=0.0) == Percentiles(50.0, 50.0, 50.0, 50.0)


def test_failures_give_no_latency_samples() -> None:
    stats = _fresh()
    _fail(stats, now=0.0)
    assert stats.latency(EP, now=0.0) is None
    assert stats.throughput(EP, now=0.0) is None


def test_error_and_timeout_rates() -> None:
    stats = _fresh()
    for t in range(3):
        _ok(stats, now=float(t))
    _fail(stats, now=3.0)
    _fail(stats, now=4.0, timeout=True)
    assert stats.error_rate(EP, now=4.0) == pytest.approx(2 / 5)
    assert stats.timeout_rate(EP, now=4.0) == pytest.approx(1 / 5)
    assert stats.error_rate(EP, now=400.0) is None
    assert stats.error_rate("never-seen", now=0.0) is None


def test_uptime_excludes_rate_limited_requests() -> None:
    stats = _fresh()
    for t in range(8):
        _ok(stats, now=float(t))
    _fail(stats, now=8.0)
    _fail(stats, now=8.0)
    for _ in range(5):
        _fail(stats, now=9.0, status=429)
    assert stats.uptime(EP, now=9.0, window_s=300.0) == pytest.approx(8 / 10)
    assert stats.uptime(EP, now=9.0, window_s=1800.0) == pytest.approx(8 / 10)
    assert stats.uptime(EP, now=9.0, window_s=86400.0) == pytest.approx(8 / 10)
    assert stats.uptime("never-seen", now=9.0, window_s=300.0) is None


def test_day_uptime_outlives_the_fine_windows() -> None:
    stats = _fresh()
    _fail(stats, now=0.0)
    _ok(stats, now=3600.0)
    assert stats.uptime(EP, now=3600.0, window_s=1800.0) == 1.0
    assert stats.uptime(EP, now=3600.0, window_s=86400.0) == 0.5
    assert stats.uptime(EP, now=86399.0, window_s=86400.0) == 0.5
    assert stats.uptime(EP, now=86400.0, window_s=86400.0) == 1.0  # the failure's 5-min bucket left


def test_recent_failures_needs_three_failures_and_half_the_requests() -> None:
    stats = _fresh()
    for _ in range(3):
        _fail(stats, now=100.0)
    for _ in range(3):
        _ok(stats, now=100.5)
    assert stats.recent_failures(EP, now=101.0) is True  # 3 of 6 failed
    _ok(stats, now=101.0)
    assert stats.recent_failures(EP, now=101.0) is False  # 3 of 7

    two = _fresh()
    _fail(two, now=0.0)
    _fail(two, now=0.0)
    assert two.recent_failures(EP, now=0.0) is False  # fewer than 3 failures
    assert two.recent_failures("never-seen", now=0.0) is False


def test_recent_failures_expire_after_30_seconds() -> None:
    stats = _fresh()
    for _ in range(3):
        _fail(stats, now=100.2)
    assert stats.recent_failures(EP, now=129.9) is True
    assert stats.recent_failures(EP, now=130.0) is False


def test_circuit_breaker_opens_half_opens_and_closes() -> None:
    stats = EndpointStats(StatsConfig(breaker=BreakerConfig(failure_threshold=3, cooldown_s=10.0)))
    _fail(stats, now=0.0)
    _fail(stats, now=1.0)
    assert stats.circuit_state(EP, now=1.0) == "closed"
    _fail(stats, now=2.0)
    assert stats.circuit_state(EP, now=2.0) == "open"
    assert stats.circuit_state(EP, now=11.9) == "open"
    assert stats.circuit_state(EP, now=12.0) == "half_open"
    _fail(stats, now=13.0)  # the probe failed: open again, from now
    assert stats.circuit_state(EP, now=13.0) == "open"
    assert stats.circuit_state(EP, now=22.9) == "open"
    assert stats.circuit_state(EP, now=23.0) == "half_open"
    _ok(stats, now=23.5)
    assert stats.circuit_state(EP, now=23.5) == "closed"
    assert stats.circuit_state("never-seen", now=0.0) == "closed"


def test_a_success_resets_the_consecutive_failure_count() -> None:
    stats = EndpointStats(StatsConfig(breaker=BreakerConfig(failure_threshold=3, cooldown_s=10.0)))
    _fail(stats, now=0.0)
    _fail(stats, now=0.0)
    _ok(stats, now=0.0)
    _fail(stats, now=0.0)
    _fail(stats, now=0.0)
    assert stats.circuit_state(EP, now=0.0) == "closed"


def test_failures_while_open_do_not_extend_the_cooldown() -> None:
    stats = EndpointStats(StatsConfig(breaker=BreakerConfig(failure_threshold=1, cooldown_s=10.0)))
    _fail(stats, now=0.0)
    _fail(stats, now=5.0)  # e.g. a request that was in flight when the breaker opened
    assert stats.circuit_state(EP, now=10.0) == "half_open"


def test_cached_percentiles_refresh_after_refresh_s() -> None:
    stats = EndpointStats(StatsConfig(refresh_s=1.0))
    _ok(stats, now=0.0, ttft=100.0)
    assert stats.ttft(EP, now=0.0) == Percentiles(100.0, 100.0, 100.0, 100.0)
    _ok(stats, now=0.5, ttft=300.0)
    _ok(stats, now=0.5, ttft=300.0)
    # within refresh_s the cached value is served
    assert stats.ttft(EP, now=0.5) == Percentiles(100.0, 100.0, 100.0, 100.0)
    assert stats.ttft(EP, now=1.0) == Percentiles(300.0, 300.0, 300.0, 300.0)


def test_snapshot_for_the_endpoints_page() -> None:
    stats = _fresh()
    _ok(stats, now=0.0, ttft=200.0, latency=1200.0, tokens=100)
    _fail(stats, now=1.0)
    snap = stats.snapshot(EP, now=1.0)
    assert snap == LiveStats(
        uptime_5m=0.5,
        uptime_30m=0.5,
        uptime_1d=0.5,
        latency_30m=Percentiles(200.0, 200.0, 200.0, 200.0),
        throughput_30m=Percentiles(100.0, 100.0, 100.0, 100.0),
        circuit="closed",
    )
    assert stats.snapshot("never-seen", now=1.0) == LiveStats()


def test_windows_beyond_the_rings_are_refused() -> None:
    stats = _fresh()
    _ok(stats, now=0.0)
    with pytest.raises(ValueError, match="window_s"):
        stats.ttft(EP, now=0.0, window_s=3600.0)
    with pytest.raises(ValueError, match="window_s"):
        stats.recent_failures(EP, now=0.0, window_s=120.0)


def test_a_half_open_circuit_takes_one_probe_at_a_time() -> None:
    stats = EndpointStats(
        config=StatsConfig(
            breaker=BreakerConfig(failure_threshold=2, cooldown_s=30, probe_ttl_s=60)
        )
    )
    for t in (100.0, 101.0):
        stats.record(
            "e",
            ok=False,
            timeout=True,
            status=504,
            ttft_ms=None,
            latency_ms=10_000.0,
            output_tokens=0,
            now=t,
        )
    assert stats.circuit_state("e", now=120.0) == "open"
    assert stats.circuit_state("e", now=131.5) == "half_open"
    stats.begin_probe("e", now=131.5)
    # While the probe is out, nobody else is sent there.
    assert stats.circuit_state("e", now=140.0) == "open"
    # The probe fails: open again, for a full cool-down.
    stats.record(
        "e",
        ok=False,
        timeout=True,
        status=504,
        ttft_ms=None,
        latency_ms=10_000.0,
        output_tokens=0,
        now=141.5,
    )
    assert stats.circuit_state("e", now=150.0) == "open"
    assert stats.circuit_state("e", now=172.0) == "half_open"
    stats.begin_probe("e", now=172.0)
    # A probe whose outcome never comes back frees the endpoint after its TTL.
    assert stats.circuit_state("e", now=231.0) == "open"
    assert stats.circuit_state("e", now=232.5) == "half_open"
    stats.begin_probe("e", now=232.5)
    stats.record(
        "e",
        ok=True,
        timeout=False,
        status=200,
        ttft_ms=50.0,
        latency_ms=80.0,
        output_tokens=5,
        now=233.0,
    )
    assert stats.circuit_state("e", now=233.1) == "closed"


def test_a_probe_is_taken_once_and_given_back_by_its_owner() -> None:
    stats = EndpointStats(
        config=StatsConfig(
            breaker=BreakerConfig(failure_threshold=1, cooldown_s=10, probe_ttl_s=120)
        )
    )
    stats.record(
        "e",
        ok=False,
        timeout=False,
        status=500,
        ttft_ms=None,
        latency_ms=5.0,
        output_tokens=0,
        now=0.0,
    )
    assert stats.begin_probe("e", now=5.0) is False  # still open: nothing to take
    assert stats.begin_probe("e", now=10.0) is True
    assert stats.begin_probe("e", now=10.5) is False  # someone else holds it
    assert stats.resting("e", now=10.5) == "circuit breaker open"
    stats.end_probe("e")  # the attempt ended without a record (e.g. its request was cancelled)
    assert stats.circuit_state("e", now=11.0) == "half_open"
    assert stats.resting("e", now=11.0) is None
    assert stats.begin_probe("e", now=11.0) is True
    assert stats.begin_probe("never-seen", now=11.0) is False
