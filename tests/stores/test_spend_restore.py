"""A budget's spend survives its counters being lost: Redis flushed under a
running gateway (real Redis and PostgreSQL, the real app over a socket),
and the embedded counters after a restart (SQLite), restored from the
request log. Concurrent restores never count the spend twice."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
import redis.asyncio as aioredis

from _serving import serve_on_loopback
from junction.config import parse_config
from junction.server.app import create_app
from junction.server.serving import build_server
from junction.sim import start
from junction.stores import Check, Window
from junction.stores.memory import MemoryCounters
from junction.stores.redis.counters import RedisCounters
from junction.types import GatewayError

MASTER = "sk-master-restore-0123456789"
PRICE = 1000.0
"""USD per million tokens, in and out: a request here costs about $0.02."""
T0 = 1_800_000_000.0


def config(sim: str, stores: str) -> str:
    return f"""
server:
  master_key: {MASTER}
stores:
{stores}
request_log:
  flush_interval: 0.05
models:
  sim/openai:
    deployments:
      - {{provider: openai, model: gpt-4o-mini, base_url: "{sim}/v1", api_key: k,
          price: {{input: {PRICE}, output: {PRICE}}}}}
"""


@dataclass
class Gateway:
    url: str
    app: Any

    async def settle(self) -> None:
        """Wait for the settles, and write the request log (as its writer would soon)."""
        state = self.app.context.state
        await state.gateway.admission.drain()
        await state.request_log.writer.flush()

    def client(self, key: str) -> openai.AsyncOpenAI:
        return openai.AsyncOpenAI(base_url=f"{self.url}/v1", api_key=key, max_retries=0)


@asynccontextmanager
async def serving(stores: str) -> AsyncIterator[Gateway]:
    runner, sim = await start()
    cfg = parse_config(config(sim, stores), {})
    app = create_app(cfg)
    server = build_server(app, cfg.server, log_level="warning")
    task, port = await serve_on_loopback(server)
    try:
        yield Gateway(f"http://127.0.0.1:{port}", app)
    finally:
        server.should_exit = True
        await task
        await runner.cleanup()


async def new_key(gateway: Gateway, budget: float) -> dict[str, Any]:
    async with httpx.AsyncClient(
        base_url=gateway.url, headers={"authorization": f"Bearer {MASTER}"}
    ) as admin:
        r = await admin.post(
            "/admin/keys", json={"name": "spender", "budget_usd": budget, "budget_period": "daily"}
        )
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    return body


async def ask(client: openai.AsyncOpenAI) -> Any:
    return await client.chat.completions.create(
        model="sim/openai", messages=[{"role": "user", "content": "hi"}], max_tokens=8
    )


async def until_refused(client: openai.AsyncOpenAI) -> tuple[list[float], openai.RateLimitError]:
    """Ask until the budget refuses: the costs of the answers, and the refusal."""
    costs: list[float] = []
    while True:
        try:
            costs.append((await ask(client)).usage.cost)
        except openai.RateLimitError as refused:
            return costs, refused
        assert len(costs) < 100, "the budget never refused"


async def spend_counter(client: aioredis.Redis, prefix: str, key_id: str) -> float | None:
    names = [k async for k in client.scan_iter(f"{prefix}:key:{key_id}:spend:*")]
    assert len(names) <= 1, names
    value = await client.get(names[0]) if names else None
    return float(value) if value is not None else None


async def flush(client: aioredis.Redis, prefix: str) -> int:
    """Delete every key of the gateway's prefix: Redis lost its data."""
    names = [k async for k in client.scan_iter(f"{prefix}:*")]
    if names:
        await client.delete(*names)
    return len(names)


async def test_a_flushed_redis_restores_the_spend_and_a_hard_budget_still_refuses(
    postgres_url: str, redis_url: str
) -> None:
    prefix = f"junction_test_{secrets.token_hex(6)}"
    stores = f"""  database_url: "{postgres_url}"
  redis_url: "{redis_url}"
  redis_prefix: {prefix}"""
    client = aioredis.Redis.from_url(redis_url, decode_responses=True)
    try:
        async with serving(stores) as gateway:
            key = await new_key(gateway, budget=0.1)
            alice = gateway.client(key["key"])
            costs = [(await ask(alice)).usage.cost for _ in range(2)]
            await gateway.settle()
            spent = sum(costs)
            assert spent > 0
            assert await spend_counter(client, prefix, key["id"]) == pytest.approx(spent)

            counters = gateway.app.context.state.gateway.stores.counters.inner
            seeded = counters.restored  # the first request seeded the new period's counter

            assert await flush(client, prefix) > 0
            assert await spend_counter(client, prefix, key["id"]) is None
            costs.append((await ask(alice)).usage.cost)
            await gateway.settle()
            # The counter came back from the log with the two earlier requests.
            assert await spend_counter(client, prefix, key["id"]) == pytest.approx(sum(costs))
            assert counters.restored == seeded + 1

            more, refused = await until_refused(alice)  # spend the rest of the budget
            costs += more
            assert refused.code == "budget_exceeded"
            await gateway.settle()
            assert await flush(client, prefix) > 0
            with pytest.raises(openai.RateLimitError) as still:
                await ask(alice)  # restored from the log: still spent
            assert still.value.code == "budget_exceeded"
            assert sum(costs) <= 0.1
    finally:
        await client.aclose()


