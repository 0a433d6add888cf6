"""The shared counters when Redis goes away and comes back: fail closed
(503) or open (a per-process share), loud logs, recovery without restart;
and the round trips an admission and a settle cost."""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path

import pytest
import pytest_asyncio

from _counter_servers import fresh_database, reachable
from _tcp_proxy import TcpProxy
from junction.stores import Check, Correction, Window
from junction.stores.postgres.counters import PostgresCounters
from junction.stores.redis.counters import RedisCounters
from junction.stores.resilient import ResilientCounters
from junction.types import GatewayError

T0 = 1_800_000_000.0
MIGRATION = (
    Path(__file__).resolve().parents[2]
    / "src/junction/stores/migrations/postgres/0003_counters.sql"
)


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest_asyncio.fixture
async def proxy() -> AsyncIterator[TcpProxy]:
    await reachable("redis")
    p = TcpProxy("127.0.0.1", 6379)
    await p.start()
    yield p
    await p.stop()


@pytest_asyncio.fixture
async def redis_counters(proxy: TcpProxy) -> AsyncIterator[RedisCounters]:
    c = RedisCounters(proxy.url, f"junction-test:{secrets.token_hex(6)}:")
    yield c
    await c.close()


def rpm(limit: float) -> Check:
    return Check("key:k1", "requests", limit, 1, Window(sliding=60))


async def test_admit_and_settle_are_one_round_trip_each(
    proxy: TcpProxy, redis_counters: RedisCounters
) -> None:
    tokens = Check("key:k1", "tokens", 10_000, 10, Window(sliding=60))
    checks = [rpm(1000), tokens, Check("key:k1", "parallel", 100, 1, Window())]
    first = await redis_counters.admit(checks, T0)  # loads the scripts
    await redis_counters.settle(first.lease, [Correction(tokens, 5)], T0)
    before = proxy.writes
    for i in range(20):
        verdict = await redis_counters.admit(checks, T0 + i * 0.1)
        assert verdict.admitted
    admits = proxy.writes - before
    before = proxy.writes
    for _ in range(20):
        await redis_counters.settle(verdict.lease, [Correction(tokens, 5)], T0 + 3)
    settles = proxy.writes - before
    print(f"round trips: admit {admits / 20:g}, settle {settles / 20:g}")
    assert admits == 20
    assert settles == 20


async def test_fail_closed_refuses_with_503_and_recovers(
    proxy: TcpProxy, redis_counters: RedisCounters, caplog: pytest.LogCaptureFixture
) -> None:
    clock = Clock()
    counters = ResilientCounters(redis_counters, "closed", 2, clock=clock)
    assert (await counters.admit([rpm(10)], T0)).admitted
    await proxy.stop()
    with caplog.at_level(logging.INFO, logger="junction.stores"):
        with pytest.raises(GatewayError) as refused:
            await counters.admit([rpm(10)], T0 + 1)
        assert refused.value.status == 503
        assert refused.value.kind == "overloaded"
        assert "unreachable" in refused.value.message
        assert counters.degraded
        assert counters.store_errors == 1
        for _ in range(5):  # within the second: the store is not tried again
            with pytest.raises(GatewayError):
                await counters.admit([rpm(10)], T0 + 1)
        assert counters.store_errors == 1
        clock.now += 1.5
        with pytest.raises(GatewayError):
            await counters.admit([rpm(10)], T0 + 2)
        assert counters.store_errors == 2
        errors = [r for r in caplog.records if r.levelno == logging.ERROR]
        assert len(errors) == 1  # loud once, then at most every 10 s
        await proxy.start()
        clock.now += 1.5
        back = await counters.admit([rpm(10)], T0 + 3)
    assert back.admitted
    assert back.used == [1.0]  # the shared count, kept by Redis
    assert not counters.degraded
    assert any(r.levelno == logging.INFO and "again" in r.message for r in caplog.records)


async def test_fail_open_admits_a_per_process_share(
    proxy: TcpProxy, redis_counters: RedisCounters
) -> None:
    clock = Clock()
    counters = ResilientCounters(redis_counters, "open", 3, clock=clock)
    await proxy.stop()
    verdicts = [await counters.admit([rpm(10)], T0 + i * 0.01) for i in range(10)]
    assert sum(v.admitted for v in verdicts) == 4  # ceil(10 / 3), not 10
    assert counters.degraded
    assert verdicts[0].lease.startswith("fallback/")
    assert verdicts[-1].refused is not None
    assert verdicts[-1].refused.limit == 4
    # a concurrency lease of the fallback is released by the fallback
    parallel = Check("key:k1", "parallel", 2, 1, Window())
    one = await counters.admit([parallel], T0 + 1)
    assert one.admitted
    assert not (await counters.admit([parallel], T0 + 1)).admitted  # share: ceil(2 / 3) = 1
    await counters.settle(one.lease, [Correction(parallel, 0)], T0 + 1)
    assert (await counters.admit([parallel], T0 + 1)).admitted
    await proxy.start()
    clock.now += 1.5
    shared = await counters.admit([rpm(10)], T0 + 2)
    assert shared.admitted
    assert not shared.lease.startswith("fallback/")
    assert shared.used == [0.0]  # the fallback's counts stay in the fallback
    assert not counters.degraded


