"""The simulator's HTTP app: real provider wire formats, simulated models.

Provider routes (the wire work is done by the codecs' server side):

- OpenAI: ``POST /v1/chat/completions`` (plain and ``stream``, with
  ``stream_options.include_usage``), ``POST /v1/embeddings``, ``GET /v1/models``.
- OpenAI Responses: ``POST /v1/responses`` (plain and ``stream``).
- Azure OpenAI deployments: ``POST /openai/deployments/{deployment}/chat/completions``
  and ``.../embeddings``, in OpenAI's format with the deployment as the model;
  ``?api-version=`` is required (400 without it, as Azure answers).
- Anthropic: ``POST /v1/messages`` (plain and ``stream``); ``GET /v1/models``
  answers in Anthropic's shape when the request has an ``anthropic-version``
  header.
- Gemini: ``POST /v1beta/models/{model}:generateContent``,
  ``:streamGenerateContent?alt=sse``, ``:embedContent``, ``:batchEmbedContents``
  (also under ``/v1/`` and ``/v1alpha/``, which google-genai may use);
  ``GET /v1beta/models``.
- AWS Bedrock: ``POST /model/{modelId}/converse``, ``/converse-stream`` (binary
  event stream) and ``/invoke`` (Titan / Cohere embedding models); see
  :mod:`junction.sim.dialects` (SigV4 accepted unverified, logged as ``x-sim-auth``).

Any API key is accepted (``Authorization: Bearer``, ``x-api-key``,
``x-goog-api-key``, ``api-key`` or ``?key=``); whether one was sent is
recorded. With ``require_key: true`` a request without one gets 401.

Control endpoint (JSON in, JSON out):

- ``GET /health`` -> ``{"status": "ok"}``.
- ``GET /_sim/config``: the live profile and the resolved settings per model.
- ``PUT /_sim/models/{model}``: merge settings into that model's entry, e.g.
  ``{"faults": {"server_error": 1.0}}`` to make it fail, ``{"faults": {}}`` to
  recover, ``{"ttft_ms": 500}`` to slow it. ``{model}`` may be ``*``.
- ``POST /_sim/fail`` ``{"model": "m", "kind": "rate_limit", "count": 2}``: the
  next ``count`` requests to ``m`` (``"*"``: any model) fail with ``kind``,
  before and regardless of the fault rates.
- ``POST /_sim/reset``: back to the loaded profile; counters, pending forced
  faults and the request log are cleared and the random generators reseeded.
- ``GET /_sim/stats``: requests by model, dialect and endpoint, faults
  injected, requests with and without a key, error responses, in-flight.
- ``GET /_sim/requests?limit=N`` (default 50): the last N provider requests,
  oldest first: dialect, method, path, query, model, headers (secrets shown
  as ``***``) and the JSON body.

Faults: ``rate_limit`` (429 with ``retry-after``), ``server_error`` (500),
``unavailable`` (503), ``timeout`` (no answer for ``hang_ms``, then the
connection is closed), ``reset`` (the TCP connection is reset before any
byte), ``stream_cut`` (a stream is cut by a connection reset after
``stream_cut_after`` content chunks, before any finish; a plain response is
cut half-way through its body), ``malformed`` (200 with a body that is not
JSON; in a stream, one frame of garbage before the first content).
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import socket
import struct
import uuid
from collections.abc import Awaitable, Callable

import msgspec
from aiohttp import web

from junction.codecs import anthropic_messages, bedrock_converse, gemini, openai_chat
from junction.codecs.bedrock_converse.embed import embed_family
from junction.sim.dialects import (
    ANTHROPIC,
    BEDROCK,
    GEMINI,
    OPENAI,
    OPENAI_RESPONSES,
    SIGV4,
    SimDialect,
    served_elsewhere,
)
from junction.sim.generate import count_tokens, embed, generate, prompt_tokens
from junction.sim.profile import FaultKind, ModelConfig, Profile, ProfileError, parse_patch
from junction.sim.state import FailRequest, SimState
from junction.sim.stream import chunk_tokens, plan
from junction.types import ChatRequest, ChatResponse, Finish, GatewayError

STATE = web.AppKey("junction_sim_state", SimState)
SHUTDOWN = web.AppKey("junction_sim_shutdown", asyncio.Event)

_MALFORMED_BODY = b'{"id": "sim-malformed", "choices": [{"message": <<this is not JSON>>'
_EARLY_FAULTS = frozenset(
    {
        "rate_limit",
        "server_error",
        "unavailable",
        "timeout",
        "reset",
        "bad_request",
        "auth_error",
        "not_found",
    }
)
_JSON = "application/json"
_GEMINI_VERSIONS = ("v1beta", "v1", "v1alpha")
_MAX_BODY = 64 * 1024 * 1024

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class _ModelField(msgspec.Struct):
    model: str | None = None


# --- helpers ------------------------------------------------------------------


def _key_sent(request: web.Request) -> bool:
    headers = request.headers
    auth = headers.get("authorization", "")
    if (auth.lower().startswith("bearer ") and auth[7:].strip()) or auth.startswith(SIGV4):
        return True
    names = ("x-api-key", "x-goog-api-key", "api-key")
    return any(headers.get(n) for n in names) or bool(request.query.get("key"))


def _body_model(raw: bytes) -> str | None:
    try:
        return msgspec.json.decode(raw, type=_ModelField).model
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None


def _abort(request: web.Request) -> None:
    """Reset the connection: RST, not a polite close."""
    transport = request.transport
    if transport is None:
        return
    sock = transport.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()


def _json(data: object, status: int = 200) -> web.Response:
    return web.Response(status=status, body=msgspec.json.encode(data), content_type=_JSON)


def _error(state: SimState, dialect: SimDialect, err: GatewayError) -> web.Response:
    state.errors += 1
    headers = {}
    if err.retry_after is not None:
        headers["retry-after"] = str(max(0, math.ceil(err.retry_after)))
        headers["retry-after-ms"] = str(int(err.retry_after * 1000))
    return web.Response(
        status=err.status,
        body=dialect.server.encode_error(err),
        content_type=_JSON,
        headers={**headers, **dialect.server.error_headers(err)},
    )


def _fault_error(kind: FaultKind, model: str, config: ModelConfig) -> GatewayError | None:
    if kind == "rate_limit":
        return GatewayError(
            "rate_limit",
            f"simulated rate limit for model {model}: retry after {config.retry_after_s:g}s",
            retry_after=config.retry_after_s,
        )
    if kind == "server_error":
        return GatewayError("server", f"simulated server error for model {model}", status=500)
    if kind == "unavailable":
        return GatewayError(
            "overloaded", f"simulated outage: model {model} is unavailable", status=503
        )
    if kind == "bad_request":
        return GatewayError("invalid_request", f"simulated rejection of a request to {model}")
    if kind == "auth_error":
        return GatewayError("authentication", "simulated: the API key was rejected")
    if kind == "not_found":
        return GatewayError("not_found", f"simulated: the model {model} does not exist")
    return None


async def _sleep(state: SimState, config: ModelConfig, seconds: float) -> None:
    delay = state.jittered(seconds, config.jitter)
    if delay > 0:
        await asyncio.sleep(delay)


class _Call:
    """One provider request being served."""

    def __init__(
        self, request: web.Request, dialect: SimDialect, raw: bytes, endpoint: str
    ) -> None:
        self.request = request
        self.dialect = dialect
        self.raw = raw
        self.state = request.app[STATE]
        self.key_sent = _key_sent(request)
        self.endpoint = endpoint

    def record(self, model: str | None) -> None:
        r = self.request
        self.state.record(
            dialect=self.dialect.label,
            endpoint=self.endpoint,
            method=r.method,
            path=r.path,
            query=r.query,
            headers=self.dialect.logged_headers(r.headers),
            model=model,
            key_sent=self.key_sent,
            raw=self.raw,
        )

    def auth_error(self) -> GatewayError | None:
        if self.state.profile.require_key and not self.key_sent:
            return GatewayError(
                "authentication",
                "no API key was sent: this simulator runs with require_key: true; send any key "
                "(Authorization: Bearer, x-api-key or x-goog-api-key)",
            )
        return None

    def error(self, err: GatewayError) -> web.Response:
        return _error(self.state, self.dialect, err)

    async def early_fault(self, kind: FaultKind, model: str, config: ModelConfig) -> web.Response:
        err = _fault_error(kind, model, config)
        if err is not None:
            return self.error(err)
        if kind == "timeout":
            shutdown = self.request.app[SHUTDOWN]
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(shutdown.wait(), config.hang_ms / 1000)
            if self.request.transport is not None:
                self.request.transport.close()
        else:
            _abort(self.request)
        return web.Response(status=204)

    async def respond(
        self, config: ModelConfig, body: bytes, seconds: float, fault: FaultKind | None
    ) -> web.StreamResponse:
        """A plain JSON answer after ``seconds`` of simulated work."""
        await _sleep(self.state, config, seconds)
        if fault == "malformed":
            return web.Response(body=_MALFORMED_BODY, content_type=_JSON)
        if fault != "stream_cut":
            return web.Response(body=body, content_type=_JSON)
        resp = web.StreamResponse(headers={"content-type": _JSON})
        resp.content_length = len(body)
        await resp.prepare(self.request)
        await resp.write(body[: len(body) // 2])
        _abort(self.request)
        return resp


# --- chat ---------------------------------------------------------------------


async def _chat(call: _Call, model: str | None, stream: bool) -> web.StreamResponse:
    call.record(model or _body_model(call.raw))
    err = call.auth_error()
    if err is not None:
        return call.error(err)
    try:
        chat = call.dialect.server.decode_request(call.raw, model=model or "", stream=stream)
    except GatewayError as exc:
        return call.error(exc)
    config = call.state.config(chat.model)
    fault = call.state.pick_fault(chat.model)
    if fault in _EARLY_FAULTS:
        return await call.early_fault(fault, chat.model, config)
    try:
        response = generate(chat, config, f"{call.dialect.id_prefix}-{uuid.uuid4().hex}")
    except GatewayError as exc:
        return call.error(exc)
    if config.prompt_cache:
        _prompt_cache(call.state, chat, response)
    if chat.stream:
        return await _stream(call, chat, response, config, fault)
    seconds = config.ttft_ms / 1000
    if config.tokens_per_second > 0 and response.usage is not None:
        seconds += response.usage.completion_tokens / config.tokens_per_second
    body = call.dialect.server.encode_response(response, chat)
    return await call.respond(config, body, seconds, fault)


def _prompt_cache(state: SimState, chat: ChatRequest, response: ChatResponse) -> None:
    """A repeated prefix (first system + first user message) reads the cache."""
    prefix = [m for m in chat.messages if m.role in ("system", "developer")][:1]
    prefix += [m for m in chat.messages if m.role == "user"][:1]
    text = "\n".join(m.text() for m in prefix)
    key = (chat.model, text)
    usage = response.usage
    if usage is None or not text:
        return
    if key in state.cached_prefixes:
        usage.cached_tokens = min(usage.prompt_tokens - 1, count_tokens(text) + 4 * len(prefix))
    else:
        state.cached_prefixes.add(key)
        usage.cache_write_tokens = 0


async def _stream(
    call: _Call,
    chat: ChatRequest,
    response: ChatResponse,
    config: ModelConfig,
    fault: FaultKind | None,
) -> web.StreamResponse:
    await _sleep(call.state, config, config.ttft_ms / 1000)
    resp = web.StreamResponse(
        headers={
            "content-type": call.dialect.server.stream_content_type,
            "cache-control": "no-cache",
        }
    )
    await resp.prepare(call.request)
    encoder = call.dialect.server.stream_encoder(chat)
    tps = config.tokens_per_second
    sent = 0
    try:
        for step in plan(response, chunk_tokens(tps), early_usage=call.dialect.early_usage):
            finishing = any(isinstance(e, Finish) for e in step.events)
            if fault == "stream_cut" and (sent >= config.stream_cut_after or finishing):
                _abort(call.request)
                return resp
            if tps > 0 and step.tokens and sent:
                await _sleep(call.state, config, step.tokens / tps)
            data = b"".join(encoder.encode(event) for event in step.events)
            if step.tokens and fault == "malformed" and not sent:
                data = call.dialect.garbage_frame + data
            sent += 1 if step.tokens else 0
            if data:
                await resp.write(data)
        await resp.write(encoder.finish())
        await resp.write_eof()
    except ConnectionError:
        pass  # the client went away
    return resp


# --- embeddings ---------------------------------------------------------------


async def _embed_reply(
    call: _Call, model: str, build: Callable[[ModelConfig], bytes]
) -> web.StreamResponse:
    config = call.state.config(model)
    fault = call.state.pick_fault(model)
    if fault in _EARLY_FAULTS:
        return await call.early_fault(fault, model, config)
    return await call.respond(config, build(config), config.ttft_ms / 1000, fault)


async def _openai_embeddings(request: web.Request) -> web.StreamResponse:
    return await _openai_embed(_Call(request, OPENAI, await request.read(), "embeddings"))


async def _openai_embed(call: _Call) -> web.StreamResponse:
    call.record(_body_model(call.raw))
    err = call.auth_error()
    if err is not None:
        return call.error(err)
    try:
        req = openai_chat.decode_embeddings_request(call.raw)
    except GatewayError as exc:
        return call.error(exc)
    return await _embed_reply(
        call,
        req.model,
        lambda config: openai_chat.encode_embeddings_response(
            embed(req, config), req.encoding_format
        ),
    )


async def _gemini_embeddings(call: _Call, model: str, batch: bool) -> web.StreamResponse:
    call.record(model)
    err = call.auth_error()
    if err is not None:
        return call.error(err)
    try:
        req = gemini.decode_embed_request(call.raw, model=model, batch=batch)
    except GatewayError as exc:
        return call.error(exc)
    return await _embed_reply(
        call, model, lambda config: gemini.encode_embed_response(embed(req, config), batch=batch)
    )


# --- routes -------------------------------------------------------------------


async def _openai_chat(request: web.Request) -> web.StreamResponse:
    call = _Call(request, OPENAI, await request.read(), "chat")
    return await _chat(call, None, False)


async def _openai_responses(request: web.Request) -> web.StreamResponse:
    call = _Call(request, OPENAI_RESPONSES, await request.read(), "chat")
    return await _chat(call, None, False)


def _as_deployment(raw: bytes, deployment: str) -> bytes:
    """The body with ``model`` set to the deployment: Azure serves the
    deployment in the path, whatever the body names (or if it names none)."""
    try:
        body = msgspec.json.decode(raw)
    except msgspec.DecodeError:
        return raw
    if not isinstance(body, dict):
        return raw
    body["model"] = deployment
    return msgspec.json.encode(body)


async def _azure_deployment(request: web.Request) -> web.StreamResponse:
    """Azure OpenAI's classic paths: OpenAI's wire format behind
    ``/openai/deployments/{deployment}/...?api-version=...``."""
    deployment = request.match_info["deployment"]
    chat = request.path.endswith("/chat/completions")
    raw = _as_deployment(await request.read(), deployment)
    call = _Call(request, OPENAI, raw, "chat" if chat else "embeddings")
    if not request.query.get("api-version"):
        call.record(deployment)
        return call.error(
            GatewayError(
                "invalid_request",
                "The api-version query parameter (?api-version=) is required for all requests.",
                param="api-version",
                code="MissingApiVersionParameter",
            )
        )
    if chat:
        return await _chat(call, deployment, False)
    return await _openai_embed(call)


async def _anthropic_messages(request: web.Request) -> web.StreamResponse:
    call = _Call(request, ANTHROPIC, await request.read(), "chat")
    return await _chat(call, None, False)


async def _anthropic_count_tokens(request: web.Request) -> web.StreamResponse:
    """Anthropic's count_tokens: the simulator's own prompt count."""
    raw = await request.read()
    call = _Call(request, ANTHROPIC, raw, "count_tokens")
    call.record(_body_model(raw))
    try:
        chat = anthropic_messages.decode_request(raw, count_tokens=True)
    except GatewayError as exc:
        return call.error(exc)
    return _json({"input_tokens": prompt_tokens(chat)})


async def _gemini(request: web.Request) -> web.StreamResponse:
    model, _, method = request.match_info["target"].partition(":")
    raw = await request.read()
    if method in ("generateContent", "streamGenerateContent"):
        call = _Call(request, GEMINI, raw, "chat")
        stream = method == "streamGenerateContent"
        if stream and request.query.get("alt") != "sse":
            call.record(model)
            return call.error(
                GatewayError(
                    "invalid_request",
                    "the simulator streams Gemini responses as SSE only: add ?alt=sse",
                    param="alt",
                )
            )
        return await _chat(call, model, stream)
    if method in ("embedContent", "batchEmbedContents"):
        call = _Call(request, GEMINI, raw, "embeddings")
        return await _gemini_embeddings(call, model, method == "batchEmbedContents")
    err = GatewayError(
        "not_found",
        f"unknown method {method!r}: the simulator serves "
        "generateContent, streamGenerateContent, embedContent, batchEmbedContents",
    )
    return _error(request.app[STATE], GEMINI, err)


def _served(dialect: SimDialect) -> Handler:
    """A registered dialect's chat route (model and stream read from the body)."""

    async def chat(request: web.Request) -> web.StreamResponse:
        return await _chat(_Call(request, dialect, await request.read(), "chat"), None, False)

    return chat


