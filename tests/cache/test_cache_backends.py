"""The exact cache's shared and lasting backends through live gateways:
Redis (the real server: an answer kept by one gateway is a hit on another)
and SQLite (an answer outlives a restart)."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

import openai
from redis.asyncio import Redis

from _cache_stack import cache_config, gateway, simulator
from _counter_servers import reachable
from _servers import REDIS_URL
from junction.codecs import openai_chat
from junction.config import parse_config
from junction.gateway import Gateway
from junction.gateway.trace import Trace
from junction.policy import ResponseCaching
from junction.transport import Transport
from junction.types import TextPart

HI = [{"role": "user", "content": "echo: kept for the next gateway"}]


async def ask(client: openai.AsyncOpenAI, stream: bool = False) -> tuple[str, Any]:
    if stream:
        raw = await client.chat.completions.with_raw_response.create(
            model="sim/anthropic",
            messages=HI,
            max_tokens=32,
            stream=True,  # type: ignore[arg-type]
        )
        text = "".join([c.choices[0].delta.content or "" async for c in raw.parse() if c.choices])
        return text, raw.headers
    raw = await client.chat.completions.with_raw_response.create(
        model="sim/anthropic",
        messages=HI,  # type: ignore[arg-type]
        max_tokens=32,
    )
    return raw.parse().choices[0].message.content or "", raw.headers


async def test_redis_shares_entries_between_gateways(tmp_path: Path) -> None:
    await reachable("redis")
    prefix = f"junction_test_{secrets.token_hex(6)}"
    redis = f"  redis_url: '{REDIS_URL}'\n  redis_prefix: {prefix}"
    try:
        async with simulator() as (_, sim_url):
            one = cache_config(sim_url, tmp_path / "one.db", backend="redis", redis=redis)
            two = cache_config(sim_url, tmp_path / "two.db", backend="redis", redis=redis)
            async with gateway(one, sim_url) as a, gateway(two, sim_url) as b:
                async with a.openai() as client:
                    text, h1 = await ask(client)
                await a.kept()  # the entry is in Redis now
                calls = await b.upstream_calls()
                async with b.openai() as client:
                    again, h2 = await ask(client, stream=True)
                assert await b.upstream_calls() == calls
        assert (h1["x-junction-cache"], h2["x-junction-cache"]) == ("miss", "hit")
        assert again == text
        client = Redis.from_url(REDIS_URL)
        try:
            assert [k async for k in client.scan_iter(match=f"{prefix}:cache:*")]
        finally:
            await client.aclose()
    finally:
        client = Redis.from_url(REDIS_URL)
        try:
            keys = [k async for k in client.scan_iter(match=f"{prefix}:*")]
            if keys:
                await client.delete(*keys)
        finally:
            await client.aclose()


async def test_sqlite_entries_outlive_a_restart(tmp_path: Path) -> None:
    async with simulator() as (_, sim_url):
        config = cache_config(sim_url, tmp_path / "junction.db", backend="sqlite")
        async with gateway(config, sim_url) as first, first.openai() as client:
            text, h1 = await ask(client, stream=True)
        async with gateway(config, sim_url) as second, second.openai() as client:
            calls = await second.upstream_calls()
            again, h2 = await ask(client)
            assert await second.upstream_calls() == calls
    assert (h1["x-junction-cache"], h2["x-junction-cache"]) == ("miss", "hit")
    assert again == text


async def test_an_unreachable_cache_is_a_miss_not_a_failure() -> None:
    async with simulator() as (_, sim_url):
        config = parse_config(
            "models:\n  m:\n    deployments:\n"
            f"      - {{provider: openai, model: gpt-4o-mini, base_url: '{sim_url}/v1'}}\n"
            "cache: {enabled: true, backend: redis}\n",
            {},
        )
        closed = {"JUNCTION_REDIS_URL": "redis://127.0.0.1:9/0"}  # nothing listens there
        gw = Gateway(config, Transport(), env=closed)
        try:
            body = b'{"model": "m", "messages": [{"role": "user", "content": "echo: still here"}]}'
            for _ in range(2):
                trace = Trace()
                answer = await gw.chat(openai_chat.decode_request(body), trace)
                assert answer.choices[0].message.content == [TextPart("still here")]
                assert ("x-junction-cache", "miss") in trace.headers
            stage = gw.policy.everyone[0]
            assert isinstance(stage, ResponseCaching)
            await stage.drain()
            assert stage.errors >= 3  # two lookups and a write failed, quietly
        finally:
            await gw.close()
