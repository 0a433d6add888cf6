"""The HTTP app: routes, body limits, SSE relay.

Handlers are thin: read the body (bounded), decode with the ingress codec,
call the gateway, encode with the same codec. Every failure leaves in the
ingress's error shape with the right status; nothing else reaches a client.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from importlib import resources
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

import msgspec

from junction.catalog import openrouter_model
from junction.codecs import anthropic_messages, openai_chat, openai_responses
from junction.config import Config, parse_config
from junction.gateway import Gateway, Trace
from junction.gateway.accounting import generation_view
from junction.gateway.auto import router_header
from junction.redact import install_log_redactor
from junction.requestlog import RequestLog, open_request_log
from junction.requestlog.rows import parse_tags
from junction.requestlog.spend_record import restore_spend
from junction.responses_store import StoredResponses
from junction.server import (
    admin,
    admin_logs,
    dashboard,
    feedback,
    gemini_door,
    openapi,
    stored_responses,
)
from junction.server.asgi import (
    App,
    Disconnected,
    Request,
    Response,
    Router,
    StreamingResponse,
    TooLarge,
)
from junction.server.doors import ANTHROPIC_MESSAGES, OPENAI_CHAT, OPENAI_RESPONSES, Door, doors
from junction.server.endpoint_pages import endpoints_page
from junction.server.errors import (
    ErrorEncoder,
    client_error,
    encode_openrouter_error,
    error_response,
)
from junction.server.model_views import (
    anthropic_model,
    anthropic_page,
    openai_model,
    openrouter_page,
    wants_anthropic,
)
from junction.server.openrouter_door import OPENROUTER_CHAT, OPENROUTER_RESPONSES
from junction.server.relay import stream_response
from junction.server.request_bounds import (
    OutputLimit,
    RequestBounds,
    decode_bounded,
    wire_namer,
)
from junction.stores.open import open_stores, redis_prefix, redis_url
from junction.telemetry import Telemetry
from junction.telemetry import install as install_telemetry
from junction.transport import Transport
from junction.types import ChatRequest, ErrorKind, GatewayError

if TYPE_CHECKING:
    from junction.stores.redis.routing import SharedRouting

log = logging.getLogger("junction.server")


@dataclass(slots=True)
class State:
    gateway: Gateway
    max_body: int
    started: float
    bounds: RequestBounds
    telemetry: Telemetry
    responses: StoredResponses | None = None
    """Stored Responses (``responses.store``); None when off."""
    request_log: RequestLog | None = None

    def trace(self, request: Request, door: str, req: ChatRequest, body: bytes) -> Trace:
        """A chat request's trace, with what the request log keeps of it: the
        client's ``x-junction-tags``, the model it asked for, its ``user`` and
        ``metadata``, and (when this caller's bodies are kept) the body, redacted."""
        trace = Trace(key=request.principal, door=door, request_headers=request.headers)
        trace.tags = parse_tags(request.headers.get("x-junction-tags"))
        trace.extra = {"model_asked": req.model, "user": req.user, "metadata": req.metadata}
        if self.request_log is not None and self.request_log.keeps_body(request.principal):
            trace.extra["body"] = self.request_log.redaction.apply(body)
        return trace


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
        self._routing: SharedRouting | None = None
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
        env = os.environ
        url = redis_url(cfg, env)
        if url:
            from junction.stores.redis.routing import shared_routing

            self._routing = shared_routing(
                url, prefix=redis_prefix(cfg, env), sticky=cfg.routing.sticky
            )
            self._routing.start()
        routing = self._routing
        gateway = Gateway(
            cfg,
            Transport(),
            stores=await open_stores(cfg, env),
            env=env,
            stats=routing.stats if routing else None,
            sticky=routing.sticky if routing else None,
        )
        install_log_redactor(gateway.redactor)
        bounds = RequestBounds(cfg.request_limits, _output_limit(gateway))
        responses = await stored_responses.open_stored(cfg)
        telemetry = install_telemetry(gateway, cfg)
        request_log = await open_request_log(cfg, gateway.accountant)
        restore_spend(gateway.stores.counters, request_log)
        self.state = State(
            gateway,
            cfg.server.max_body_bytes,
            time.time(),
            bounds,
            telemetry,
            responses,
            request_log,
        )

    async def close_request_log(self) -> None:
        """After the last request drained: write every queued row (App.on_shutdown)."""
        if self.state is not None and self.state.request_log is not None:
            await self.state.request_log.close()

    async def shutdown(self) -> None:
        if self.state is not None:
            await self.state.gateway.close()
            self.state.telemetry.shutdown()
            if self.state.responses is not None:
                await self.state.responses.close()
        if self._routing is not None:
            await self._routing.close()
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
        wrapped = _guard(keeper, handler, door.server.encode_error, public, door=door.server.name)
        for path in paths:
            router.add(method, path, wrapped)

    def add_by_client(method: str, paths: tuple[str, ...], handler: StateHandler) -> None:
        """Paths both OpenAI and Anthropic clients call: errors in the caller's shape."""
        wrapped = _guard(keeper, handler, openai_chat.encode_error, by_client=True)
        for path in paths:
            router.add(method, path, wrapped)

    def add_openai(method: str, path: str, handler: StateHandler) -> None:
        """OpenAI's path and the bare one; OpenRouter's (errors in its shape)."""
        add(method, (f"/v1{path}", path), handler)
        add(method, (f"/api/v1{path}",), handler, OPENROUTER_CHAT)

    add_openai("POST", "/embeddings", _embeddings)
    add("GET", ("/api/v1/models",), _models, OPENROUTER_CHAT)
    add_openai("GET", "/models/{model}/endpoints", _endpoints)
    add_openai("GET", "/generation", _generation)
    # After /endpoints: a pattern with no suffix matches any deeper path.
    add_by_client("GET", ("/v1/models", "/models"), _models)
    add_by_client("GET", ("/v1/models/{model}", "/models/{model}"), _model)
    add("GET", ("/api/v1/model/{model}",), _openrouter_model, OPENROUTER_CHAT)
    add(
        "POST",
        ("/v1/messages/count_tokens", "/api/v1/messages/count_tokens"),
        _count_tokens,
        ANTHROPIC_MESSAGES,
    )
    for door in (*doors(), OPENROUTER_CHAT, OPENROUTER_RESPONSES):
        add("POST", door.paths, _chat(door), door)
    for responses in (OPENAI_RESPONSES, OPENROUTER_RESPONSES):  # stored Responses
        where = tuple(f"{p}/{{response_id}}" for p in responses.paths)
        add("GET", tuple(f"{p}/input_items" for p in where), _input_items, responses)
        add("GET", where, _retrieve_response, responses)
        add("DELETE", where, _delete_response, responses)
    for route in gemini_door.ROUTES:  # public: the door takes the key from ?key= too
        add(route.method, route.paths, route.handler, gemini_door.DOOR, public=True)
    gemini_door.share_models_list(router)
    admin.add_routes(add)
    feedback.add_routes(add)
    add("GET", ("/health",), _health, public=True)
    add("GET", ("/openapi.json",), openapi.endpoint(), public=True)
    add("GET", ("/metrics",), _metrics, public=True)
    add("GET", ("/admin/logs",), admin_logs.logs)
    add("GET", ("/admin/spend",), admin_logs.spend)
    dashboard.add_routes(add)
    app = App(router, keeper.startup, keeper.shutdown, keeper)
    app.on_shutdown.append(keeper.close_request_log)
    return app


StateHandler = Callable[[State, Request], Awaitable[Response | StreamingResponse]]


def _guard(
    keeper: Gatekeeper,
    handler: StateHandler,
    encode: ErrorEncoder,
    public: bool = False,
    by_client: bool = False,
    door: str = OPENAI_CHAT.server.name,
) -> Callable[[Request], Awaitable[Response | StreamingResponse]]:
    """``handler`` behind authentication, its failures in ``encode``'s shape
    (``by_client``: in the shape of the client that called, see
    :func:`_error_encoder`). ``door`` names the door in a refusal's log row."""

    async def endpoint(request: Request) -> Response | StreamingResponse:
        state = keeper.state
        shape = _error_encoder(request) if by_client else encode
        try:
            if state is None:
                raise GatewayError("overloaded", "junction is starting up; retry shortly")
            if not public:
                at = _client_door(request) if by_client else door
                request.principal = await state.gateway.authenticate(_token(request), at)
            return await handler(state, request)
        except TooLarge as exc:
            return error_response(_too_large(exc.limit), shape)
        except Disconnected:
            return Response(b"", 499)
        except Exception as exc:  # every failure leaves in the error shape
            redactor = state.gateway.redactor if state is not None else None
            return error_response(client_error(exc, redactor), shape)

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


def _error_encoder(request: Request) -> ErrorEncoder:
    """The error shape of the door a request came through, for the routes
    no one door owns (a missing route, a wrong method, the model list):
    Anthropic's for an Anthropic client (``anthropic-version``, or a path
    under ``/v1/messages``), OpenRouter's under ``/api/v1``, OpenAI's
    Responses' under ``/v1/responses``, else OpenAI's."""
    path = request.path
    if wants_anthropic(request.headers) or path.startswith(_ANTHROPIC_PREFIXES):
        return anthropic_messages.encode_error
    if path.startswith("/api/v1/"):
        return encode_openrouter_error
    if path.startswith(("/v1/responses", "/responses")):
        return openai_responses.encode_error
    return openai_chat.encode_error


_ANTHROPIC_PREFIXES = ("/v1/messages", "/api/v1/messages")


def _client_door(request: Request) -> str:
    """The door a model-list call is logged under when its key is refused."""
    anthropic = wants_anthropic(request.headers)
    return (ANTHROPIC_MESSAGES if anthropic else OPENAI_CHAT).server.name


async def _not_found(request: Request, status: int) -> Response:
    kind: ErrorKind = "not_found" if status == 404 else "invalid_request"
    if status == 404:
        message = f"There is no route {request.path}. The API is described in docs/."
    else:
        message = f"{request.method} is not allowed on {request.path}."
    err = GatewayError(kind, message, status=status)
    return error_response(err, _error_encoder(request))


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
        # Stored Responses: the Responses door's turn (None when off or another door).
        turn = None
        if server.name == OPENAI_RESPONSES.server.name:
            turn = await stored_responses.begin(st.responses, body, request.principal)
        req = decode_bounded(turn.decode if turn else server.decode_request, body, st.bounds.limits)
        st.bounds.check_chat(req, wire_namer(server.name, body))
        trace = st.trace(request, server.name, req, body)
        if not req.stream:
            response = await st.telemetry.answered(st.gateway.chat(req, trace))
            encode = turn.encode_response if turn else server.encode_response
            return Response(encode(response, req), headers=_headers(trace))
        events = await st.telemetry.streamed(st.gateway.chat_stream(req, trace))
        encoder = turn.stream_encoder(req) if turn else server.stream_encoder(req)
        return await stream_response(
            events, encoder, server.finish_after_error, st.gateway.redactor, _headers(trace)
        )

    return chat


def _headers(trace: Trace) -> list[tuple[str, str]]:
    """The response headers a request's trace asks for: the router's choice,
    the policy's rate-limit state and budget warnings."""
    routed = [router_header(trace.router)] if trace.router else []
    return routed + trace.headers if trace.headers else routed


async def _retrieve_response(st: State, request: Request) -> Response:
    return await stored_responses.retrieve(st.responses, request)


async def _delete_response(st: State, request: Request) -> Response:
    return await stored_responses.delete(st.responses, request)


async def _input_items(st: State, request: Request) -> Response:
    return await stored_responses.list_input_items(st.responses, request)


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
    trace = Trace(key=request.principal, door="openai_embeddings")
    response = await st.gateway.embed(req, trace)
    body = openai_chat.encode_embeddings_response(response, req.encoding_format)
    return Response(body, headers=trace.headers)


async def _models(st: State, request: Request) -> Response:
    """The model list in the caller's dialect (see server/model_views.py)."""
    routes = list(st.gateway.routes.values())
    if request.path.startswith("/api/v1/"):
        body = openrouter_page(routes, request.query)
    elif wants_anthropic(request.headers):
        body = anthropic_page(routes, request.query)
    else:
        body = {"object": "list", "data": [openai_model(r) for r in routes]}
    return Response(msgspec.json.encode(body))


async def _model(st: State, request: Request) -> Response:
    """``GET /v1/models/{id}``: OpenAI's ``Model``, or Anthropic's ``ModelInfo``."""
    route = st.gateway.route(request.params["model"], kind=None)
    view = anthropic_model if wants_anthropic(request.headers) else openai_model
    return Response(msgspec.json.encode(view(route)))


async def _openrouter_model(st: State, request: Request) -> Response:
    """OpenRouter's ``GET /api/v1/model/{author}/{slug}``."""
    route = st.gateway.route(request.params["model"], kind=None)
    return Response(msgspec.json.encode({"data": openrouter_model(route.info)}))


async def _endpoints(st: State, request: Request) -> Response:
    """OpenRouter's ``GET /models/{author}/{slug}/endpoints``: the shared live
    stats for the master key, a key's own from the log (server/endpoint_pages.py)."""
    page = await endpoints_page(
        st.gateway, st.request_log, request.principal, request.params["model"]
    )
    return Response(msgspec.json.encode(page))


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
    if found is not None and found.readable_by(request.principal):
        return Response(msgspec.json.encode({"data": generation_view(found)}))
    logged = await admin_logs.logged_generation(st.request_log, own_id, request.principal)
    if logged is None:
        raise GatewayError(
            "not_found",
            f"No generation {wanted!r} here for this key (the log keeps the most "
            f"recent {st.gateway.generations.capacity} in memory).",
            param="id",
        )
    return Response(msgspec.json.encode({"data": logged}))


async def _metrics(st: State, request: Request) -> Response:
    """Prometheus metrics (docs/observability.md); 404 with ``telemetry.metrics: false``."""
    metrics = st.telemetry.metrics
    if metrics is None:
        raise GatewayError("not_found", "Metrics are off here (telemetry.metrics: false).")
    body, content_type = metrics.render()
    return Response(body, media_type=content_type)


async def _health(st: State, request: Request) -> Response:
    body: dict[str, object] = {"status": "ok", "models": len(st.gateway.routes)}
    worker = os.environ.get("JUNCTION_WORKER")
    if worker is not None:  # junction serve --workers N: which process answered
        body["worker"] = int(worker)
    return Response(msgspec.json.encode(body))
