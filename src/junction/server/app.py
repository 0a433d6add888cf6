"""The HTTP app: routes, body limits, SSE relay.

Handlers are thin: read the body (bounded), decode with the ingress codec,
call the gateway, encode with the same codec. Every failure leaves in the
ingress's error shape with the right status; nothing else reaches a client.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from importlib import resources
from typing import Any
from urllib.parse import parse_qs

import msgspec

from junction.catalog import openrouter_model, public_endpoint
from junction.codecs import anthropic_messages, openai_chat
from junction.codecs.base import StreamEncoder
from junction.config import Config, parse_config
from junction.gateway import Gateway, Trace
from junction.gateway.accounting import generation_view
from junction.gateway.auto import router_header
from junction.redact import Redactor, install_log_redactor
from junction.server import openapi
from junction.server.asgi import (
    App,
    Disconnected,
    Request,
    Response,
    Router,
    StreamingResponse,
    TooLarge,
)
from junction.server.doors import ANTHROPIC_MESSAGES, OPENAI_CHAT, Door, doors
from junction.server.errors import ErrorEncoder, client_error, error_response
from junction.server.request_bounds import (
    OutputLimit,
    RequestBounds,
    decode_bounded,
    wire_namer,
)
from junction.transport import Transport
from junction.types import ChatRequest, ErrorKind, GatewayError, StreamEvent

log = logging.getLogger("junction.server")

_SSE_HEADERS = (("cache-control", "no-cache"), ("x-accel-buffering", "no"))


@dataclass(slots=True)
class State:
    gateway: Gateway
    max_body: int
    started: float
    bounds: RequestBounds


def demo_config(sim_url: str) -> Config:
    """The packaged demo config (the same as examples/sim.yaml)."""
    text = resources.files("junction").joinpath("demo.yaml").read_text(encoding="utf-8")
    return parse_config(text, {"JUNCTION_SIM_URL": sim_url}, source="<demo>")


class Gatekeeper:
    """Holds what start-up builds; handlers reach the gateway through it."""

    def __init__(
        self, config: ConfigSource | None, embedded_sim: bool, sim_profile: str | None
    ) -> None:
        self._config = config
        self._embedded_sim = embedded_sim
        self._sim_profile = sim_profile
        self._sim_runner: Any = None
        self.state: State | None = None

    async def startup(self) -> None:
        source = self._config
        cfg = source if isinstance(source, Config) else None
        if self._embedded_sim:
            from junction.sim import app as sim_app
            from junction.sim.profile import load_profile

            profile = load_profile(self._sim_profile) if self._sim_profile else None
            self._sim_runner, sim_url = await sim_app.start(profile, "127.0.0.1", 0)
            log.info("embedded simulator at %s", sim_url)
            cfg = demo_config(sim_url) if source is None else _load(source, sim_url)
        if cfg is None:
            raise RuntimeError("create_app needs a config or embedded_sim=True")
        gateway = Gateway(cfg, Transport())
        install_log_redactor(gateway.redactor)
        bounds = RequestBounds(cfg.request_limits, _output_limit(gateway))
        self.state = State(gateway, cfg.server.max_body_bytes, time.time(), bounds)

    async def shutdown(self) -> None:
        if self.state is not None:
            await self.state.gateway.transport.close()
        if self._sim_runner is not None:
            await self._sim_runner.cleanup()


ConfigSource = Config | Callable[[str], Config]
"""A config, or (with the embedded simulator) a function of the
simulator's URL that loads one, so ``${JUNCTION_SIM_URL}`` can point at it."""


def _load(source: ConfigSource, sim_url: str) -> Config:
    return source if isinstance(source, Config) else source(sim_url)


