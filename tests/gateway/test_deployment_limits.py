"""A deployment's own rpm / tpm: the router skips an endpoint at its limit
(no request reaches it), falls over to the next, and answers 429 with
retry-after when every endpoint is at its limit. Through real sockets, on
the simulator, with the counters on the real Redis when it is there."""

from __future__ import annotations

import dataclasses
import secrets
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest

from conftest import Stack, serve
from junction.config import ConfigError, parse_config
from junction.gateway.deployment_limits import DeploymentLimits
from junction.server.app import create_app
from junction.sim import Profile, start
from junction.stores.memory import MemoryCounters as InProcessCounters

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "stores"))
from _counter_servers import REDIS_URL, reachable
from junction.stores import Check, Window
from junction.stores.redis.counters import RedisCounters

HI = [{"role": "user", "content": "echo: hi"}]


def config_text(sim: str) -> str:
    return f"""
models:
  test/limited:
    deployments:
      - {{provider: openai, name: small, model: small, base_url: '{sim}/v1', api_key: k, rpm: 2}}
      - {{provider: openai, name: big, model: big, base_url: '{sim}/v1', api_key: k, rpm: 3}}
  test/tokens:
    deployments:
      - {{provider: openai, name: tight, model: tight, base_url: '{sim}/v1', api_key: k,
          tpm: 100000}}
"""


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(params=["in-process", "redis"])
async def limited(request: pytest.FixtureRequest) -> AsyncIterator[tuple[Stack, Clock, Any]]:
    runner, sim_url = await start(Profile())
    app = create_app(parse_config(config_text(sim_url), {}))
    server, task, url = await serve(app)
    if request.param == "redis":
        await reachable("redis")
        counters: Any = RedisCounters(REDIS_URL, f"junction-test:{secrets.token_hex(6)}:")
    else:
        counters = InProcessCounters()
    clock = Clock()
    gateway = app.context.state.gateway
    gateway.failover = dataclasses.replace(
        gateway.failover, deployment_limits=DeploymentLimits(counters, clock)
    )
    sim = httpx.AsyncClient(base_url=sim_url, timeout=10)
    http = httpx.AsyncClient(base_url=url, timeout=30)
    try:
        yield Stack(url, sim_url, sim, http, app), clock, counters
    finally:
        await http.aclose()
        await sim.aclose()
        server.should_exit = True
        await task
        await runner.cleanup()
        await counters.close()


async def upstream_models(stack: Stack) -> list[str]:
    found = (await stack.sim.get("/_sim/requests", params={"limit": 50})).json()["requests"]
    return [r["model"] for r in found]


async def test_an_endpoint_at_its_rpm_is_skipped_then_429(
    limited: tuple[Stack, Clock, Any],
) -> None:
    stack, clock, _ = limited
    client = openai.AsyncOpenAI(base_url=f"{stack.url}/v1", api_key="k", max_retries=0)
    served = []
    for _ in range(5):
        raw = await client.chat.completions.with_raw_response.create(
            model="test/limited", messages=HI
        )
        served.append(raw.parse().provider)  # type: ignore[attr-defined]
    assert served == ["small", "small", "big", "big", "big"]
    with pytest.raises(openai.RateLimitError) as refused:
        await client.chat.completions.create(model="test/limited", messages=HI)
    assert refused.value.status_code == 429
    assert refused.value.response.headers["retry-after"] == "60"
    assert "own limit" in refused.value.message
    models = await upstream_models(stack)
    assert sorted(models) == ["big"] * 3 + ["small"] * 2  # nothing was sent to bounce
    clock.now += 60  # the minute passed: both endpoints free again
    again = await client.chat.completions.create(model="test/limited", messages=HI)
    assert again.provider == "small"  # type: ignore[attr-defined]


async def test_tpm_counts_the_real_usage(limited: tuple[Stack, Clock, Any]) -> None:
    stack, clock, counters = limited
    client = openai.AsyncOpenAI(base_url=f"{stack.url}/v1", api_key="k", max_retries=0)
    answer = await client.chat.completions.create(model="test/tokens", messages=HI)
    assert answer.usage is not None
    await stack.gateway.failover.deployment_limits.drain()
    ep = stack.gateway.routes["test/tokens"].endpoints[0]
    probe = Check(f"deployment:{ep.info.id}", "tokens", 100000, 0, Window(sliding=60))
    verdict = await counters.admit([probe], clock.now)
    assert verdict.used == [answer.usage.prompt_tokens + answer.usage.completion_tokens]


async def test_a_stream_is_skipped_and_counted_too(limited: tuple[Stack, Clock, Any]) -> None:
    stack, clock, counters = limited
    client = openai.AsyncOpenAI(base_url=f"{stack.url}/v1", api_key="k", max_retries=0)
    for _ in range(3):
        stream = await client.chat.completions.create(
            model="test/limited", messages=HI, stream=True
        )
        async for _chunk in stream:
            pass
    models = await upstream_models(stack)
    assert models.count("small") == 2
    assert models.count("big") == 1
    usage = None
    stream = await client.chat.completions.create(
        model="test/tokens", messages=HI, stream=True, stream_options={"include_usage": True}
    )
    async for chunk in stream:
        usage = chunk.usage or usage
    assert usage is not None
    await stack.gateway.failover.deployment_limits.drain()
    ep = stack.gateway.routes["test/tokens"].endpoints[0]
    probe = Check(f"deployment:{ep.info.id}", "tokens", 100000, 0, Window(sliding=60))
    verdict = await counters.admit([probe], clock.now)
    assert verdict.used == [usage.prompt_tokens + usage.completion_tokens]


def test_deployment_rpm_must_be_positive() -> None:
    bad = "models:\n  m:\n    deployments:\n      - {provider: openai, model: x, rpm: 0}\n"
    with pytest.raises(ConfigError, match="rpm: must be at least 1"):
        parse_config(bad, {})
