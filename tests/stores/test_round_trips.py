"""What the policy costs on Redis, counted at a TCP proxy in front of the
real server: one round trip to admit a request (every limit and budget of
its key and team together), sent before the upstream call; its settle after
the response, off the request's path; and a batch of settles in one."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator

import pytest_asyncio

from _counter_servers import reachable
from _tcp_proxy import TcpProxy
from junction.config import key_digest, parse_config
from junction.gateway import Gateway, Trace
from junction.sim import start
from junction.stores import Check, Correction, KeyRecord, Limits, Stores, TeamRecord, Window
from junction.stores.memory import MemoryRecords
from junction.stores.redis.counters import RedisCounters
from junction.stores.resilient import ResilientCounters
from junction.transport import Transport
from junction.types import ChatRequest, Message, TextPart

SECRET = "sk-jx-round-trips-0001"
LIMITS = Limits(
    rpm=1000, tpm=10**7, max_parallel=100, budget_usd=100.0, soft_budget_usd=50.0,
    budget_period="daily",
)  # fmt: skip
T0 = 1_800_000_000.0


class NothingSpent:
    """A durable record with no spend (so seeding is on, and costs nothing
    once each counter exists)."""

    async def spent(self, check: Check, now: float) -> list[tuple[float, float]]:
        return []


@pytest_asyncio.fixture
async def proxy() -> AsyncIterator[TcpProxy]:
    await reachable("redis")
    p = TcpProxy("127.0.0.1", 6379)
    await p.start()
    yield p
    await p.stop()


@pytest_asyncio.fixture
async def gateway(proxy: TcpProxy) -> AsyncIterator[Gateway]:
    runner, sim = await start()
    config = parse_config(
        f"""
models:
  sim/openai:
    deployments:
      - {{provider: openai, model: gpt-4o-mini, base_url: "{sim}/v1", api_key: k}}
""",
        {},
    )
    redis = RedisCounters(proxy.url, f"junction-test:{secrets.token_hex(6)}:")
    redis.restore_spend_from(NothingSpent())
    stores = Stores(MemoryRecords(), ResilientCounters(redis, "closed", 1))
    await stores.records.add_team(TeamRecord(id="team_1", name="t", created_at=0, limits=LIMITS))
    await stores.records.add_key(
        KeyRecord(
            id="key_1",
            name="k",
            key_hash=key_digest(SECRET),
            prefix="sk-jx-round",
            created_at=0,
            team="team_1",
            limits=LIMITS,
        )
    )
    made = Gateway(config, Transport(), stores=stores, env={"JUNCTION_MASTER_KEY": "sk-m-0123"})
    try:
        yield made
    finally:
        await made.close()
        await runner.cleanup()


def request() -> ChatRequest:
    return ChatRequest(
        model="sim/openai",
        messages=[Message(role="user", content=[TextPart(text="hello")])],
        max_tokens=8,
    )


async def test_a_request_is_admitted_in_one_round_trip_and_settled_after_it(
    proxy: TcpProxy, gateway: Gateway
) -> None:
    principal = await gateway.authenticate(SECRET)
    await gateway.chat(request(), Trace(key=principal))  # loads the scripts, seeds the budgets
    await gateway.admission.drain()
    admits, settles = [], []
    for _ in range(10):
        before = proxy.writes
        response = await gateway.chat(request(), Trace(key=principal))
        admits.append(proxy.writes - before)
        assert response.usage is not None
        assert response.usage.cost
        before = proxy.writes
        await gateway.admission.drain()
        settles.append(proxy.writes - before)
    print(f"round trips per request: admit {admits}, settle {settles}")
    assert admits == [1] * 10  # 8 checks (rpm, tpm, parallel, budget of key and team): one script
    assert settles == [1] * 10  # sent once the response was returned, not before


async def test_a_batch_of_settles_is_one_round_trip(proxy: TcpProxy) -> None:
    counters = RedisCounters(proxy.url, f"junction-test:{secrets.token_hex(6)}:")
    try:
        tokens = Check("key:k1", "tokens", 10**6, 10, Window(sliding=60))
        parallel = Check("key:k1", "parallel", 100, 1, Window())
        leases = [(await counters.admit([tokens, parallel], T0)).lease for _ in range(20)]
        first = [Correction(tokens, 5), Correction(parallel, 0)]
        await counters.settle(leases[0], first, T0)  # loads the script
        before = proxy.writes
        await counters.settle_many(
            [(lease, [Correction(tokens, 5), Correction(parallel, 0)]) for lease in leases[1:]], T0
        )
        assert proxy.writes - before == 1
        after = await counters.admit([tokens, parallel], T0)
        assert after.used == [20 * 5.0, 0.0]  # every estimate corrected, every lease released
    finally:
        await counters.close()
