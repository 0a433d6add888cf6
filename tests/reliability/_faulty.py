"""A provider that fails on purpose, in each of the five egress dialects.

It serves the simulator's paths (``/v1/chat/completions``, ``/v1/responses``,
``/v1/messages``, ``/v1beta/models/{model}:generateContent`` and
``:streamGenerateContent``, ``/model/{model}/converse`` and
``/converse-stream``); the upstream model id it is asked for is
``<fault>.<anything>``, and the fault decides what goes on the wire. The
answer around a fault is built with the simulator's generator and each
dialect's own server codec, so everything but the fault is well formed.

Two faults need no server: ``refused`` is a port nothing listens on, and
``connect-timeout`` is :class:`BlackHole`, a listener whose accept queue is
full, so the kernel drops the next connection attempts (the SYN goes
unanswered and the client's connect times out).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from aiohttp import web

from junction.sim.dialects import ANTHROPIC, BEDROCK, GEMINI, OPENAI, OPENAI_RESPONSES, SimDialect
from junction.sim.generate import generate
from junction.sim.profile import ModelConfig
from junction.sim.stream import UNPACED_CHUNK_TOKENS, plan
from junction.types import ChatRequest, ChatResponse, Finish, GatewayError

GARBAGE = b'{"fake": "malformed", this is not JSON <<<'
HANG_S = 30.0
"""How long a stalled or slow answer waits (the gateway hangs up first)."""
BIG_BODY = 256 * 1024
"""The size of an oversized answer (the faulty deployment takes 64 KiB)."""
ENDLESS_CAP = 64 * 1024 * 1024
"""A safety stop for the endless answers: no more than this is written."""

ERRORS: dict[str, GatewayError] = {
    "429-retry-after": GatewayError("rate_limit", "fake: slow down", retry_after=30),
    "429": GatewayError("rate_limit", "fake: slow down"),
    "500": GatewayError("server", "fake: internal error", status=500),
    "502": GatewayError("provider_unavailable", "fake: bad gateway", status=502),
    "503": GatewayError("overloaded", "fake: unavailable", status=503),
    "529": GatewayError("overloaded", "fake: overloaded", status=529),
}


@dataclass
class Faulty:
    url: str = ""
    calls: Counter[str] = field(default_factory=Counter)
    """Requests per upstream model id."""
    written: Counter[str] = field(default_factory=Counter)
    """Bytes an endless answer wrote per model id before the gateway hung up."""


@dataclass
class Call:
    request: web.Request
    dialect: SimDialect
    chat: ChatRequest
    response: ChatResponse
    fault: str
    faulty: Faulty

    @property
    def model(self) -> str:
        return self.chat.model

    async def start_stream(self, content_type: str | None = None) -> web.StreamResponse:
        server = self.dialect.server
        resp = web.StreamResponse(headers={"content-type": content_type or _stream_type(server)})
        await resp.prepare(self.request)
        return resp

    def steps(self) -> tuple[list[bytes], bytes, bytes]:
        """The stream's bytes: each content step, the finish and usage, the end marker."""
        encoder = self.dialect.server.stream_encoder(self.chat)
        steps = plan(self.response, UNPACED_CHUNK_TOKENS, early_usage=self.dialect.early_usage)
        content: list[bytes] = []
        closing = b""
        for step in steps:
            data = b"".join(encoder.encode(e) for e in step.events)
            if closing or any(isinstance(e, Finish) for e in step.events):
                closing += data
            else:
                content.append(data)
        return content, closing, encoder.finish()

    def body(self) -> bytes:
        return self.dialect.server.encode_response(self.response, self.chat)


def _stream_type(server: object) -> str:
    return str(getattr(server, "stream_content_type", "text/event-stream"))


def _abort(request: web.Request) -> None:
    """Reset the connection (RST), as a crashed provider would."""
    transport = request.transport
    if transport is None:
        return
    sock = transport.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()


async def _endless(call: Call, resp: web.StreamResponse, piece: bytes) -> None:
    try:
        while call.faulty.written[call.model] < ENDLESS_CAP:
            await resp.write(piece)
            call.faulty.written[call.model] += len(piece)
            await asyncio.sleep(0)
    except (ConnectionError, RuntimeError, OSError):
        return