async def test_concurrent_requests_try_a_down_store_once_a_second(
    proxy: TcpProxy, redis_counters: RedisCounters
) -> None:
    clock = Clock()
    counters = ResilientCounters(redis_counters, "open", 2, clock=clock)
    await proxy.stop()
    await counters.admit([rpm(100)], T0)
    assert counters.store_errors == 1
    clock.now += 1.5
    await asyncio.gather(*(counters.admit([rpm(100)], T0 + 1) for _ in range(20)))
    assert counters.store_errors == 2  # one try for the 20, not 20


async def test_an_unreachable_port_is_store_unavailable_quickly() -> None:
    proxy = TcpProxy("127.0.0.1", 6379)
    await proxy.start()
    port = proxy.port
    await proxy.stop()  # nothing listens there now
    counters = ResilientCounters(
        RedisCounters(f"redis://127.0.0.1:{port}/0"), "closed", 1, clock=Clock()
    )
    with pytest.raises(GatewayError) as refused:
        await counters.admit([rpm(1)], T0)
    assert refused.value.status == 503
    await counters.close()


async def test_postgres_admit_round_trips() -> None:
    """PostgreSQL's admission is one transaction of a few statements."""

    await reachable("postgres")
    migration = MIGRATION
    async with AsyncExitStack() as stack:
        url = await stack.enter_async_context(fresh_database(migration.read_text()))
        proxy = TcpProxy("127.0.0.1", 5432)
        await proxy.start()
        stack.push_async_callback(proxy.stop)
        counters = PostgresCounters(url.replace(":5432/", f":{proxy.port}/"))
        stack.push_async_callback(counters.close)
        tokens = Check("key:k1", "tokens", 10_000, 10, Window(sliding=60))
        checks = [rpm(1000), tokens, Check("key:k1", "parallel", 100, 1, Window())]
        first = await counters.admit(checks, T0)  # prepares the statements
        await counters.settle(first.lease, [Correction(tokens, 5)], T0)
        before = proxy.writes
        for i in range(20):
            verdict = await counters.admit(checks, T0 + i * 0.1)
        admits = proxy.writes - before
        before = proxy.writes
        for _ in range(20):
            await counters.settle(verdict.lease, [Correction(tokens, 5)], T0 + 3)
        settles = proxy.writes - before
        print(f"postgres round trips: admit {admits / 20:g}, settle {settles / 20:g}")
        assert admits <= 5 * 20
        assert settles == 20


async def test_redis_counters_carry_their_window_as_ttl(redis_counters: RedisCounters) -> None:
    import redis.asyncio as aioredis

    from _counter_servers import REDIS_URL

    start = T0 - 100
    checks = [
        rpm(5),
        Check("key:k1", "parallel", 5, 1, Window()),
        Check("key:k1", "spend", 5.0, 1.0, Window(start=start, end=T0 + 3600)),
        Check("key:k1", "spend", 5.0, 1.0, Window(rolling=86400)),
    ]
    assert (await redis_counters.admit(checks, T0)).admitted
    client = aioredis.Redis.from_url(REDIS_URL)
    try:
        ttls = [await client.ttl(redis_counters.prefix + c.counter) for c in checks]
    finally:
        await client.aclose()
    assert 59 <= ttls[0] <= 61
    assert 15 * 60 <= ttls[1] <= 16 * 60
    assert 3600 + 86400 - 2 <= ttls[2] <= 3600 + 86400
    assert 25 * 3600 - 2 <= ttls[3] <= 25 * 3600


async def test_a_long_outage_logs_again_every_ten_seconds(
    proxy: TcpProxy, redis_counters: RedisCounters, caplog: pytest.LogCaptureFixture
) -> None:
    clock = Clock()
    counters = ResilientCounters(redis_counters, "open", 2, clock=clock)
    await proxy.stop()
    with caplog.at_level(logging.ERROR, logger="junction.stores"):
        for _ in range(25):  # 25 s of outage, a try each second
            clock.now += 1.01
            await counters.admit([rpm(100)], T0)
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 3  # at 0, ~10 and ~20 s
    assert counters.store_errors == 25
