"""The same two endpoints written three ways, for the HTTP server benchmark.

POST /chat    parse the JSON request body, answer a ~1 KB chat completion
POST /stream  parse the body, answer 50 SSE `data:` chunks then `data: [DONE]`

All three use msgspec for JSON so the comparison is about the server and
framework, not the codec.

    bare_app       plain ASGI callable (no framework); ``python apps.py junction PORT``
                   serves it behind junction's front door
    starlette_app  Starlette with two routes
    aiohttp_app()  aiohttp.web native handlers; run with `python apps.py aiohttp PORT`
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from typing import Any

import msgspec
from aiohttp import web
from payloads import CHUNK_BYTES, COMPLETION
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

N_CHUNKS = 50
SSE_EVENT = b"data: " + CHUNK_BYTES + b"\n\n"
SSE_DONE = b"data: [DONE]\n\n"
_decode = msgspec.json.Decoder().decode
_encode = msgspec.json.Encoder().encode


def completion_for(body: bytes) -> bytes:
    request: dict[str, Any] = _decode(body)
    return _encode({**COMPLETION, "model": request["model"]})


# ---- bare ASGI --------------------------------------------------------------


async def _lifespan(receive: Any, send: Any) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


async def _read_body(receive: Any) -> bytes:
    body = b""
    more = True
    while more:
        message = await receive()
        body += message.get("body", b"")
        more = message.get("more_body", False)
    return body


async def bare_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        return await _lifespan(receive, send)
    body = await _read_body(receive)
    if scope["path"] == "/chat":
        payload = completion_for(body)
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(payload)).encode()),
        ]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": payload})
    elif scope["path"] == "/stream":
        _decode(body)
        headers = [(b"content-type", b"text/event-stream"), (b"cache-control", b"no-cache")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        for _ in range(N_CHUNKS):
            await send({"type": "http.response.body", "body": SSE_EVENT, "more_body": True})
        await send({"type": "http.response.body", "body": SSE_DONE})
    else:
        await send({"type": "http.response.start", "status": 404, "headers": []})
        await send({"type": "http.response.body", "body": b""})


# ---- Starlette --------------------------------------------------------------


async def _sse_events() -> AsyncIterator[bytes]:
    for _ in range(N_CHUNKS):
        yield SSE_EVENT
    yield SSE_DONE


async def starlette_chat(request: Request) -> Response:
    return Response(completion_for(await request.body()), media_type="application/json")


async def starlette_stream(request: Request) -> StreamingResponse:
    _decode(await request.body())
    return StreamingResponse(
        _sse_events(), media_type="text/event-stream", headers={"cache-control": "no-cache"}
    )


starlette_app = Starlette(
    routes=[
        Route("/chat", starlette_chat, methods=["POST"]),
        Route("/stream", starlette_stream, methods=["POST"]),
    ]
)


# ---- aiohttp.web ------------------------------------------------------------


async def aiohttp_chat(request: web.Request) -> web.Response:
    return web.Response(body=completion_for(await request.read()), content_type="application/json")


async def aiohttp_stream(request: web.Request) -> web.StreamResponse:
    _decode(await request.read())
    response = web.StreamResponse(
        headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
    )
    await response.prepare(request)
    for _ in range(N_CHUNKS):
        await response.write(SSE_EVENT)
    await response.write(SSE_DONE)
    await response.write_eof()
    return response


def aiohttp_app() -> web.Application:
    app = web.Application()
    app.router.add_post("/chat", aiohttp_chat)
    app.router.add_post("/stream", aiohttp_stream)
    return app


def serve_junction(port: int) -> None:
    """``bare_app`` behind junction's front door (server/serving.py), the
    server ``junction serve`` runs, with the default ``server:`` limits."""
    from junction.config import Server
    from junction.server.serving import build_server

    server = build_server(
        bare_app, Server(), host="127.0.0.1", port=port, log_level="warning", loop="uvloop"
    )
    server.run()


if __name__ == "__main__":
    if sys.argv[1:2] not in (["aiohttp"], ["junction"]) or len(sys.argv) != 3:
        sys.exit("usage: python apps.py aiohttp|junction PORT")
    if sys.argv[1] == "junction":
        serve_junction(int(sys.argv[2]))
        sys.exit(0)
    import uvloop

    uvloop.install()  # same event loop as the uvicorn and granian runs
    web.run_app(aiohttp_app(), host="127.0.0.1", port=int(sys.argv[2]), access_log=None, print=None)