def _model_names(state: SimState) -> list[str]:
    return [m for m in state.profile.models if not any(c in m for c in "*?[")]


async def _models(request: web.Request) -> web.StreamResponse:
    names = _model_names(request.app[STATE])
    if "anthropic-version" in request.headers:
        data = [
            {"type": "model", "id": n, "display_name": n, "created_at": "2024-01-01T00:00:00Z"}
            for n in names
        ]
        first, last = (names[0], names[-1]) if names else (None, None)
        return _json({"data": data, "has_more": False, "first_id": first, "last_id": last})
    models = [{"id": n, "object": "model", "created": 0, "owned_by": "junction-sim"} for n in names]
    return _json({"object": "list", "data": models})


async def _bedrock(request: web.Request) -> web.StreamResponse:
    model, operation = request.match_info["model"], request.match_info["operation"]
    raw = await request.read()
    if operation != "invoke":
        return await _chat(_Call(request, BEDROCK, raw, "chat"), model, operation != "converse")
    call = _Call(request, BEDROCK, raw, "embeddings")
    call.record(model)
    err = call.auth_error()
    if err is None and embed_family(model) is None:
        err = GatewayError(
            "invalid_request",
            f"the simulator's InvokeModel serves embedding models only (amazon.titan-embed-*, "
            f"cohere.embed-*), not {model!r}; use /converse for chat",
        )
    if err is not None:
        return call.error(err)
    try:
        req = bedrock_converse.decode_embeddings_request(raw, model=model)
    except GatewayError as exc:
        return call.error(exc)
    return await _embed_reply(
        call,
        model,
        lambda config: bedrock_converse.encode_embeddings_response(embed(req, config), model=model),
    )


