"""``peek``: what an admission would see, counted nothing — on every backend
(Redis and PostgreSQL on the real servers, memory, the resilient wrapper)."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path

import pytest

from _counter_servers import REDIS_URL, fresh_database, reachable
from junction.stores import Check, Correction, CounterReader, Counters, Window
from junction.stores.memory import MemoryCounters
from junction.stores.postgres.counters import PostgresCounters
from junction.stores.redis.counters import RedisCounters
from junction.stores.resilient import ResilientCounters

MIGRATION = (
    Path(__file__).resolve().parents[2]
    / "src/junction/stores/migrations/postgres/0003_counters.sql"
)
T0 = 1_800_000_000.25


@pytest.fixture(params=["memory", "redis", "postgres", "resilient"])
async def counters(request: pytest.FixtureRequest) -> AsyncIterator[Counters]:
    async with AsyncExitStack() as stack:
        name = request.param
        made: Counters
        if name == "redis":
            await reachable("redis")
            made = RedisCounters(REDIS_URL, f"junction-test:{secrets.token_hex(6)}:")
        elif name == "postgres":
            await reachable("postgres")
            url = await stack.enter_async_context(fresh_database(MIGRATION.read_text()))
            made = PostgresCounters(url)
        elif name == "resilient":
            made = ResilientCounters(MemoryCounters(), "closed", 1)
        else:
            made = MemoryCounters()
        yield made
        await made.close()


def _checks(who: str) -> list[Check]:
    return [
        Check(who, "requests", 10, 1, Window(sliding=60)),
        Check(who, "tokens", 1000, 300, Window(sliding=60)),
        Check(who, "parallel", 2, 1, Window()),
        Check(who, "spend", 5.0, 0.5, Window(start=T0 - 100, end=T0 + 1000)),
        Check(who, "spend", 5.0, 0.25, Window(rolling=86400.0)),
    ]


async def test_peek_reads_what_admit_counted_and_counts_nothing(counters: Counters) -> None:
    assert isinstance(counters, CounterReader)
    checks = _checks(f"key:{secrets.token_hex(4)}")
    empty = await counters.peek(checks, T0)
    assert empty.admitted
    assert empty.used == [0, 0, 0, 0, 0]
    first = await counters.admit(checks, T0)
    await counters.admit(checks, T0 + 1)
    seen = await counters.peek(checks, T0 + 2)
    assert seen.used == [2, 600, 2, 1.0, 0.5]
    assert seen.lease == ""
    # The parallel limit (2) is full: an admission would be refused, and peek says so.
    assert not seen.admitted
    assert seen.refused is checks[2]
    assert (await counters.peek(checks, T0 + 2)).used == seen.used  # peeking counted nothing
    await counters.settle(first.lease, [Correction(checks[2], 0)], T0 + 3)
    after = await counters.peek(checks, T0 + 3)
    assert after.used[2] == 1
    assert after.admitted
    # The sliding minute forgets; the calendar total and the rolling day do not.
    later = await counters.peek(checks, T0 + 120)
    assert later.used[:2] == [0, 0]
    assert later.used[3:] == [1.0, 0.5]
    assert later.reset_at[3] == T0 + 1000
