"""A scripted misbehaving provider and a gateway in front of it, each on its
own loopback socket.

The fake upstream speaks the OpenAI chat wire format (``/v1/chat/completions``).
What it does is chosen by the upstream model id the gateway sends; every
``echo-*`` behaviour answers with the credentials it was sent, as providers
do in "Incorrect API key provided: ..." errors.
"""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import uvicorn
from aiohttp import web

from _serving import serve_on_loopback
from junction.config import Config, parse_config
from junction.server.app import create_app

PROVIDER_KEY = "sk-proj-Xq81ZZprovider0secret0value0for0tests"
MASTER_KEY = "master-0secret-0value-0for-0tests"
CLIENT_KEY = "client-key-7f3a9-0for-0tests"
AWS_SECRET = "wJalrXUtnFEMIK7MDENGbPxRfiCYsecretAWS0"
IDLE_S = 0.4
MAX_BODY = 64 * 1024
MAX_LINE = 8 * 1024
MAX_EVENT = 16 * 1024

BEHAVIOURS = (
    "ok",
    "echo-401-json",
    "echo-401-text",
    "echo-headers",
    "echo-stream-error",
    "echo-stream-error-late",
    "big-body",
    "endless-line",
    "big-event",
    "stall",
    "wrong-type",
    "bad-json",
    "bad-sse",
)


def _sse(obj: Any) -> bytes:
    return b"data: " + json.dumps(obj).encode() + b"\n\n"


def _chunk(text: str, finish: str | None = None) -> bytes:
    return _sse(
        {
            "id": "chatcmpl-fake",
            "object": "chat.completion.chunk",
            "created": 1,
            "model": "fake",
            "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": finish}],
        }
    )


def _completion(text: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": 1,
        "model": "fake",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }


def _key_error(auth: str) -> dict[str, Any]:
    return {
        "error": {
            "message": f"Incorrect API key provided: {auth}. You can find your API key "
            "at https://platform.openai.com/account/api-keys.",
            "type": "invalid_request_error",
            "code": "invalid_api_key",
        }
    }


@dataclass
class Upstream:
    url: str
    sent: int = 0
    """Bytes the last endless / big answer wrote before the gateway hung up."""


async def _stream(request: web.Request) -> web.StreamResponse:
    response = web.StreamResponse(headers={"content-type": "text/event-stream"})
    await response.prepare(request)
    return response


async def _endless(response: web.StreamResponse, piece: bytes, upstream: Upstream) -> None:
    """Write ``piece`` until the gateway hangs up (or 64 MiB, a safety stop)."""
    try:
        while upstream.sent < 64 * 1024 * 1024:
            await response.write(piece)
            upstream.sent += len(piece)
            await asyncio.sleep(0)
    except (ConnectionResetError, RuntimeError, OSError):
        return


async def _handle(request: web.Request, upstream: Upstream) -> web.StreamResponse:
    body = await request.json()
    model, stream = body["model"], bool(body.get("stream"))
    auth = request.headers.get("authorization", "")
    if model == "echo-401-json":
        return web.json_response(_key_error(auth), status=401)
    if model == "echo-401-text":
        return web.Response(status=401, text=f"401 Unauthorized. Authorization: {auth}")
    if model == "echo-headers":
        headers = {"x-echo-authorization": auth, "www-authenticate": f'Bearer error="{auth}"'}
        return web.json_response(_key_error("(see headers)"), status=401, headers=headers)
    if model == "big-body":
        filler = "x" * (4 * MAX_BODY)
        return web.json_response(_completion(filler))
    if model == "wrong-type":
        return web.Response(text="<html><body>Bad gateway</body></html>", content_type="text/html")
    if model == "bad-json" and not stream:
        return web.Response(
            text='{"id": "chatcmpl-x", "choices": [', content_type="application/json"
        )
    if not stream:
        return web.json_response(_completion("fine"))
    response = await _stream(request)
    await _stream_behaviour(model, response, upstream, auth)
    return response


async def _stream_behaviour(
    model: str, response: web.StreamResponse, upstream: Upstream, auth: str
) -> None:
    if model == "echo-stream-error":
        await response.write(_sse(_key_error(auth)))
    elif model == "echo-stream-error-late":
        await response.write(_chunk("some "))
        await asyncio.sleep(0.05)  # a read of its own: the content goes out first
        await response.write(_sse(_key_error(auth)))
    elif model == "endless-line":
        await response.write(b"data: ")
        await _endless(response, b"x" * 1024, upstream)
    elif model == "big-event":
        await _endless(response, b"data: " + b"y" * 500 + b"\n", upstream)
    elif model == "stall":
        await response.write(_chunk("one "))
        await asyncio.sleep(0.05)
        await response.write(_chunk("two "))
        await asyncio.sleep(30)
    elif model in ("bad-sse", "bad-json"):
        await response.write(b"data: {this is not json}\n\n")
    else:
        await response.write(_chunk("fine", "stop") + b"data: [DONE]\n\n")


def _event(name: str, data: dict[str, Any]) -> bytes:
    return f"event: {name}\ndata: {json.dumps(data)}\n\n".encode()


