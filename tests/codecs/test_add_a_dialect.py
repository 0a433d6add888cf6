"""docs/architecture.md's "How to add a dialect", followed to the letter.

``echo_dialect/`` (beside this file) is a throwaway wire API built from the
recipe's files and registered with the recipe's one call. It is served
through the simulator and through a gateway door, over real sockets, and its
answers are checked against what the simulator says to the same prompt in
the OpenAI dialect, so the recipe cannot rot.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import msgspec
import pytest
import uvicorn

from _serving import serve_on_loopback
from junction.codecs import registry
from junction.codecs.base import Quirks
from junction.config import parse_config
from junction.providers import register_vendor
from junction.providers.registry import unregister_vendor
from junction.providers.vendors import Vendor
from junction.server.app import create_app
from junction.sim import Profile, start

PROMPT = "Name three rivers of Europe."
MODEL = "sim-echo-model"


async def _serve(app: Any) -> tuple[uvicorn.Server, asyncio.Task[None], str]:
    server = uvicorn.Server(uvicorn.Config(app, lifespan="on", log_level="warning"))
    task, port = await serve_on_loopback(server)
    return server, task, f"http://127.0.0.1:{port}"


@pytest.fixture(scope="module")
def echo_registered() -> Iterator[None]:
    registry.register_dialect("echo", "echo_dialect")  # the recipe's one registration call
    register_vendor(Vendor("echo", "echo", None, Quirks(auth="none")))
    yield
    unregister_vendor("echo")
    registry.unregister_dialect("echo")


@dataclass
class Echo:
    sim: httpx.AsyncClient
    gateway: httpx.AsyncClient


@pytest.fixture(scope="module")
async def echo(echo_registered: None) -> AsyncIterator[Echo]:
    runner, sim_url = await start(Profile())
    config = parse_config(
        "models:\n"
        "  echo/model:\n"
        "    deployments:\n"
        f"      - {{provider: echo, name: echo-sim, model: {MODEL}, base_url: '{sim_url}'}}\n",
        {},
    )
    server, task, url = await _serve(create_app(config))
    sim = httpx.AsyncClient(base_url=sim_url, timeout=10)
    gateway = httpx.AsyncClient(base_url=url, timeout=30)
    try:
        yield Echo(sim, gateway)
    finally:
        await gateway.aclose()
        await sim.aclose()
        server.should_exit = True
        await task
        await runner.cleanup()


async def _openai_answer(sim: httpx.AsyncClient) -> tuple[str, int, int]:
    """What the simulator says to PROMPT in the OpenAI dialect: the reference."""
    r = await sim.post(
        "/v1/chat/completions",
        json={"model": MODEL, "messages": [{"role": "user", "content": PROMPT}]},
    )
    assert r.status_code == 200, r.text
    body = r.json()
    usage = body["usage"]
    return (
        body["choices"][0]["message"]["content"],
        usage["prompt_tokens"],
        usage["completion_tokens"],
    )


def _frames(body: bytes) -> list[dict[str, object]]:
    return [
        msgspec.json.decode(line[len(b"data: ") :])
        for line in body.splitlines()
        if line.startswith(b"data: ")
    ]


async def test_the_simulator_serves_a_registered_dialect(echo: Echo) -> None:
    text, prompt_tokens, completion_tokens = await _openai_answer(echo.sim)
    r = await echo.sim.post("/echo/v1/say", json={"model": MODEL, "text": PROMPT})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["reply"] == text
    assert body["model"] == MODEL
    assert body["tokens"] == {"in": prompt_tokens, "out": completion_tokens}
    stats = (await echo.sim.get("/_sim/stats")).json()
    assert stats["by_dialect"]["echo"] >= 1


async def test_the_simulator_streams_a_registered_dialect(echo: Echo) -> None:
    text, _, completion_tokens = await _openai_answer(echo.sim)
    r = await echo.sim.post("/echo/v1/say", json={"model": MODEL, "text": PROMPT, "stream": True})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/event-stream")
    frames = _frames(r.content)
    assert "".join(str(f["delta"]) for f in frames if "delta" in f) == text
    assert frames[-1]["done"] is True
    assert frames[-1]["tokens"]["out"] == completion_tokens  # type: ignore[index]


async def test_the_simulator_answers_a_bad_body_in_the_dialects_error_shape(echo: Echo) -> None:
    r = await echo.sim.post("/echo/v1/say", json={"model": MODEL, "txt": PROMPT})
    assert r.status_code == 400
    problem = r.json()["problem"]
    assert problem["kind"] == "invalid_request"
    assert "txt" in problem["message"] or "text" in problem["message"]


async def test_a_door_serves_a_registered_dialect_end_to_end(echo: Echo) -> None:
    """Client -> echo door -> gateway -> echo client codec -> simulator's echo route."""
    text, prompt_tokens, completion_tokens = await _openai_answer(echo.sim)
    r = await echo.gateway.post("/echo/v1/say", json={"model": "echo/model", "text": PROMPT})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["reply"] == text
    assert body["tokens"] == {"in": prompt_tokens, "out": completion_tokens}


async def test_a_door_streams_a_registered_dialect(echo: Echo) -> None:
    text, _, _ = await _openai_answer(echo.sim)
    r = await echo.gateway.post(
        "/echo/v1/say", json={"model": "echo/model", "text": PROMPT, "stream": True}
    )
    assert r.status_code == 200, r.text
    frames = _frames(r.content)
    assert "".join(str(f["delta"]) for f in frames if "delta" in f) == text
    assert frames[-1]["done"] is True


async def test_a_door_answers_mistakes_in_the_dialects_error_shape(echo: Echo) -> None:
    bad = await echo.gateway.post("/echo/v1/say", json={"model": "echo/model"})
    assert bad.status_code == 400
    assert bad.json()["problem"]["kind"] == "invalid_request"
    assert "text" in bad.json()["problem"]["message"]
    unknown = await echo.gateway.post("/echo/v1/say", json={"model": "no/such", "text": PROMPT})
    assert unknown.status_code == 404
    assert unknown.json()["problem"]["kind"] == "not_found"


def test_the_registry_lists_the_dialect_beside_the_built_ins(echo_registered: None) -> None:
    assert registry.dialects()[:5] == list(registry.BUILTIN_DIALECTS)
    assert "echo" in registry.dialects()
    assert registry.params("echo") == {"max_tokens": "native"}
    server = registry.server("echo")
    assert server is not None
    assert server.paths == ("/echo/v1/say",)
    assert registry.server("openai_chat") is not None


def test_a_vendor_of_an_unregistered_dialect_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown dialect 'cohere_native'") as info:
        register_vendor(Vendor("cohere", "cohere_native", "https://api.cohere.com"))
    assert "openai_chat" in str(info.value)
    assert "bedrock_converse" in str(info.value)


def test_an_unknown_dialect_is_a_clear_error() -> None:
    with pytest.raises(KeyError, match="unknown dialect 'nope'"):
        registry.codec("nope")


def test_every_built_in_dialect_registers_through_the_registry() -> None:
    for name in registry.BUILTIN_DIALECTS:
        assert registry.is_dialect(name)
        assert registry.params(name)
        server = registry.server(name)
        assert server is not None
        assert server.name == name