async def _gemini_models(request: web.Request) -> web.StreamResponse:
    names = _model_names(request.app[STATE])
    return _json({"models": [{"name": f"models/{n}", "displayName": n} for n in names]})


# --- control ------------------------------------------------------------------


async def _health(request: web.Request) -> web.StreamResponse:
    return _json({"status": "ok"})


async def _config(request: web.Request) -> web.StreamResponse:
    state = request.app[STATE]
    profile = state.profile
    names = ["*", *(m for m in profile.models if m != "*")]
    return _json(
        {
            "seed": profile.seed,
            "require_key": profile.require_key,
            "max_logged_requests": profile.max_logged_requests,
            "models": msgspec.to_builtins(profile.models),
            "resolved": {m: msgspec.to_builtins(state.config(m)) for m in names},
        }
    )


async def _put_model(request: web.Request) -> web.StreamResponse:
    state = request.app[STATE]
    model = request.match_info["model"]
    try:
        patch = parse_patch(await request.read())
    except ProfileError as exc:
        return _json({"error": str(exc)}, 400)
    resolved = state.patch_model(model, patch)
    stored = state.profile.models[model]
    return _json(
        {
            "model": model,
            "settings": msgspec.to_builtins(stored),
            "resolved": msgspec.to_builtins(resolved),
        }
    )