ANTHROPIC_START = _event(
    "message_start",
    {
        "type": "message_start",
        "message": {
            "id": "msg_fake",
            "type": "message",
            "role": "assistant",
            "model": "fake",
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": {"input_tokens": 1, "output_tokens": 0},
        },
    },
) + _event(
    "content_block_start",
    {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
)


async def _handle_anthropic(request: web.Request) -> web.StreamResponse:
    """Anthropic's wire format; the key comes in ``x-api-key``."""
    body = await request.json()
    key = request.headers.get("x-api-key", "")
    error = {"type": "authentication_error", "message": f"invalid x-api-key: {key}"}
    if body["model"] == "echo-401-json":
        return web.json_response({"type": "error", "error": error}, status=401)
    response = await _stream(request)
    await response.write(ANTHROPIC_START)
    delta = {"type": "text_delta", "text": "some "}
    await response.write(
        _event("content_block_delta", {"type": "content_block_delta", "index": 0, "delta": delta})
    )
    await asyncio.sleep(0.05)
    await response.write(_event("error", {"type": "error", "error": error}))
    return response


async def start_upstream() -> tuple[web.AppRunner, Upstream]:
    app = web.Application()
    upstream = Upstream("")

    async def handle(request: web.Request) -> web.StreamResponse:
        return await _handle(request, upstream)

    app.router.add_post("/v1/chat/completions", handle)
    app.router.add_post("/v1/messages", _handle_anthropic)
    runner = web.AppRunner(app, shutdown_timeout=0.5)
    await runner.setup()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    await web.SockSite(runner, sock).start()
    upstream.url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    return runner, upstream


def gateway_config(upstream_url: str) -> Config:
    """A model per behaviour, ``fake/<behaviour>``, keys from ``${VAR}``."""
    lines = [
        "server: {master_key: '${MASTER}'}",
        "keys: [{name: tester, key: '${CLIENT}'}]",
        f"timeouts: {{connect: 2, first_token: 5, total: 20, idle: {IDLE_S}}}",
        f"limits: {{max_body_bytes: {MAX_BODY}, max_line_bytes: {MAX_LINE}, "
        f"max_event_bytes: {MAX_EVENT}}}",
        "models:",
    ]
    for name in BEHAVIOURS:
        lines += [
            f"  fake/{name}:",
            "    deployments:",
            f"      - {{provider: openai, model: {name}, base_url: '{upstream_url}/v1', "
            "api_key: '${PROVIDER_KEY}'}",
        ]
    for name in ("echo-401-json", "echo-stream-error-late"):
        lines += [
            f"  fake-anthropic/{name}:",
            "    deployments:",
            f"      - {{provider: anthropic, model: {name}, base_url: '{upstream_url}', "
            "api_key: '${PROVIDER_KEY}'}",
        ]
    lines += [
        "  fake/bedrock-keyed:",
        "    deployments:",
        "      - {provider: bedrock, model: m, base_url: 'http://127.0.0.1:9', "
        "api_key: 'AKIAIOSFODNN7EXAMPLE:${AWS_SECRET}'}",
    ]
    env = {
        "MASTER": MASTER_KEY,
        "CLIENT": CLIENT_KEY,
        "PROVIDER_KEY": PROVIDER_KEY,
        "AWS_SECRET": AWS_SECRET,
    }
    return parse_config("\n".join(lines) + "\n", env, source="<test>")


@dataclass
class Rig:
    upstream: Upstream
    url: str
    http: httpx.AsyncClient
    app: Any

    @property
    def gateway(self) -> Any:
        return self.app.context.state.gateway


async def _serve(app: Any) -> tuple[uvicorn.Server, asyncio.Task[None], str]:
    server = uvicorn.Server(
        uvicorn.Config(app, lifespan="on", log_level="warning", access_log=False)
    )
    task, port = await serve_on_loopback(server)
    return server, task, f"http://127.0.0.1:{port}"


async def rig() -> AsyncIterator[Rig]:
    runner, upstream = await start_upstream()
    app = create_app(gateway_config(upstream.url))
    server, task, url = await _serve(app)
    headers = {"authorization": f"Bearer {CLIENT_KEY}"}
    http = httpx.AsyncClient(base_url=url, timeout=30, headers=headers)
    try:
        yield Rig(upstream, url, http, app)
    finally:
        await http.aclose()
        server.should_exit = True
        await task
        await runner.cleanup()


# One request per door, each asking for `model`; streamed or not.
DOORS = ("openai", "anthropic", "responses")


def door_request(door: str, model: str, stream: bool) -> tuple[str, dict[str, Any]]:
    if door == "openai":
        messages = [{"role": "user", "content": "hi"}]
        return "/v1/chat/completions", {"model": model, "messages": messages, "stream": stream}
    if door == "anthropic":
        messages = [{"role": "user", "content": "hi"}]
        body = {"model": model, "max_tokens": 16, "messages": messages, "stream": stream}
        return "/v1/messages", body
    return "/v1/responses", {"model": model, "input": "hi", "stream": stream}


async def exchange(rig: Rig, door: str, model: str, stream: bool) -> tuple[int, bytes]:
    """Status and every byte the client received (status line, headers, body)."""
    path, body = door_request(door, model, stream)
    async with rig.http.stream("POST", path, json=body) as r:
        raw = await r.aread()
        head = f"{r.status_code} {r.reason_phrase}\n" + "".join(
            f"{k}: {v}\n" for k, v in r.headers.multi_items()
        )
        return r.status_code, head.encode() + raw
