"""Client keys: hashed at load, required when configured, with per-key
provider preferences between the model's and the request's."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator

import anthropic
import httpx
import openai
import pytest

from conftest import ROOT, serve
from junction.config import load_config, parse_config
from junction.server.app import create_app
from junction.sim import Profile, start

ALICE = "sk-alice-0123456789"
BOB = "sk-bob-9876543210"
KEYS = f"""
keys:
  - name: alice
    key: ${{ALICE_KEY}}
  - name: bob
    key_sha256: {hashlib.sha256(BOB.encode()).hexdigest()}
    provider: {{only: [sim-fast]}}
"""


@pytest.fixture(scope="module")
async def url() -> AsyncIterator[str]:
    runner, sim = await start(Profile())
    env = {"JUNCTION_SIM_URL": sim, "ALICE_KEY": ALICE}
    config = load_config(ROOT / "examples" / "aggregation.yaml", env)
    config.keys = parse_config(KEYS, env).keys
    assert all(k.key is None for k in config.keys), "plain keys are not kept"
    server, task, gw = await serve(create_app(config))
    try:
        yield gw
    finally:
        server.should_exit = True
        await task
        await runner.cleanup()


async def chat(url: str, key: str | None, **fields: object) -> httpx.Response:
    headers = {"authorization": f"Bearer {key}"} if key else {}
    body = {"model": "sim/llama", "messages": [{"role": "user", "content": "echo: hi"}], **fields}
    async with httpx.AsyncClient(timeout=30) as http:
        return await http.post(f"{url}/v1/chat/completions", json=body, headers=headers)


async def get(url: str) -> httpx.Response:
    async with httpx.AsyncClient(timeout=30) as http:
        return await http.get(url)


async def test_keys_are_required(url: str) -> None:
    missing = await chat(url, None)
    assert missing.status_code == 401
    assert "missing" in missing.json()["error"]["message"]
    wrong = await chat(url, "sk-nobody")
    assert wrong.status_code == 401
    assert "sk-nobody" not in wrong.text
    assert (await chat(url, ALICE)).status_code == 200
    assert (await chat(url, BOB)).status_code == 200
    assert (await get(f"{url}/health")).status_code == 200
    assert (await get(f"{url}/v1/models")).status_code == 401


async def test_every_door_checks_the_key_in_its_own_shape(url: str) -> None:
    with pytest.raises(anthropic.AuthenticationError) as caught:
        await anthropic.AsyncAnthropic(base_url=url, api_key="bad", max_retries=0).messages.create(
            model="sim/openai", max_tokens=8, messages=[{"role": "user", "content": "hi"}]
        )
    assert caught.value.response.json()["error"]["type"] == "authentication_error"
    ok = await anthropic.AsyncAnthropic(base_url=url, api_key=ALICE, max_retries=0).messages.create(
        model="sim/openai", max_tokens=8, messages=[{"role": "user", "content": "echo: in"}]
    )
    assert ok.content[0].type == "text"
    client = openai.AsyncOpenAI(base_url=f"{url}/v1", api_key=ALICE, max_retries=0)
    response = await client.responses.create(model="sim/openai", input="echo: responses")
    assert response.output_text == "responses"


async def test_per_key_preferences(url: str) -> None:
    # bob's key routes to sim-fast only (every model); alice's has no preference.
    assert {(await chat(url, BOB)).json()["provider"] for _ in range(10)} == {"sim-fast"}
    assert len({(await chat(url, ALICE)).json()["provider"] for _ in range(40)}) > 1
    # The request's own preferences come after the key's.
    cheap = await chat(url, BOB, provider={"only": ["sim-cheap"]})
    assert cheap.json()["provider"] == "sim-cheap"