async def test_the_embedded_counters_restore_the_spend_after_a_restart(tmp_path: Path) -> None:
    stores = f'  database_url: "sqlite:///{tmp_path}/junction.db"'
    async with serving(stores) as gateway:
        key = await new_key(gateway, budget=0.05)
        alice = gateway.client(key["key"])
        costs, _ = await until_refused(alice)
        await gateway.settle()
    async with serving(stores) as restarted:  # a new process: its counters start empty
        with pytest.raises(openai.RateLimitError) as refused:
            await ask(restarted.client(key["key"]))
        assert refused.value.code == "budget_exceeded"
        assert len(costs) >= 2


class Record:
    """A durable record that answers slowly, so concurrent admissions all
    find the counter missing before any seed lands."""

    def __init__(self, spent: float) -> None:
        self.value = spent
        self.asked = 0

    async def spent(self, check: Check, now: float) -> list[tuple[float, float]]:
        self.asked += 1
        await asyncio.sleep(0.05)
        return [(now // 3600 * 3600, self.value)]


async def test_concurrent_restores_on_two_processes_count_the_spend_once(
    redis_url: str, redis_prefix: str
) -> None:
    prefix = f"{redis_prefix}{secrets.token_hex(4)}:"
    record = Record(0.5)
    a, b = RedisCounters(redis_url, prefix), RedisCounters(redis_url, prefix)
    for counters in (a, b):
        counters.restore_spend_from(record)
    daily = Window(start=T0 - 3600, end=T0 + 82800)
    rolling = Window(rolling=86400)
    try:
        for window in (daily, rolling):
            spend = Check(f"key:{secrets.token_hex(4)}", "spend", 1.0, 0.1, window)
            verdicts = await asyncio.gather(
                *(c.admit([spend], T0) for c in (a, b) for _ in range(4))
            )
            admitted = [v for v in verdicts if v.admitted]
            assert all(v.used[0] >= 0.5 - 1e-9 for v in verdicts)  # each saw the seed
            assert len(admitted) == 5  # 0.5 restored + 5 x 0.1 = the budget of 1.0
            after = await a.admit([spend], T0)
            assert not after.admitted
            assert after.used == [pytest.approx(1.0)]
        assert record.asked >= 2  # both processes asked; one seed counted
    finally:
        await a.close()
        await b.close()


async def test_memory_counters_restore_a_counter_once() -> None:
    record = Record(0.25)
    counters = MemoryCounters()
    counters.restore_spend_from(record)
    spend = Check("key:k", "spend", 1.0, 0.25, Window(start=T0 - 10, end=T0 + 100))
    verdicts = await asyncio.gather(*(counters.admit([spend], T0) for _ in range(4)))
    assert sum(v.admitted for v in verdicts) == 3  # 0.25 restored + 3 x 0.25
    assert record.asked == 4  # all four found it missing; the first seed counted
    assert (await counters.admit([spend], T0 + 1)).used == [pytest.approx(1.0)]
    assert record.asked == 4  # present now: the record is not asked again


class Unreachable:
    async def spent(self, check: Check, now: float) -> list[tuple[float, float]]:
        raise OSError("connection refused")


async def test_an_unreadable_record_refuses_the_budgeted_request_with_503(
    redis_url: str, redis_prefix: str
) -> None:
    memory = MemoryCounters()
    redis = RedisCounters(redis_url, f"{redis_prefix}{secrets.token_hex(4)}:")
    spend = Check("key:k", "spend", 1.0, 0.25, Window(start=T0 - 10, end=T0 + 100))
    rpm = Check("key:k", "requests", 10, 1, Window(sliding=60))
    try:
        for counters in (memory, redis):
            counters.restore_spend_from(Unreachable())
            with pytest.raises(GatewayError) as refused:
                await counters.admit([rpm, spend], T0)
            assert refused.value.status == 503
            assert "key:k" in refused.value.message
            assert (await counters.admit([rpm], T0)).used == [0.0]  # nothing was counted
    finally:
        await redis.close()
