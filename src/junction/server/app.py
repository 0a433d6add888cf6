"""The HTTP app: routes, body limits, SSE relay.

Handlers are thin: read the body (bounded), decode with the ingress codec,
call the gateway, encode with the same codec. Every failure leaves in the
ingress's error shape with the right status; nothing else reaches a client.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from importlib import resources
from typing import Any

import msgspec
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from junction.codecs import openai_chat
from junction.config import Config, parse_config
from junction.gateway import Gateway, Trace
from junction.server.errors import as_gateway_error, error_response
from junction.transport import Transport
from junction.types import ErrorKind, GatewayError, StreamEvent

log = logging.getLogger("junction.server")

_JSON = "application/json"
_SSE_HEADERS = {"cache-control": "no-cache", "x-accel-buffering": "no"}


@dataclass(slots=True)
class State:
    gateway: Gateway
    max_body: int
    started: float


def demo_config(sim_url: str) -> Config:
    """The packaged demo config (the same as examples/sim.yaml)."""
    text = resources.files("junction").joinpath("demo.yaml").read_text(encoding="utf-8")
    return parse_config(text, {"JUNCTION_SIM_URL": sim_url}, source="<demo>")


def create_app(
    config: Config | None = None,
    *,
    embedded_sim: bool = False,
    sim_profile: str | None = None,
) -> Starlette:
    """The gateway app. With ``embedded_sim`` the provider simulator runs in
    the same process and, when no ``config`` is given, the demo models
    route to it."""
    holder: dict[str, State] = {}

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        sim_runner = None
        cfg = config
        if embedded_sim:
            from junction.sim import app as sim_app
            from junction.sim.profile import load_profile

            profile = load_profile(sim_profile) if sim_profile else None
            sim_runner, sim_url = await sim_app.start(profile, "127.0.0.1", 0)
            log.info("embedded simulator at %s", sim_url)
            if cfg is None:
                cfg = demo_config(sim_url)
        if cfg is None:
            raise RuntimeError("create_app needs a config or embedded_sim=True")
        transport = Transport()
        holder["state"] = State(Gateway(cfg, transport), cfg.server.max_body_bytes, time.time())
        try:
            yield
        finally:
            await transport.close()
            if sim_runner is not None:
                await sim_runner.cleanup()

    def state() -> State:
        return holder["state"]

    routes = [
        Route(p, _endpoint(state, _chat), methods=["POST"])
        for p in ("/v1/chat/completions", "/chat/completions", "/api/v1/chat/completions")
    ]
    routes += [
        Route(p, _endpoint(state, _embeddings), methods=["POST"])
        for p in ("/v1/embeddings", "/embeddings", "/api/v1/embeddings")
    ]
    routes += [
        Route(p, _endpoint(state, _models), methods=["GET"])
        for p in ("/v1/models", "/models", "/api/v1/models")
    ]
    routes.append(Route("/health", _endpoint(state, _health), methods=["GET"]))
    return Starlette(
        routes=routes,
        lifespan=lifespan,
        exception_handlers={HTTPException: _http_error},
    )


Handler = Callable[[State, Request], Awaitable[Response]]


def _endpoint(
    state: Callable[[], State], handler: Handler
) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        try:
            return await handler(state(), request)
        except Exception as exc:  # every failure leaves in the error shape
            return error_response(as_gateway_error(exc), openai_chat.encode_error)

    return endpoint


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    kind: ErrorKind = "not_found" if exc.status_code == 404 else "invalid_request"
    message = {
        404: f"No route {request.url.path}. See docs/ for the API.",
        405: f"{request.method} is not allowed on {request.url.path}.",
    }.get(exc.status_code, str(exc.detail))
    err = GatewayError(kind, message, status=exc.status_code)
    return error_response(err, openai_chat.encode_error)


async def read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
    body = b"".join(chunks)
    if not body:
        raise GatewayError("invalid_request", "The request body is empty; send a JSON object.")
    return body


def _too_large(limit: int) -> GatewayError:
    return GatewayError(
        "request_too_large",
        f"The request body is larger than this gateway's limit of {limit} bytes "
        "(server.max_body_bytes).",
    )


async def _chat(st: State, request: Request) -> Response:
    body = await read_body(request, st.max_body)
    req = openai_chat.decode_request(body)
    trace = Trace()
    if not req.stream:
        response = await st.gateway.chat(req, trace)
        return Response(openai_chat.encode_response(response), media_type=_JSON)
    events = await st.gateway.chat_stream(req, trace)
    # The first event decides the status: failures before it are HTTP errors.
    try:
        first = await anext(events)
    except StopAsyncIteration:
        raise GatewayError("provider_unavailable", "the provider sent an empty stream") from None
    encoder = openai_chat.StreamEncoder(include_usage=req.include_usage)
    return StreamingResponse(
        _sse(first, events, encoder), media_type="text/event-stream", headers=_SSE_HEADERS
    )


async def _sse(
    first: StreamEvent, events: AsyncIterator[StreamEvent], encoder: openai_chat.StreamEncoder
) -> AsyncIterator[bytes]:
    try:
        yield encoder.encode(first)
        async for event in events:
            frame = encoder.encode(event)
            if frame:
                yield frame
    except Exception as exc:
        yield encoder.error(as_gateway_error(exc))
    finally:
        # Closing the event iterator closes the upstream connection: a
        # client that goes away cancels the provider call.
        await events.aclose()  # type: ignore[attr-defined]
    yield encoder.finish()


async def _embeddings(st: State, request: Request) -> Response:
    body = await read_body(request, st.max_body)
    req = openai_chat.decode_embeddings_request(body)
    response = await st.gateway.embed(req, Trace())
    out = openai_chat.encode_embeddings_response(response, req.encoding_format)
    return Response(out, media_type=_JSON)


async def _models(st: State, request: Request) -> Response:
    data: list[dict[str, Any]] = [
        {"id": r.name, "object": "model", "created": int(st.started), "owned_by": r.owned_by}
        for r in st.gateway.routes.values()
    ]
    return Response(msgspec.json.encode({"object": "list", "data": data}), media_type=_JSON)


async def _health(st: State, request: Request) -> Response:
    body = {"status": "ok", "models": len(st.gateway.routes)}
    return Response(msgspec.json.encode(body), media_type=_JSON)


def env_snapshot() -> Mapping[str, str]:
    return dict(os.environ)
