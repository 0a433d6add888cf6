"""One suite for every Counters backend: Redis and PostgreSQL on the real
servers (skipped when unreachable, failed under CI=true), the in-process
fallback, and MemoryCounters when it is importable."""

from __future__ import annotations

import asyncio
import math
import secrets
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack
from pathlib import Path

import pytest
import pytest_asyncio

from _counter_servers import REDIS_URL, fresh_database, reachable
from junction.stores import Check, Correction, Counters, Window
from junction.stores.memory import MemoryCounters as InProcessCounters
from junction.stores.postgres.counters import PostgresCounters
from junction.stores.redis.counters import RedisCounters
from junction.stores.windows import LEASE_SECONDS

try:
    from junction.stores.memory.counters import MemoryCounters  # type: ignore[import-not-found]
except ImportError:  # written on another branch
    MemoryCounters = None

MIGRATION = (
    Path(__file__).resolve().parents[2]
    / "src/junction/stores/migrations/postgres/0003_counters.sql"
)
BACKENDS = ["redis", "postgres", "in-process", "memory"]
T0 = 1_800_000_000.25  # an injected clock: no test sleeps

Twin = Callable[[], tuple[Counters, Counters]]


@pytest_asyncio.fixture(scope="module")
async def databases() -> AsyncIterator[AsyncExitStack]:
    """Closes the fresh database, when a test made one, after the module."""
    async with AsyncExitStack() as stack:
        yield stack


async def postgres_url(stack: AsyncExitStack, cache: dict[str, str] = {}) -> str:  # noqa: B006
    """One fresh database for this module's run, made on first use."""
    await reachable("postgres")
    if "url" not in cache:
        cache["url"] = await stack.enter_async_context(fresh_database(MIGRATION.read_text()))
    return cache["url"]


@pytest_asyncio.fixture(params=BACKENDS)
async def twin(request: pytest.FixtureRequest, databases: AsyncExitStack) -> AsyncIterator[Twin]:
    """Two handles on one backend's counters: two clients (two processes'
    worth) for the shared backends, the same object for in-process ones."""
    name = request.param
    made: list[Counters] = []
    if name == "redis":
        await reachable("redis")
        prefix = f"junction-test:{secrets.token_hex(6)}:"

        def pair() -> tuple[Counters, Counters]:
            a, b = RedisCounters(REDIS_URL, prefix), RedisCounters(REDIS_URL, prefix)
            made.extend((a, b))
            return a, b
    elif name == "postgres":
        url = await postgres_url(databases)

        def pair() -> tuple[Counters, Counters]:
            a, b = PostgresCounters(url), PostgresCounters(url)
            made.extend((a, b))
            return a, b
    else:
        if name == "memory" and MemoryCounters is None:
            pytest.skip("junction.stores.memory.counters is not on this branch")
        factory = InProcessCounters if name == "in-process" else MemoryCounters

        def pair() -> tuple[Counters, Counters]:
            one = factory()
            made.append(one)
            return one, one

    yield pair
    for c in made:
        await c.close()


def scope() -> str:
    return f"key:{secrets.token_hex(4)}"


def rpm(who: str, limit: float, hard: bool = True) -> Check:
    return Check(who, "requests", limit, 1, Window(sliding=60), hard)


async def test_sliding_window_is_exact_across_two_processes(twin: Twin) -> None:
    a, b = twin()
    who = scope()
    verdicts = await asyncio.gather(
        *((a if i % 2 else b).admit([rpm(who, 60)], T0 + (i % 10) * 0.05) for i in range(120))
    )
    assert sum(v.admitted for v in verdicts) == 60
    refused = [v for v in verdicts if not v.admitted]
    assert all(v.refused == rpm(who, 60) and v.lease == "" for v in refused)
    assert all(v.used == [60.0] and v.reset_at == [int(T0) + 60.0] for v in refused)


