"""Generation records: junction's own ``gen-`` id on every door, one record
per request (answered or failed, whatever id the provider used), readable
only by the key that made it, or the master key."""

from __future__ import annotations

import json
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import anthropic
import httpx
import openai
import pytest
from aiohttp import web

from conftest import CLOSED_PORT_URL, serve
from junction.config import parse_config
from junction.server.app import create_app

ALICE = "sk-alice-records-0001"
BOB = "sk-bob-records-0002"
MASTER = "sk-master-records-0003"
FIXED_ID = "chatcmpl-always-the-same"

CONFIG = """
server:
  master_key: ${{MASTER_KEY}}
keys:
  - {{name: alice, key: '${{ALICE_KEY}}'}}
  - {{name: bob, key: '${{BOB_KEY}}'}}
models:
  fixed:
    deployments:
      - {{provider: openai, name: fixed-id, model: m, base_url: '{upstream}/v1', api_key: k}}
  dead:
    deployments:
      - {{provider: openai, name: nowhere, model: m, base_url: '{dead}/v1', api_key: k}}
"""


def _completion() -> dict[str, Any]:
    return {
        "id": FIXED_ID,
        "object": "chat.completion",
        "created": 1,
        "model": "m",
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}
        ],
        "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4},
    }


def _chunks() -> bytes:
    base = {"id": FIXED_ID, "object": "chat.completion.chunk", "created": 1, "model": "m"}
    deltas = [
        {"index": 0, "delta": {"role": "assistant", "content": "ok"}, "finish_reason": None},
        {"index": 0, "delta": {}, "finish_reason": "stop"},
    ]
    lines = [f"data: {json.dumps({**base, 'choices': [d]})}\n\n" for d in deltas]
    return ("".join(lines) + "data: [DONE]\n\n").encode()


async def _upstream(request: web.Request) -> web.StreamResponse:
    """An OpenAI-compatible provider that gives every answer the same id."""
    body = await request.json()
    if body.get("stream"):
        return web.Response(body=_chunks(), content_type="text/event-stream")
    return web.json_response(_completion())


@dataclass
class Records:
    url: str
    gateway: Any

    def openai(self, key: str) -> openai.AsyncOpenAI:
        return openai.AsyncOpenAI(base_url=f"{self.url}/v1", api_key=key, max_retries=0)

    async def lookup(self, key: str, response_id: str) -> httpx.Response:
        async with httpx.AsyncClient(timeout=10) as http:
            return await http.get(
                f"{self.url}/api/v1/generation",
                params={"id": response_id},
                headers={"authorization": f"Bearer {key}"},
            )


@pytest.fixture(scope="module")
async def records() -> AsyncIterator[Records]:
    app = web.Application()
    app.router.add_post("/v1/chat/completions", _upstream)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    site = web.SockSite(runner, sock)
    await site.start()
    upstream = f"http://127.0.0.1:{sock.getsockname()[1]}"
    env = {"ALICE_KEY": ALICE, "BOB_KEY": BOB, "MASTER_KEY": MASTER}
    config = parse_config(CONFIG.format(upstream=upstream, dead=CLOSED_PORT_URL), env)
    gateway_app = create_app(config)
    server, task, url = await serve(gateway_app)
    try:
        yield Records(url, gateway_app.context.state.gateway)
    finally:
        server.should_exit = True
        await task
        await runner.cleanup()


HI = [{"role": "user", "content": "hi"}]


async def _ids_from_every_door(r: Records, key: str) -> list[str]:
    """One non-streamed and one streamed request per door, as ``gen-`` ids."""
    oa = r.openai(key)
    ids = [(await oa.chat.completions.create(model="fixed", messages=HI)).id]  # type: ignore[arg-type]
    stream = await oa.chat.completions.create(model="fixed", messages=HI, stream=True)  # type: ignore[arg-type]
    chunk_ids = {c.id async for c in stream}
    assert len(chunk_ids) == 1, "every chunk carries the request's id"
    ids.append(chunk_ids.pop())
    ant = anthropic.AsyncAnthropic(base_url=r.url, api_key=key, max_retries=0)
    ids.append((await ant.messages.create(model="fixed", max_tokens=8, messages=HI)).id)  # type: ignore[arg-type]
    async with ant.messages.stream(model="fixed", max_tokens=8, messages=HI) as events:  # type: ignore[arg-type]
        ids.append((await events.get_final_message()).id)
    responses = [(await oa.responses.create(model="fixed", input="hi")).id]
    streamed = await oa.responses.create(model="fixed", input="hi", stream=True)
    responses += [e.response.id async for e in streamed if e.type == "response.completed"]
    assert all(i.startswith("resp_gen-") for i in responses), responses
    return ids + responses


async def test_every_door_answers_with_junctions_own_unique_id(records: Records) -> None:
    ids = await _ids_from_every_door(records, ALICE)
    assert len(ids) == 6
    assert len(set(ids)) == len(ids), "one id per request, though the provider reused one"
    own = [i.removeprefix("resp_") for i in ids]
    assert all(i.startswith("gen-") for i in own), own
    for response_id in ids:
        found = await records.lookup(ALICE, response_id)
        assert found.status_code == 200, found.text
        data = found.json()["data"]
        assert data["id"] == response_id.removeprefix("resp_")
        assert data["upstream_id"] == FIXED_ID
        assert data["provider_name"] == "fixed-id"


async def test_a_key_reads_only_its_own_generations(records: Records) -> None:
    completion = await records.openai(ALICE).chat.completions.create(model="fixed", messages=HI)  # type: ignore[arg-type]
    mine = await records.lookup(ALICE, completion.id)
    assert mine.status_code == 200
    theirs = await records.lookup(BOB, completion.id)
    assert theirs.status_code == 404
    assert theirs.json()["error"]["message"].startswith(f"No generation {completion.id!r} here")
    assert "alice" not in theirs.text
    admin = await records.lookup(MASTER, completion.id)
    assert admin.status_code == 200
    assert admin.json()["data"]["id"] == completion.id


async def test_failed_requests_each_get_their_own_record(records: Records) -> None:
    store = records.gateway.generations
    before = len(store)
    for _ in range(2):
        with pytest.raises(openai.APIStatusError) as caught:
            await records.openai(BOB).chat.completions.create(model="dead", messages=HI)  # type: ignore[arg-type]
        assert caught.value.status_code == 502
    assert len(store) == before + 2
    assert store.get("") is None
