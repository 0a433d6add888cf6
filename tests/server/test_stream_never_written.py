"""A client gone after the stream's first event arrived but before the
response's first write: the stream is closed when the response ends, not
at garbage collection — the upstream call, the key's concurrency
reservation and the in-flight gauge are all given back at once, and the
request is recorded as cancelled.

Driven through the ASGI app itself, so that the write that fails is the
response's very first one (``http.response.start``)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from junction.config import Config, parse_config
from junction.server.app import create_app
from junction.server.asgi import App

MASTER = "sk-master-never-written-0001"

CONFIG = f"""
server:
  master_key: {MASTER}
stores:
  database_url: "memory://"
models:
  sim/openai:
    deployments:
      - {{provider: openai, model: gpt-4o-mini, base_url: "{{sim}}/v1", api_key: k}}
  sim/anthropic:
    deployments:
      - {{provider: anthropic, model: claude-sonnet-4-5, base_url: "{{sim}}", api_key: k}}
"""

LONG = "echo: " + " ".join(f"word{i}" for i in range(300))


def _config(sim_url: str) -> Config:
    return parse_config(CONFIG.replace("{sim}", sim_url), {})


class _Gone(OSError):
    """The client's socket, closed before the answer's first byte."""


async def _call(
    app: App, method: str, path: str, body: object, key: str, *, gone: bool = False
) -> tuple[int, bytes]:
    raw = json.dumps(body).encode() if body is not None else b""
    scope: dict[str, Any] = {
        "type": "http",
        "http_version": "1.1",
        "method": method,
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "headers": [
            (b"host", b"test"),
            (b"content-type", b"application/json"),
            (b"content-length", str(len(raw)).encode()),
            (b"authorization", f"Bearer {key}".encode()),
        ],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 4000),
    }
    sent = False
    never = asyncio.Event()

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": raw, "more_body": False}
        await never.wait()  # the client neither sends more nor hangs up
        return {"type": "http.disconnect"}

    status = 0
    parts: list[bytes] = []

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            if gone:
                raise _Gone("the client went away")
            status = message["status"]
        else:
            parts.append(message.get("body", b""))

    await app(scope, receive, send)
    return status, b"".join(parts)


@pytest.fixture
async def app() -> AsyncIterator[App]:
    app = create_app(_config, embedded_sim=True)
    keeper: Any = app.context
    await keeper.startup()
    try:
        yield app
    finally:
        await keeper.shutdown()


def _in_flight(app: App) -> float:
    keeper: Any = app.context
    body, _ = keeper.state.telemetry.metrics.render()
    for family in text_string_to_metric_families(body.decode()):
        if family.name == "junction_in_flight_requests":
            return float(sum(s.value for s in family.samples))
    raise AssertionError("no junction_in_flight_requests gauge")


@pytest.mark.parametrize(
    ("path", "model"),
    [("/v1/chat/completions", "sim/openai"), ("/v1/messages", "sim/anthropic")],
)
async def test_a_stream_whose_first_write_fails_gives_everything_back(
    app: App, path: str, model: str
) -> None:
    status, body = await _call(
        app, "POST", "/admin/keys", {"name": "one-at-a-time", "max_parallel": 1}, MASTER
    )
    assert status == 201, body
    key = json.loads(body)["key"]
    request = {
        "model": model,
        "stream": True,
        "max_tokens": 2000,
        "messages": [{"role": "user", "content": LONG}],
    }

    await _call(app, "POST", path, request, key, gone=True)

    # At once, before any other task runs (garbage collection would only
    # schedule the close for later):
    keeper: Any = app.context
    gateway = keeper.state.gateway
    assert _in_flight(app) == 0
    cancelled = [g for g in gateway.generations if g.cancelled]
    assert len(cancelled) == 1, "the abandoned stream was not settled when its response ended"

    await gateway.admission.drain()
    # The key's one concurrent request is free again.
    status, body = await _call(app, "POST", path, {**request, "stream": False}, key)
    assert status == 200, body