async def _fail(request: web.Request) -> web.StreamResponse:
    state = request.app[STATE]
    try:
        order = msgspec.json.decode(await request.read(), type=FailRequest)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        return _json({"error": f"fail order: {exc}"}, 400)
    state.force(order)
    return _json({"ok": True, "forced_pending": state.stats()["forced_pending"]})


async def _reset(request: web.Request) -> web.StreamResponse:
    request.app[STATE].reset()
    return _json({"ok": True})


async def _stats(request: web.Request) -> web.StreamResponse:
    return _json(request.app[STATE].stats())


async def _requests(request: web.Request) -> web.StreamResponse:
    raw = request.query.get("limit", "50")
    if not raw.isdigit():
        return _json({"error": "limit must be a non-negative integer"}, 400)
    return _json({"requests": request.app[STATE].recent(int(raw))})


# --- app ----------------------------------------------------------------------


@web.middleware
async def _count_in_flight(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.path.startswith("/_sim/") or request.path == "/health":
        return await handler(request)
    state = request.app[STATE]
    state.in_flight += 1
    try:
        return await handler(request)
    finally:
        state.in_flight -= 1


async def _wake_hangs(app: web.Application) -> None:
    app[SHUTDOWN].set()


def create_app(profile: Profile | None = None) -> web.Application:
    """The simulator as an aiohttp application (state is per app)."""
    app = web.Application(client_max_size=_MAX_BODY, middlewares=[_count_in_flight])
    app[STATE] = SimState(profile or Profile())
    app[SHUTDOWN] = asyncio.Event()
    app.on_shutdown.append(_wake_hangs)
    app.router.add_post("/v1/chat/completions", _openai_chat)
    app.router.add_post("/v1/responses", _openai_responses)
    app.router.add_post("/v1/embeddings", _openai_embeddings)
    azure = "/openai/deployments/{deployment}"
    app.router.add_post(f"{azure}/chat/completions", _azure_deployment)
    app.router.add_post(f"{azure}/embeddings", _azure_deployment)
    app.router.add_get("/v1/models", _models)
    app.router.add_post("/v1/messages", _anthropic_messages)
    app.router.add_post("/v1/messages/count_tokens", _anthropic_count_tokens)
    for version in _GEMINI_VERSIONS:
        app.router.add_post(f"/{version}/models/{{target}}", _gemini)
    app.router.add_get("/v1beta/models", _gemini_models)
    app.router.add_post("/model/{model}/{operation:converse|converse-stream|invoke}", _bedrock)
    for dialect in served_elsewhere():
        for path in dialect.server.paths:
            app.router.add_post(path, _served(dialect))
    app.router.add_get("/health", _health)
    app.router.add_get("/_sim/config", _config)
    app.router.add_put("/_sim/models/{model}", _put_model)
    app.router.add_post("/_sim/fail", _fail)
    app.router.add_post("/_sim/reset", _reset)
    app.router.add_get("/_sim/stats", _stats)
    app.router.add_get("/_sim/requests", _requests)
    return app


def _base_url(host: str, port: int) -> str:
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}"


async def start(
    profile: Profile | None = None, host: str = "127.0.0.1", port: int = 0
) -> tuple[web.AppRunner, str]:
    """Serve the simulator in the running loop; returns the runner (call
    ``await runner.cleanup()`` to stop) and the base URL actually bound."""
    runner = web.AppRunner(
        create_app(profile), handler_cancellation=True, shutdown_timeout=1.0, access_log=None
    )
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    bound = runner.addresses[0]
    return runner, _base_url(host, int(bound[1]))


def run(profile: Profile | None = None, host: str = "127.0.0.1", port: int = 8900) -> None:
    """Serve the simulator until interrupted (``junction sim``)."""
    web.run_app(
        create_app(profile),
        host=host,
        port=port,
        handler_cancellation=True,
        shutdown_timeout=2.0,
        print=lambda _msg: print(f"junction sim listening on {_base_url(host, port)}"),
    )
