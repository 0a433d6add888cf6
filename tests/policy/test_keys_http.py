"""Virtual keys, limits and budgets through the real app over a socket,
with the official SDKs: what each client sees."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import anthropic
import httpx
import openai
import pytest

from _serving import serve_on_loopback
from junction.config import parse_config
from junction.server.app import create_app
from junction.server.serving import build_server
from junction.sim import start

MASTER = "sk-master-policy-0123456789"


def config(sim: str) -> str:
    return f"""
server:
  master_key: {MASTER}
stores:
  database_url: "memory://"
models:
  sim/openai:
    deployments:
      - {{provider: openai, model: gpt-4o-mini, base_url: "{sim}/v1", api_key: k}}
  sim/anthropic:
    deployments:
      - {{provider: anthropic, model: claude-sonnet-4-5, base_url: "{sim}", api_key: k}}
"""


@dataclass
class Stack:
    url: str
    admin: httpx.AsyncClient
    gateway: Any

    async def key(self, **fields: Any) -> dict[str, Any]:
        r = await self.admin.post("/admin/keys", json={"name": f"k{time.time_ns()}", **fields})
        assert r.status_code == 201, r.text
        body: dict[str, Any] = r.json()
        return body

    def openai(self, key: str | None) -> openai.AsyncOpenAI:
        return openai.AsyncOpenAI(base_url=f"{self.url}/v1", api_key=key or "", max_retries=0)


@pytest.fixture
async def stack() -> AsyncIterator[Stack]:
    runner, sim = await start()
    cfg = parse_config(config(sim), {})
    app = create_app(cfg)
    server = build_server(app, cfg.server, log_level="warning")
    task, port = await serve_on_loopback(server)
    url = f"http://127.0.0.1:{port}"
    admin = httpx.AsyncClient(
        base_url=url, timeout=30, headers={"authorization": f"Bearer {MASTER}"}
    )
    try:
        yield Stack(url, admin, app.context.state.gateway)
    finally:
        await admin.aclose()
        server.should_exit = True
        await task
        await runner.cleanup()


async def ask(client: openai.AsyncOpenAI, model: str = "sim/openai") -> Any:
    return await client.chat.completions.with_raw_response.create(
        model=model, messages=[{"role": "user", "content": "hi"}], max_tokens=8
    )


async def test_missing_unknown_revoked_and_expired_keys_are_401(stack: Stack) -> None:
    async with httpx.AsyncClient(base_url=stack.url, timeout=10) as anonymous:
        body = {"model": "sim/openai", "messages": [{"role": "user", "content": "hi"}]}
        missing = await anonymous.post("/v1/chat/completions", json=body)
    assert missing.status_code == 401
    assert "missing" in missing.json()["error"]["message"]
    with pytest.raises(openai.AuthenticationError):
        await ask(stack.openai("sk-jx-not-a-key"))
    revoked = await stack.key()
    await ask(stack.openai(revoked["key"]))
    assert (await stack.admin.delete(f"/admin/keys/{revoked['id']}")).status_code in (200, 204)
    with pytest.raises(openai.AuthenticationError) as err:
        await ask(stack.openai(revoked["key"]))
    assert "revoked" in str(err.value)
    assert revoked["key"] not in str(err.value)
    soon = await stack.key(expires_at=time.time() + 1.5)
    await ask(stack.openai(soon["key"]))
    await asyncio.sleep(1.6 + stack.gateway.config.stores.key_cache_seconds)
    with pytest.raises(openai.AuthenticationError) as expired:
        await ask(stack.openai(soon["key"]))
    assert "expired" in str(expired.value)


async def test_a_model_outside_the_allow_list_is_403_in_each_doors_shape(stack: Stack) -> None:
    key = (await stack.key(models=["sim/openai"]))["key"]
    await ask(stack.openai(key))
    with pytest.raises(openai.PermissionDeniedError):
        await ask(stack.openai(key), "sim/anthropic")
    claude = anthropic.AsyncAnthropic(base_url=stack.url, api_key=key, max_retries=0)
    with pytest.raises(anthropic.PermissionDeniedError) as err:
        await claude.messages.create(
            model="sim/anthropic", max_tokens=8, messages=[{"role": "user", "content": "hi"}]
        )
    assert "sim/anthropic" in str(err.value)


async def test_rpm_then_429_with_retry_after_and_rate_limit_headers(stack: Stack) -> None:
    client = stack.openai((await stack.key(rpm=3))["key"])
    answered = [await ask(client) for _ in range(3)]
    assert [r.headers["x-ratelimit-remaining-requests"] for r in answered] == ["2", "1", "0"]
    with pytest.raises(openai.RateLimitError) as err:
        await ask(client)
    headers = err.value.response.headers
    assert 0 < int(headers["retry-after"]) <= 60
    assert headers["x-ratelimit-limit-requests"] == "3"
    assert headers["x-ratelimit-remaining-requests"] == "0"


async def test_a_hard_budget_under_32_concurrent_requests_is_not_overspent(stack: Stack) -> None:
    budget = 0.00005  # about nine requests of this size
    created = await stack.key(budget_usd=budget, budget_period="daily")
    client = stack.openai(created["key"])

    refusals: list[str] = []

    async def one() -> float | None:
        try:
            raw = await ask(client)
        except openai.RateLimitError as exc:
            refusals.append(str(exc))
            return None
        return float(raw.parse().usage.model_extra["cost"])

    costs = await asyncio.gather(*(one() for _ in range(32)))
    spent = [c for c in costs if c is not None]
    assert all("budget" in r for r in refusals)
    assert spent
    assert len(spent) < 32
    # Each admitted request reserved its most possible cost first, so what
    # was spent stays within the budget (docs/operations.md, the bound).
    assert sum(spent) <= budget


async def test_a_key_reads_only_its_own_generations(stack: Stack) -> None:
    mine, theirs = (await stack.key())["key"], (await stack.key())["key"]
    raw = await ask(stack.openai(mine))
    gen = raw.parse().id
    async with httpx.AsyncClient(base_url=stack.url, timeout=10) as http:
        own = await http.get(
            f"/api/v1/generation?id={gen}", headers={"authorization": f"Bearer {mine}"}
        )
        other = await http.get(
            f"/api/v1/generation?id={gen}", headers={"authorization": f"Bearer {theirs}"}
        )
        master = await http.get(
            f"/api/v1/generation?id={gen}", headers={"authorization": f"Bearer {MASTER}"}
        )
    assert (own.status_code, other.status_code, master.status_code) == (200, 404, 200)


async def test_a_team_limit_binds_every_key_of_the_team(stack: Stack) -> None:
    team = await stack.admin.post("/admin/teams", json={"name": "core", "rpm": 2})
    assert team.status_code == 201, team.text
    team_id = team.json()["id"]
    a = stack.openai((await stack.key(team=team_id))["key"])
    b = stack.openai((await stack.key(team=team_id))["key"])
    await ask(a)
    await ask(b)
    with pytest.raises(openai.RateLimitError) as err:
        await ask(a)
    assert f"team {team_id}" in str(err.value)


async def test_a_soft_budget_warns_in_a_header_and_a_metric(stack: Stack) -> None:
    from prometheus_client.parser import text_string_to_metric_families

    client = stack.openai((await stack.key(soft_budget_usd=0.0000001))["key"])
    raw = await ask(client)
    assert "soft budget" in raw.headers["x-junction-budget-warning"]
    async with httpx.AsyncClient(base_url=stack.url, timeout=10) as http:
        text = (await http.get("/metrics")).text
    counted = {
        s.name: s.value for family in text_string_to_metric_families(text) for s in family.samples
    }
    assert counted["junction_soft_budget_warnings_total"] == 1
