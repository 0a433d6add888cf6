"""Helpers for the front-door tests: the real app, served by the server
``junction serve`` builds (server/serving.py), on a loopback socket, with
limits chosen per test; raw socket clients (malformed and hostile requests
are what these tests send); a fake upstream that records what happens to
its requests."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import msgspec
from aiohttp import web

from _serving import serve_on_loopback
from junction.config import Config, parse_config
from junction.server.app import create_app
from junction.server.serving import GatewayServer, build_server


@dataclass
class Front:
    server: GatewayServer
    app: Any
    port: int
    task: asyncio.Task[None]

    @property
    def connections(self) -> int:
        return len(self.server.server_state.connections)

    @property
    def in_flight(self) -> int:
        return len(self.server.server_state.tasks)


@asynccontextmanager
async def serving(config: Config, **limits: Any) -> AsyncIterator[Front]:
    """The gateway for ``config``, its ``server:`` limits overridden by ``limits``."""
    config.server = msgspec.structs.replace(config.server, **limits)
    app = create_app(config)
    server = build_server(app, config.server, log_level="warning")
    task, port = await serve_on_loopback(server)
    try:
        yield Front(server, app, port, task)
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 30)


def unreachable_upstream() -> Config:
    """A model whose upstream is the discard port: for requests that must
    not get as far as an upstream."""
    return models_at("http://127.0.0.1:9/v1")


def models_at(base_url: str) -> Config:
    """One chat model, ``test/chat``, served at ``base_url`` (OpenAI dialect)."""
    text = (
        "models:\n"
        "  test/chat:\n"
        "    deployments:\n"
        f"      - {{provider: openai, model: m, base_url: '{base_url}', api_key: k}}\n"
    )
    return parse_config(text, {})


# --- raw clients ------------------------------------------------------------


async def connect(port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.open_connection("127.0.0.1", port)


async def read_all(reader: asyncio.StreamReader, within: float = 5.0) -> bytes:
    """Everything until the server closes (or ``within`` seconds pass: what came)."""
    out = b""
    try:
        async with asyncio.timeout(within):
            while chunk := await reader.read(65536):
                out += chunk
    except (TimeoutError, ConnectionError):
        pass
    return out


async def exchange(port: int, data: bytes, within: float = 5.0) -> bytes:
    reader, writer = await connect(port)
    try:
        writer.write(data)
        await writer.drain()
        return await read_all(reader, within)
    finally:
        writer.close()


def status_of(answer: bytes) -> int:
    assert answer.startswith(b"HTTP/1.1 "), answer[:200]
    return int(answer[9:12])


def header_of(answer: bytes, name: str) -> str | None:
    head = answer.split(b"\r\n\r\n", 1)[0].decode("latin-1")
    for line in head.split("\r\n")[1:]:
        key, _, value = line.partition(":")
        if key.strip().lower() == name:
            return value.strip()
    return None


def error_message(answer: bytes) -> str:
    body = answer.split(b"\r\n\r\n", 1)[1]
    message: str = msgspec.json.decode(body)["error"]["message"]
    return message


def chat_request(stream: bool = False, model: str = "test/chat", text: str = "hi") -> bytes:
    body = msgspec.json.encode(
        {"model": model, "stream": stream, "messages": [{"role": "user", "content": text}]}
    )
    head = (
        "POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"content-type: application/json\r\ncontent-length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


# --- a fake upstream that records what happens to its requests --------------


@dataclass
class Upstream:
    url: str
    received: asyncio.Event
    closed: asyncio.Event
    bytes_sent: int = 0


Behaviour = Callable[[web.Request, Upstream], Awaitable[web.StreamResponse]]


@asynccontextmanager
async def fake_upstream(behaviour: Behaviour) -> AsyncIterator[Upstream]:
    """An OpenAI-dialect upstream on loopback: ``behaviour`` answers each
    chat request; ``closed`` is set when a request's handler ends because
    the gateway went away (aiohttp cancels it, or a write fails)."""
    state = Upstream("", asyncio.Event(), asyncio.Event())

    async def chat(request: web.Request) -> web.StreamResponse:
        state.received.set()
        try:
            return await behaviour(request, state)
        except (asyncio.CancelledError, ConnectionResetError):
            state.closed.set()
            raise

    app = web.Application()
    app.router.add_post("/v1/chat/completions", chat)
    runner = web.AppRunner(app, handler_cancellation=True, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    state.url = f"http://127.0.0.1:{port}/v1"
    try:
        yield state
    finally:
        await runner.cleanup()


async def hang(request: web.Request, state: Upstream) -> web.StreamResponse:
    await asyncio.Event().wait()
    raise AssertionError("unreachable")


async def endless_stream(request: web.Request, state: Upstream) -> web.StreamResponse:
    """SSE chunks as fast as the gateway takes them, forever."""
    response = web.StreamResponse(headers={"content-type": "text/event-stream"})
    await response.prepare(request)
    chunk = {
        "id": "c1",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "m",
        "choices": [{"index": 0, "delta": {"content": "x" * 200}, "finish_reason": None}],
    }
    frame = b"data: " + msgspec.json.encode(chunk) + b"\n\n"
    while True:
        await response.write(frame)
        state.bytes_sent += len(frame)


async def dribble(writer: asyncio.StreamWriter, data: bytes, interval: float) -> None:
    """Send ``data`` a byte at a time until it is done or the server hangs up."""
    try:
        for byte in data:
            writer.write(bytes([byte]))
            await writer.drain()
            await asyncio.sleep(interval)
    except (ConnectionError, OSError):
        pass


async def answer_while(sending: Awaitable[None], reader: asyncio.StreamReader) -> bytes:
    """What the server answers while ``sending`` runs (stopped once it has)."""
    task = asyncio.ensure_future(sending)
    try:
        return await read_all(reader, within=10)
    finally:
        task.cancel()


def rss_bytes() -> int:
    """This process's resident memory now (Linux)."""
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE")