def create_app(
    config: ConfigSource | None = None,
    *,
    embedded_sim: bool = False,
    sim_profile: str | None = None,
) -> App:
    """The gateway's ASGI app. With ``embedded_sim`` the provider simulator
    runs in the same process and, when no ``config`` is given, the demo
    models route to it."""
    keeper = Gatekeeper(config, embedded_sim, sim_profile)
    router = Router(_not_found)

    def add(
        method: str,
        paths: tuple[str, ...],
        handler: StateHandler,
        door: Door = OPENAI_CHAT,
        public: bool = False,
    ) -> None:
        wrapped = _guard(keeper, handler, door.server.encode_error, public)
        for path in paths:
            router.add(method, path, wrapped)

    add("POST", _openai_paths("/embeddings"), _embeddings)
    add("GET", _openai_paths("/models"), _models)
    add("GET", tuple(p + "/{model}/endpoints" for p in _openai_paths("/models")), _endpoints)
    add("GET", _openai_paths("/generation"), _generation)
    add(
        "POST",
        ("/v1/messages/count_tokens", "/api/v1/messages/count_tokens"),
        _count_tokens,
        ANTHROPIC_MESSAGES,
    )
    for door in doors():
        add("POST", door.paths, _chat(door), door)
    add("GET", ("/health",), _health, public=True)
    add("GET", ("/openapi.json",), openapi.endpoint(), public=True)
    return App(router, keeper.startup, keeper.shutdown, keeper)


def _openai_paths(path: str) -> tuple[str, ...]:
    """OpenAI's path, and the same under OpenRouter's ``/api/v1`` and bare."""
    return (f"/v1{path}", f"/api/v1{path}", path)


StateHandler = Callable[[State, Request], Awaitable[Response | StreamingResponse]]


def _guard(
    keeper: Gatekeeper, handler: StateHandler, encode: ErrorEncoder, public: bool = False
) -> Callable[[Request], Awaitable[Response | StreamingResponse]]:
    async def endpoint(request: Request) -> Response | StreamingResponse:
        state = keeper.state
        try:
            if state is None:
                raise GatewayError("overloaded", "junction is starting up; retry shortly")
            if not public:
                request.principal = state.gateway.authenticate(_token(request))
            return await handler(state, request)
        except TooLarge as exc:
            return error_response(_too_large(exc.limit), encode)
        except Disconnected:
            return Response(b"", 499)
        except Exception as exc:  # every failure leaves in the error shape
            redactor = state.gateway.redactor if state is not None else None
            return error_response(client_error(exc, redactor), encode)

    return endpoint


def _output_limit(gateway: Gateway) -> OutputLimit:
    """A model's largest ``max_output_tokens`` when each of its deployments
    states one (None when one does not, or the model is not served here)."""

    def limit(model: str) -> int | None:
        try:
            route = gateway.route(model, kind=None)
        except GatewayError:
            return None
        known = [e.info.max_output_tokens for e in route.endpoints]
        if not known or None in known:
            return None
        return max(k for k in known if k is not None)

    return limit


def _token(request: Request) -> str | None:
    """The client's key: ``Authorization: Bearer``, ``x-api-key`` (Anthropic)
    or ``x-goog-api-key``."""
    headers = request.headers
    auth = headers.get("authorization")
    if auth is not None and auth[:7].lower() == "bearer ":
        return auth[7:].strip()
    return headers.get("x-api-key") or headers.get("x-goog-api-key")


async def _not_found(request: Request, status: int) -> Response:
    kind: ErrorKind = "not_found" if status == 404 else "invalid_request"
    if status == 404:
        message = f"There is no route {request.path}. The API is described in docs/."
    else:
        message = f"{request.method} is not allowed on {request.path}."
    err = GatewayError(kind, message, status=status)
    return error_response(err, openai_chat.encode_error)


def _too_large(limit: int) -> GatewayError:
    return GatewayError(
        "request_too_large",
        f"The request body is larger than this gateway's limit of {limit} bytes "
        "(server.max_body_bytes).",
    )


async def _read(request: Request, limit: int) -> bytes:
    body = await request.body(limit)
    if not body:
        raise GatewayError("invalid_request", "The request body is empty; send a JSON object.")
    return body


def _chat(door: Door) -> StateHandler:
    async def chat(st: State, request: Request) -> Response | StreamingResponse:
        server = door.server
        body = await _read(request, st.max_body)
        req = decode_bounded(server.decode_request, body, st.bounds.limits)
        st.bounds.check_chat(req, wire_namer(server.name, body))
        trace = Trace(key=request.principal)
        if not req.stream:
            response = await st.gateway.chat(req, trace)
            routed = [router_header(trace.router)] if trace.router else []
            return Response(server.encode_response(response, req), headers=routed)
        events = await st.gateway.chat_stream(req, trace)
        # The first event decides the status: failures before it are HTTP errors.
        try:
            first = await anext(events)
        except StopAsyncIteration:
            raise GatewayError(
                "provider_unavailable", "the provider sent an empty stream"
            ) from None
        frames = _relay(
            first,
            events,
            server.stream_encoder(req),
            server.finish_after_error,
            st.gateway.redactor,
        )
        routed = [router_header(trace.router)] if trace.router else []
        return StreamingResponse(frames, headers=[*_SSE_HEADERS, *routed])

    return chat


