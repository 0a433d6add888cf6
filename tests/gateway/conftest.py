"""A real stack per test session: the simulator and the gateway, each on its
own loopback socket, in the test loop. Clients talk to them over TCP."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from _serving import serve_on_loopback
from junction.config import Config, Server, load_config, parse_config
from junction.server.app import create_app
from junction.server.serving import build_server
from junction.sim import Profile, start

ROOT = Path(__file__).resolve().parents[2]
DIALECTS = ("openai", "anthropic", "gemini", "bedrock", "responses")
UPSTREAM = {
    "openai": "gpt-4o-mini",
    "anthropic": "claude-sonnet-4-5",
    "gemini": "gemini-2.5-flash",
    "bedrock": "anthropic.claude-3-5-haiku-20241022-v1:0",
    "responses": "gpt-4.1-mini",
}
SIM_BASE = {
    "openai": "{sim}/v1",
    "anthropic": "{sim}",
    "gemini": "{sim}",
    "bedrock": "{sim}",
    "responses": "{sim}/v1",
}
VENDOR = {"responses": "openai-responses"}
KEY = {"bedrock": "'AKIDTEST:secret'"}
CLOSED_PORT_URL = "http://127.0.0.1:9"  # discard port: nothing listens


def _test_models(sim: str) -> str:
    """Extra models for failover, timeouts and error mapping, per dialect."""
    out = ["models:"]
    for d in DIALECTS:
        base = SIM_BASE[d].format(sim=sim)
        v, k = VENDOR.get(d, d), KEY.get(d, "k")
        out += [
            f"  test/pair-{d}:",
            "    deployments:",
            f"      - {{provider: {v}, name: {d}-primary, model: primary-{d}, "
            f"base_url: '{base}', api_key: {k}}}",
            f"      - {{provider: {v}, name: {d}-backup, model: backup-{d}, "
            f"base_url: '{base}', api_key: {k}}}",
            f"  test/single-{d}:",
            "    deployments:",
            f"      - {{provider: {v}, name: {d}-single, model: single-{d}, "
            f"base_url: '{base}', api_key: {k}}}",
            f"  test/quick-{d}:",
            "    deployments:",
            f"      - {{provider: {v}, name: {d}-quick, model: quick-{d}, base_url: '{base}', "
            f"api_key: {k}, timeouts: {{connect: 1, first_token: 0.5, total: 1.5}}}}",
        ]
    out += [
        "  test/dead-then-alive:",
        "    deployments:",
        f"      - {{provider: openai, name: nowhere, model: x, base_url: '{CLOSED_PORT_URL}/v1'}}",
        f"      - {{provider: openai, name: alive, model: alive, base_url: '{sim}/v1'}}",
        "  test/strict-params:",
        "    drop_params: false",
        "    deployments:",
        f"      - {{provider: anthropic, name: strict, model: strict, base_url: '{sim}'}}",
    ]
    return "\n".join(out) + "\n"


def stack_config(sim_url: str) -> Config:
    env = {"JUNCTION_SIM_URL": sim_url}
    config = load_config(ROOT / "examples" / "sim.yaml", env)
    config.models.update(parse_config(_test_models(sim_url), env).models)
    config.server.max_body_bytes = 256 * 1024
    return config


@dataclass
class Stack:
    url: str
    sim_url: str
    sim: httpx.AsyncClient
    http: httpx.AsyncClient
    app: Any

    @property
    def gateway(self) -> Any:
        return self.app.context.state.gateway

    async def sim_fail(self, model: str, kind: str, count: int = 1) -> None:
        r = await self.sim.post("/_sim/fail", json={"model": model, "kind": kind, "count": count})
        assert r.status_code == 200, r.text

    async def sim_model(self, model: str, settings: dict[str, Any]) -> None:
        r = await self.sim.put(f"/_sim/models/{model}", json=settings)
        assert r.status_code == 200, r.text

    async def sim_requests(self, limit: int = 20) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = (
            await self.sim.get("/_sim/requests", params={"limit": limit})
        ).json()["requests"]
        return found

    async def sim_stats(self) -> dict[str, Any]:
        stats: dict[str, Any] = (await self.sim.get("/_sim/stats")).json()
        return stats


async def serve(app: Any) -> tuple[uvicorn.Server, asyncio.Task[None], str]:
    # The server junction serve runs, with its front-door limits.
    server = build_server(app, Server(), log_level="warning")
    task, port = await serve_on_loopback(server)
    return server, task, f"http://127.0.0.1:{port}"


@pytest.fixture(scope="session")
async def stack() -> AsyncIterator[Stack]:
    runner, sim_url = await start(Profile())
    app = create_app(stack_config(sim_url))
    server, task, url = await serve(app)
    sim = httpx.AsyncClient(base_url=sim_url, timeout=10)
    http = httpx.AsyncClient(base_url=url, timeout=30)
    try:
        yield Stack(url, sim_url, sim, http, app)
    finally:
        await http.aclose()
        await sim.aclose()
        server.should_exit = True
        await task
        await runner.cleanup()


@pytest.fixture
async def gw(stack: Stack) -> Stack:
    """The stack with the simulator back at its profile and the gateway's
    live statistics forgotten, before each test."""
    r = await stack.sim.post("/_sim/reset")
    assert r.status_code == 200
    stack.gateway.reset_state()
    return stack