async def _plain(call: Call) -> web.StreamResponse:
    """The answer to a request that is not streamed."""
    fault, body = call.fault, call.body()
    if fault == "slow-first-token":
        await asyncio.sleep(HANG_S)
    if fault in ("stall", "cut"):
        resp = web.StreamResponse(headers={"content-type": "application/json"})
        resp.content_length = len(body)
        await resp.prepare(call.request)
        await resp.write(body[: len(body) // 2])
        if fault == "stall":
            await asyncio.sleep(HANG_S)
        _abort(call.request)
        return resp
    if fault == "cut-done":  # a clean end of the body, half-way through the JSON
        resp = await call.start_stream("application/json")
        await resp.write(body[: len(body) // 2])
        await resp.write_eof()
        return resp
    if fault == "bad-json":
        return web.Response(body=GARBAGE, content_type="application/json")
    if fault == "bad-sse":  # an event stream where JSON was asked for
        return web.Response(body=b"data: " + body + b"\n\n", content_type="text/event-stream")
    if fault == "wrong-type":
        return web.Response(
            text="<html><body>502 Bad Gateway</body></html>", content_type="text/html"
        )
    if fault == "big-body":  # the answer, then valid JSON whitespace: 256 KiB in all
        return web.Response(body=body.ljust(BIG_BODY), content_type="application/json")
    if fault == "endless-line":
        resp = await call.start_stream("application/json")
        await _endless(call, resp, b"x" * 4096)
        return resp
    return web.Response(body=body, content_type="application/json")


NOISE = b"\x00\x01\x02 not an event stream \xff\xfe\n\n\x00\x00\x00\x10garbage\n\n"


async def _streamed(call: Call) -> web.StreamResponse:
    fault = call.fault
    if fault == "slow-first-token":
        await asyncio.sleep(HANG_S)
    if fault == "wrong-type":
        return web.Response(
            text="<html><body>502 Bad Gateway</body></html>", content_type="text/html"
        )
    content, closing, marker = call.steps()
    resp = await call.start_stream()
    if fault in ("big-body", "endless-line"):
        await resp.write(content[0])  # the start, no content yet
        piece = b"data: " + b"y" * 500 + b"\n" if fault == "big-body" else b"x" * 4096
        if fault == "endless-line":
            await resp.write(b"data: ")
        await _endless(call, resp, piece)
        return resp
    if fault == "bad-sse":
        await resp.write(NOISE)
        await resp.write_eof()
        return resp
    if fault == "bad-json":
        content.insert(1, call.dialect.garbage_frame)
    if fault in ("stall", "cut", "cut-done"):
        for data in content[:2]:
            await resp.write(data)
            await asyncio.sleep(0.02)  # a read of its own: the content goes out first
        if fault == "stall":
            await asyncio.sleep(HANG_S)
        elif fault == "cut":
            _abort(call.request)
        else:
            await resp.write(marker)
            await resp.write_eof()
        return resp
    for data in content:
        await resp.write(data)
    await resp.write(closing + marker)
    await resp.write_eof()
    return resp


async def _answer(call: Call) -> web.StreamResponse:
    err = ERRORS.get(call.fault)
    if err is not None:
        headers = dict(call.dialect.server.error_headers(err))
        if err.retry_after is not None:
            headers["retry-after"] = f"{err.retry_after:g}"
        return web.Response(
            status=err.status,
            body=call.dialect.server.encode_error(err),
            content_type="application/json",
            headers=headers,
        )
    try:
        return await (_streamed(call) if call.chat.stream else _plain(call))
    except (ConnectionError, asyncio.CancelledError):
        return web.Response(status=204)  # the gateway hung up


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _route(
    faulty: Faulty, dialect: SimDialect, where: Callable[[web.Request], tuple[str, bool]]
) -> Handler:
    async def handle(request: web.Request) -> web.StreamResponse:
        model, stream = where(request)
        raw = await request.read()
        chat = dialect.server.decode_request(raw, model=model, stream=stream)
        faulty.calls[chat.model] += 1
        response = generate(chat, ModelConfig(), f"fake-{uuid.uuid4().hex}")
        fault = chat.model.partition(".")[0]
        return await _answer(Call(request, dialect, chat, response, fault, faulty))

    return handle


def _in_body(request: web.Request) -> tuple[str, bool]:
    return "", False


def _gemini(request: web.Request) -> tuple[str, bool]:
    model, _, method = request.match_info["target"].partition(":")
    return model, method == "streamGenerateContent"


def _bedrock(request: web.Request) -> tuple[str, bool]:
    return request.match_info["model"], request.match_info["operation"] == "converse-stream"


async def start_faulty() -> tuple[web.AppRunner, Faulty]:
    faulty = Faulty()
    app = web.Application()
    app.router.add_post("/v1/chat/completions", _route(faulty, OPENAI, _in_body))
    app.router.add_post("/v1/responses", _route(faulty, OPENAI_RESPONSES, _in_body))
    app.router.add_post("/v1/messages", _route(faulty, ANTHROPIC, _in_body))
    app.router.add_post("/v1beta/models/{target}", _route(faulty, GEMINI, _gemini))
    app.router.add_post(
        "/model/{model}/{operation:converse|converse-stream}", _route(faulty, BEDROCK, _bedrock)
    )
    runner = web.AppRunner(app, handler_cancellation=True, shutdown_timeout=0.5, access_log=None)
    await runner.setup()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    await web.SockSite(runner, sock).start()
    faulty.url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    return runner, faulty


class BlackHole:
    """A listener that never accepts, its queue filled: connecting times out."""

    def __init__(self) -> None:
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(0)
        self.port: int = self.listener.getsockname()[1]
        self.fillers: list[socket.socket] = []
        for _ in range(8):  # more than the queue holds; the rest wait in SYN-SENT
            filler = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            filler.setblocking(False)
            with contextlib.suppress(BlockingIOError):
                filler.connect(("127.0.0.1", self.port))
            self.fillers.append(filler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def close(self) -> None:
        for s in [*self.fillers, self.listener]:
            s.close()