async def _relay(
    first: list[StreamEvent],
    batches: AsyncIterator[list[StreamEvent]],
    writer: StreamEncoder,
    finish_after_error: bool,
    redactor: Redactor,
) -> AsyncIterator[bytes]:
    """One write per upstream read: the frames of a batch go out together."""
    encode = writer.encode
    try:
        yield b"".join([encode(e) for e in first])
        async for batch in batches:
            frames = b"".join([encode(e) for e in batch])
            if frames:
                yield frames
    except Exception as exc:
        yield writer.error(client_error(exc, redactor))
        if not finish_after_error:
            return
    finally:
        # Closing the event iterator closes the upstream connection: a
        # client that goes away cancels the provider call.
        await batches.aclose()  # type: ignore[attr-defined]
    yield writer.finish()


async def _count_tokens(st: State, request: Request) -> Response:
    body = await _read(request, st.max_body)
    req = decode_bounded(_count_tokens_request, body, st.bounds.limits)
    st.bounds.check_nesting(req, wire_namer(ANTHROPIC_MESSAGES.server.name, body))
    count, exact = await st.gateway.count_tokens(req)
    source = "provider" if exact else "estimate"
    headers = (("x-junction-token-count", source),)
    return Response(msgspec.json.encode({"input_tokens": count}), headers=headers)


def _count_tokens_request(body: bytes) -> ChatRequest:
    return anthropic_messages.decode_request(body, count_tokens=True)


async def _embeddings(st: State, request: Request) -> Response:
    body = await _read(request, st.max_body)
    req = decode_bounded(openai_chat.decode_embeddings_request, body, st.bounds.limits)
    st.bounds.check_embeddings(req)
    response = await st.gateway.embed(req, Trace())
    return Response(openai_chat.encode_embeddings_response(response, req.encoding_format))


async def _models(st: State, request: Request) -> Response:
    """OpenAI's model list, each entry also in OpenRouter's ``Model`` shape
    (pricing, context_length, supported_parameters, architecture)."""
    data: list[dict[str, Any]] = []
    for route in st.gateway.routes.values():
        entry = openrouter_model(route.info)
        entry.update(object="model", owned_by=route.owned_by, kind=route.kind)
        entry["links"] = {"details": f"/api/v1/models/{route.name}/endpoints"}
        data.append(entry)
    return Response(msgspec.json.encode({"object": "list", "data": data}))


async def _endpoints(st: State, request: Request) -> Response:
    """OpenRouter's ``GET /models/{author}/{slug}/endpoints``, with live stats."""
    route = st.gateway.route(request.params["model"], kind=None)
    now = st.gateway.clock()
    model = openrouter_model(route.info)
    endpoints = [
        public_endpoint(e.info, st.gateway.stats.snapshot(e.info.id, now=now))
        for e in route.endpoints
    ]
    body = {
        "data": {
            "id": route.name,
            "name": model["name"],
            "created": model["created"],
            "description": model["description"],
            "architecture": model["architecture"],
            "endpoints": endpoints,
        }
    }
    return Response(msgspec.json.encode(body))


async def _generation(st: State, request: Request) -> Response:
    """OpenRouter's ``GET /generation?id=...``: cost, tokens and every attempt.
    A key sees only its own generations (another's is "not found"); the
    master key, and every caller when no keys are configured, sees all.
    The Responses door's ``resp_gen-...`` form of an id is accepted too."""
    wanted = parse_qs(request.query).get("id", [""])[0]
    if not wanted:
        raise GatewayError("invalid_request", "Pass the generation id: /v1/generation?id=...")
    own_id = wanted[5:] if wanted.startswith("resp_gen-") else wanted
    found = st.gateway.generations.get(own_id)
    if found is None or not found.readable_by(request.principal):
        raise GatewayError(
            "not_found",
            f"No generation {wanted!r} here for this key (the log keeps the most "
            f"recent {st.gateway.generations.capacity} in memory).",
            param="id",
        )
    return Response(msgspec.json.encode({"data": generation_view(found)}))


async def _health(st: State, request: Request) -> Response:
    return Response(msgspec.json.encode({"status": "ok", "models": len(st.gateway.routes)}))