async def test_sliding_window_frees_the_oldest_second_first(twin: Twin) -> None:
    c, _ = twin()
    who = scope()
    base = 1000.0
    for t in (base + 0.1, base + 0.9, base + 30.5):
        assert (await c.admit([rpm(who, 3)], t)).admitted
    full = await c.admit([rpm(who, 3)], base + 59.99)
    assert not full.admitted
    assert full.used == [3.0]
    assert full.reset_at == [base + 60]  # when second 1000 leaves the window
    again = await c.admit([rpm(who, 3)], base + 60.0)
    assert again.admitted
    assert again.used == [1.0]
    assert again.reset_at == [base + 30 + 60]


async def test_tokens_estimate_is_corrected_by_settle(twin: Twin) -> None:
    a, b = twin()
    who = scope()
    estimate = Check(who, "tokens", 100, 40, Window(sliding=60))
    first = await a.admit([estimate], T0)
    assert first.admitted
    await b.settle(first.lease, [Correction(estimate, 10)], T0 + 1)  # another process settles
    big = Check(who, "tokens", 100, 90, Window(sliding=60))
    second = await a.admit([big], T0 + 2)
    assert second.admitted
    assert second.used == [10.0]
    third = await b.admit([Check(who, "tokens", 100, 1, Window(sliding=60))], T0 + 3)
    assert not third.admitted
    assert third.used == [100.0]


async def test_parallel_leases_are_released_by_settle_or_expire(twin: Twin) -> None:
    a, b = twin()
    who = scope()
    lease = Check(who, "parallel", 2, 1, Window())
    one = await a.admit([lease], T0)
    two = await b.admit([lease], T0)
    assert one.admitted
    assert two.admitted
    assert two.used == [1.0]
    third = await a.admit([lease], T0 + 1)
    assert not third.admitted
    assert third.used == [2.0]
    assert third.reset_at == [T0 + 1]
    await b.settle(one.lease, [Correction(lease, 0)], T0 + 2)
    four = await a.admit([lease], T0 + 3)
    assert four.admitted
    assert four.used == [1.0]
    # nobody settles two and four: they expire, as if their process had died
    late = await a.admit([lease], T0 + 3 + LEASE_SECONDS + 1)
    assert late.admitted
    assert late.used == [0.0]


async def test_calendar_spend_counts_per_period_and_resets_at_its_end(twin: Twin) -> None:
    a, b = twin()
    who = scope()
    day = 86400.0
    start = 1_799_971_200.0
    june = Window(start=start, end=start + day)
    reserve = Check(who, "spend", 1.0, 0.4, june)
    first = await a.admit([reserve], start + 10)
    assert first.admitted
    assert first.reset_at == [start + day]
    await b.settle(first.lease, [Correction(reserve, 0.25)], start + 11)
    assert (await b.admit([reserve], start + 12)).used == [pytest.approx(0.25)]
    over = await a.admit([Check(who, "spend", 1.0, 0.5, june)], start + 13)
    assert not over.admitted  # 0.25 + 0.4 + 0.5 > 1
    assert over.used == [pytest.approx(0.65)]
    next_day = Window(start=start + day, end=start + 2 * day)
    fresh = await a.admit([Check(who, "spend", 1.0, 0.5, next_day)], start + day + 1)
    assert fresh.admitted
    assert fresh.used == [0.0]
    assert fresh.reset_at == [start + 2 * day]


async def test_seed_restores_a_missing_spend_total_only(twin: Twin) -> None:
    a, b = twin()
    who = scope()
    window = Window(start=5000.0, end=9000.0)
    check = Check(who, "spend", 1.0, 0.2, window)
    await a.seed(check, [(3600.0, 0.5), (7200.0, 0.4)], 7300)
    await b.seed(check, [(7200.0, 0.1)], 7300)  # present: no-op
    refused = await a.admit([check], 7301)
    assert not refused.admitted
    assert refused.used == [pytest.approx(0.9)]


async def test_seed_restores_a_rolling_window_hour_by_hour(twin: Twin) -> None:
    a, b = twin()
    who = scope()
    hour = 3600.0
    spend = Check(who, "spend", 2.0, 0.5, Window(rolling=3 * hour))
    now = 20 * hour + 5
    spent = [(16 * hour, 9.0), (18 * hour, 0.75), (20 * hour, 0.5)]  # hour 16 is outside
    await a.seed(spend, spent, now)
    await b.seed(spend, [(20 * hour, 5.0)], now)  # present: no-op
    verdict = await b.admit([spend], now)
    assert verdict.admitted
    assert verdict.used == [pytest.approx(1.25)]
    assert verdict.reset_at == [21 * hour]  # hour 18 leaves the window first
    later = await a.admit([spend], 21 * hour + 1)  # hour 18 has left
    assert later.used == [pytest.approx(1.0)]


