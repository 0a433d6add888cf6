"""Endpoint statistics, circuits, cooldowns and sticky routes shared through a real Redis.

Two :class:`SharedRouting` instances stand for two processes: each has its
own connection, its own clock origin and its own background tick, as two
``junction serve`` processes would.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable

import pytest

from _tcp_proxy import TcpProxy
from junction.catalog import Price
from junction.stores.redis.routing import SharedRouting, shared_routing

EP = "sim/openai@sim-openai"
CACHED = Price(input=1.0, output=2.0, cache_read=0.1)


class Offset:
    """A monotonic clock with its own origin (another process's)."""

    def __init__(self, offset: float) -> None:
        self.offset = offset

    def __call__(self) -> float:
        return time.monotonic() + self.offset


@pytest.fixture
async def pair(redis_url: str, redis_prefix: str) -> AsyncIterator[tuple[SharedRouting, ...]]:
    a = shared_routing(redis_url, prefix=redis_prefix, clock=Offset(0.0))
    b = shared_routing(redis_url, prefix=redis_prefix, clock=Offset(-5000.0))
    a.start()
    b.start()
    yield a, b
    await a.close()
    await b.close()


async def within(seconds: float, condition: Callable[[], bool]) -> float:
    """Seconds until ``condition`` held; fails after ``seconds``."""
    start = time.monotonic()
    while not condition():
        assert time.monotonic() - start < seconds, "not within the time allowed"
        await asyncio.sleep(0.02)
    return time.monotonic() - start


def ok(routing: SharedRouting, latency_ms: float, ttft_ms: float = 100.0) -> None:
    now = routing.stats.clock()
    routing.stats.record(
        EP,
        ok=True,
        timeout=False,
        status=200,
        ttft_ms=ttft_ms,
        latency_ms=latency_ms,
        output_tokens=50,
        now=now,
    )


def failure(routing: SharedRouting) -> None:
    now = routing.stats.clock()
    routing.stats.record(
        EP,
        ok=False,
        timeout=False,
        status=500,
        ttft_ms=None,
        latency_ms=20.0,
        output_tokens=0,
        now=now,
    )


async def test_statistics_recorded_on_one_process_are_read_on_the_other(
    pair: tuple[SharedRouting, SharedRouting],
) -> None:
    a, b = pair
    for _ in range(20):
        ok(a, latency_ms=900.0, ttft_ms=300.0)
    assert b.stats.ttft(EP, now=b.stats.clock()) is None
    await within(1.5, lambda: b.stats.ttft(EP, now=b.stats.clock()) is not None)
    ttft = b.stats.ttft(EP, now=b.stats.clock())
    assert ttft is not None
    assert ttft.p50 == 300.0
    assert b.stats.uptime(EP, now=b.stats.clock(), window_s=300.0) == 1.0
    # ...and the other way round, merged with what B saw itself.
    for _ in range(20):
        failure(b)
    await within(1.5, lambda: a.stats.uptime(EP, now=a.stats.clock(), window_s=300.0) == 0.5)
    assert b.stats.uptime(EP, now=b.stats.clock(), window_s=300.0) == 0.5
    assert a.stats.recent_failures(EP, now=a.stats.clock())


async def test_an_opened_circuit_reaches_the_other_process_within_a_second(
    pair: tuple[SharedRouting, SharedRouting],
) -> None:
    a, b = pair
    await asyncio.sleep(0.6)  # both ticks running
    for _ in range(a.stats.config.breaker.failure_threshold):
        failure(a)
    assert a.stats.resting(EP, now=a.stats.clock()) == "circuit breaker open"
    took = await within(1.0, lambda: b.stats.resting(EP, now=b.stats.clock()) is not None)
    assert b.stats.resting(EP, now=b.stats.clock()) == "circuit breaker open"
    assert took < 1.0
    assert b.stats.circuit_state(EP, now=b.stats.clock()) == "open"
    # After the cooldown it is half-open on B too (B may send its own probe).
    later = b.stats.clock() + b.stats.config.breaker.cooldown_s + 1
    assert b.stats.circuit_state(EP, now=later) == "half_open"


async def test_a_retry_after_cooldown_reaches_the_other_process(
    pair: tuple[SharedRouting, SharedRouting],
) -> None:
    a, b = pair
    now = a.stats.clock()
    a.stats.cool_down(EP, until=now + 20.0, now=now)
    await within(1.0, lambda: b.stats.resting(EP, now=b.stats.clock()) is not None)
    assert b.stats.resting(EP, now=b.stats.clock()) == "cooling down (retry-after)"
    assert b.stats.resting(EP, now=b.stats.clock() + 21.0) is None


async def test_sticky_routes_are_shared(pair: tuple[SharedRouting, SharedRouting]) -> None:
    a, b = pair
    assert a.sticky is not None
    assert b.sticky is not None
    assert a.sticky.remember("conv-1", EP, a.stats.clock(), cached_tokens=100, price=CACHED)
    assert not a.sticky.remember("conv-2", EP, a.stats.clock(), cached_tokens=0, price=CACHED)
    await within(
        1.5, lambda: b.sticky is not None and b.sticky.lookup("conv-1", b.stats.clock()) == EP
    )
    await asyncio.sleep(0.6)
    assert b.sticky.lookup("conv-2", b.stats.clock()) is None


async def test_a_process_started_later_gets_the_recent_sticky_routes(
    redis_url: str, redis_prefix: str
) -> None:
    a = shared_routing(redis_url, prefix=redis_prefix)
    a.start()
    assert a.sticky is not None
    a.sticky.remember("conv-late", EP, a.stats.clock(), cached_tokens=10, price=CACHED)
    await asyncio.sleep(0.8)
    late = shared_routing(redis_url, prefix=redis_prefix)
    late.start()
    try:
        await within(
            1.5,
            lambda: (
                late.sticky is not None
                and late.sticky.lookup("conv-late", late.stats.clock()) == EP
            ),
        )
    finally:
        await a.close()
        await late.close()


async def test_redis_down_keeps_routing_locally_and_recovers(
    redis_proxy: TcpProxy, redis_url: str, redis_prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    a = shared_routing(redis_proxy.url, prefix=redis_prefix, interval_s=0.1)
    b = shared_routing(redis_url, prefix=redis_prefix, interval_s=0.1)
    a.start()
    b.start()
    try:
        await asyncio.sleep(0.3)
        await redis_proxy.stop()
        caplog.set_level(logging.WARNING, logger="junction.stores.redis")
        for _ in range(10):
            ok(a, latency_ms=500.0)
        # A works on its own statistics...
        assert a.stats.latency(EP, now=a.stats.clock()) is not None
        await within(2.0, lambda: not a.fanout.reachable)
        await asyncio.sleep(0.5)
        unreachable = [r for r in caplog.records if "unreachable" in r.getMessage()]
        assert len(unreachable) == 1  # logged once, not per tick
        assert b.stats.latency(EP, now=b.stats.clock()) is None
        # ...and what it saw meanwhile reaches B once Redis is back.
        await redis_proxy.start()
        await within(3.0, lambda: b.stats.latency(EP, now=b.stats.clock()) is not None)
        assert a.fanout.reachable
        assert any("reachable again" in r.getMessage() for r in caplog.records)
    finally:
        await a.close()
        await b.close()


async def test_records_too_old_to_matter_are_not_replayed(
    pair: tuple[SharedRouting, SharedRouting],
) -> None:
    a, b = pair
    long_ago = a.stats.clock() - 600.0
    a.stats.record(
        EP,
        ok=True,
        timeout=False,
        status=200,
        ttft_ms=None,
        latency_ms=10.0,
        output_tokens=1,
        now=long_ago,
    )
    ok(a, latency_ms=700.0)
    await within(1.5, lambda: b.stats.latency(EP, now=b.stats.clock()) is not None)
    latency = b.stats.latency(EP, now=b.stats.clock())
    assert latency is not None
    assert latency.p50 == 700.0
    assert b.stats.latency(EP, now=b.stats.clock(), window_s=1800.0) == latency


async def test_the_request_path_sends_nothing_to_redis(
    redis_proxy: TcpProxy, redis_prefix: str
) -> None:
    routing = shared_routing(redis_proxy.url, prefix=redis_prefix, interval_s=3600.0)
    routing.start()
    try:
        await routing.fanout.sync()  # connected
        sent = redis_proxy.bytes_up
        assert routing.sticky is not None
        for i in range(200):  # what a request does: route, record, remember
            now = routing.stats.clock()
            routing.stats.resting(EP, now=now)
            routing.stats.ttft(EP, now=now)
            routing.sticky.lookup(f"conv-{i}", now)
            ok(routing, latency_ms=100.0)
            routing.sticky.remember(f"conv-{i}", EP, now, cached_tokens=5, price=CACHED)
        await asyncio.sleep(0.1)
        assert redis_proxy.bytes_up == sent
        await routing.fanout.sync()  # one tick sends all of it
        assert redis_proxy.bytes_up > sent
        assert not routing.fanout.pending
    finally:
        await routing.close()


async def test_entries_that_are_not_ours_are_skipped(
    pair: tuple[SharedRouting, SharedRouting], redis_url: str, redis_prefix: str
) -> None:
    a, b = pair
    import redis.asyncio

    client = redis.asyncio.Redis.from_url(redis_url)
    stream = f"{redis_prefix}:routing"
    await client.xadd(stream, {"o": "someone-else", "e": b"not msgpack \xc1"})
    await client.xadd(stream, {"unrelated": "fields"})
    await client.aclose()
    ok(a, latency_ms=321.0)
    await within(1.5, lambda: b.stats.latency(EP, now=b.stats.clock()) is not None)
    latency = b.stats.latency(EP, now=b.stats.clock())
    assert latency is not None
    assert latency.p50 == 321.0
