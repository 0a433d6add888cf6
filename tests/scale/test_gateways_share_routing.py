"""Two gateways (two apps, each with its own Redis connection) on one Redis:
an endpoint that fails on one is routed around by the other within a second."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from _serving import serve_on_loopback
from junction.config import Server, parse_config
from junction.server.app import create_app
from junction.server.serving import build_server
from junction.sim import Profile, start
from junction.stores.redis.stats import RedisStats
from junction.types import ChatRequest, Message, TextPart

CONFIG = """
stores:
  redis_url: {redis}
models:
  m:
    deployments:
      - {{provider: openai, name: nowhere, model: x, base_url: 'http://127.0.0.1:9/v1', api_key: k}}
      - {{provider: openai, name: alive, model: alive, base_url: '{sim}/v1', api_key: k}}
"""
DOWN, UP = "m@nowhere", "m@alive"


@pytest.fixture
async def two_gateways(
    redis_url: str, redis_prefix: str, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[list[tuple[str, Any]]]:
    monkeypatch.setenv("JUNCTION_REDIS_PREFIX", redis_prefix)
    runner, sim_url = await start(Profile())
    config = parse_config(CONFIG.format(redis=redis_url, sim=sim_url), {})
    served: list[tuple[str, Any]] = []
    tasks = []
    servers = []
    for _ in range(2):
        app = create_app(config)
        server = build_server(app, Server(), log_level="warning")
        task, port = await serve_on_loopback(server)
        servers.append(server)
        tasks.append(task)
        served.append((f"http://127.0.0.1:{port}", app.context.state.gateway))
    yield served
    for server in servers:
        server.should_exit = True
    await asyncio.gather(*tasks)
    await runner.cleanup()


def request() -> ChatRequest:
    return ChatRequest(model="m", messages=[Message(role="user", content=[TextPart(text="hi")])])


async def test_a_failing_endpoint_seen_by_one_gateway_is_skipped_by_the_other(
    two_gateways: list[tuple[str, Any]],
) -> None:
    (url_a, gw_a), (_url_b, gw_b) = two_gateways
    assert isinstance(gw_a.stats, RedisStats)
    assert isinstance(gw_b.stats, RedisStats)
    assert [e.info.id for e in gw_b.planner.plan(request(), "m").endpoints] == [DOWN, UP]
    async with httpx.AsyncClient(timeout=30) as http:
        for _ in range(gw_a.stats.config.breaker.failure_threshold):
            r = await http.post(
                url_a + "/v1/chat/completions",
                json={"model": "m", "messages": [{"role": "user", "content": "echo: hi"}]},
            )
            assert r.status_code == 200, r.text  # failed over to "alive"
    assert gw_a.stats.resting(DOWN, now=gw_a.clock()) == "circuit breaker open"
    start_wait = time.monotonic()
    while gw_b.stats.resting(DOWN, now=gw_b.clock()) is None:
        assert time.monotonic() - start_wait < 1.0, "B did not learn of the open circuit"
        await asyncio.sleep(0.02)
    assert [e.info.id for e in gw_b.planner.plan(request(), "m").endpoints] == [UP, DOWN]