async def test_a_total_budget_counts_forever(twin: Twin) -> None:
    a, b = twin()
    spend = Check(scope(), "spend", 1.0, 0.4, Window(start=0.0, end=math.inf))
    first = await a.admit([spend], T0)
    assert first.admitted
    assert first.reset_at == [math.inf]
    await b.settle(first.lease, [Correction(spend, 0.3)], T0 + 1)
    much_later = await b.admit([spend], T0 + 10**8)  # three years on: still counted
    assert much_later.used == [pytest.approx(0.3)]


async def test_rolling_spend_counts_hour_buckets(twin: Twin) -> None:
    a, _ = twin()
    who = scope()
    hour = 3600.0
    two_hours = Window(rolling=2 * hour)
    spend = Check(who, "spend", 2.0, 1.0, two_hours)
    assert (await a.admit([spend], 10 * hour + 5)).admitted
    second = await a.admit([spend], 11 * hour + 5)
    assert second.admitted
    assert second.used == [1.0]
    assert second.reset_at == [12 * hour]  # hour 10 leaves the window
    full = await a.admit([spend], 11 * hour + 6)
    assert not full.admitted
    assert full.used == [2.0]
    later = await a.admit([spend], 12 * hour)
    assert later.admitted
    assert later.used == [1.0]
    assert later.reset_at == [13 * hour]


async def test_a_refused_admission_counts_nothing(twin: Twin) -> None:
    a, b = twin()
    who = scope()
    fits = rpm(who, 10)
    soft = Check(who, "tokens", 5, 50, Window(sliding=60), hard=False)
    too_big = Check(who + "-team", "spend", 1.0, 2.0, Window(start=0.0, end=T0 * 2))
    lease = Check(who, "parallel", 1, 1, Window())
    verdict = await a.admit([fits, soft, lease, too_big], T0)
    assert not verdict.admitted
    assert verdict.refused == too_big
    assert verdict.lease == ""
    assert verdict.used == [0.0, 0.0, 0.0, 0.0]
    after = await b.admit([fits, soft, lease], T0 + 1)
    assert after.admitted
    assert after.used == [0.0, 0.0, 0.0]  # nothing of the refused one was counted
    # a soft check never refuses, and is counted when the request is admitted
    again = await b.admit([fits, soft], T0 + 2)
    assert again.admitted
    assert again.used == [1.0, 50.0]


async def test_the_first_refusing_hard_check_is_named(twin: Twin) -> None:
    a, _ = twin()
    who = scope()
    for _ in range(2):
        assert (await a.admit([rpm(who, 2)], T0)).admitted
    tokens = Check(who, "tokens", 1, 5, Window(sliding=60))
    verdict = await a.admit([rpm(who, 2), tokens], T0)
    assert verdict.refused == rpm(who, 2)
    assert verdict.used == [2.0, 0.0]
    assert verdict.reset_at == [int(T0) + 60.0, int(T0) + 60.0]


async def test_postgres_sweeps_expired_rows_of_unused_counters(databases: AsyncExitStack) -> None:
    import asyncpg

    url = await postgres_url(databases)
    who = scope()
    old = Check(who, "spend", 1.0, 0.1, Window(start=0.0, end=1000.0))
    first = PostgresCounters(url)
    assert (await first.admit([old], 10.0)).admitted
    await first.close()
    later = PostgresCounters(url)  # a new process: its first admission sweeps
    assert (await later.admit([rpm(scope(), 5)], 1000.0 + 86400 + 1)).admitted
    await later.close()
    conn = await asyncpg.connect(url)
    try:
        left = await conn.fetchval("SELECT count(*) FROM counters WHERE name = $1", old.counter)
    finally:
        await conn.close()
    assert left == 0
