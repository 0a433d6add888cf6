"""The Gemini door: google-genai clients (Python, JS) call any junction model.

Routes, each under ``/v1beta`` and ``/v1`` (current google-genai releases
call ``/v1/...`` when given a base URL):

- ``POST /{version}/models/{model}:generateContent``
- ``POST /{version}/models/{model}:streamGenerateContent?alt=sse``
- ``POST /{version}/models/{model}:countTokens`` (the provider's count where
  it has one, else junction's estimate; ``x-junction-token-count`` says which)
- ``POST /{version}/models/{model}:embedContent`` and ``:batchEmbedContents``
- ``GET /{version}/models``: junction's models in Gemini's shape. ``/v1/models``
  is OpenAI's list too: it answers in Gemini's shape when the request comes
  from a Gemini client (an ``x-goog-api-key`` or ``x-goog-api-client``
  header, or ``?key=``).
- ``GET /v1beta/models/{model}``: one model (``/v1/models/{id}`` is OpenAI's).

``{model}`` is junction's model name, slashes and all:
``/v1beta/models/sim/openai:generateContent`` serves ``sim/openai`` (the SDK
writes ``models/`` before the name it is given). The client key, when keys
are configured, is ``x-goog-api-key`` or ``?key=`` (or any header the other
doors take). Every error is Gemini's ``{"error": {"code", "message", "status"}}``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING
from urllib.parse import parse_qs

import msgspec

from junction.codecs import gemini
from junction.gateway import Trace
from junction.gateway.routes import ModelRoute
from junction.server.asgi import Handler, Request, Response, Router, StreamingResponse
from junction.server.doors import Door
from junction.server.relay import stream_response
from junction.server.request_bounds import decode_bounded, wire_namer
from junction.types import ChatRequest, GatewayError

if TYPE_CHECKING:
    from junction.server.app import State

VERSIONS = ("v1beta", "v1")
SERVER = gemini.SERVER
CHAT_METHODS = ("generateContent", "streamGenerateContent", "countTokens")
EMBED_METHODS = ("embedContent", "batchEmbedContents")

GeminiHandler = Callable[["State", Request], Awaitable[Response | StreamingResponse]]


@dataclass(frozen=True, slots=True)
class Route:
    method: str
    paths: tuple[str, ...]
    handler: GeminiHandler


class CountTokensRequest(msgspec.Struct, rename="camel"):
    """``countTokens``: ``contents`` (read as a generateContent body) or a
    whole ``generateContentRequest``."""

    generate_content_request: msgspec.Raw = msgspec.field(default_factory=msgspec.Raw)
    """Empty when the body holds ``contents`` instead."""


class CountTokensResponse(msgspec.Struct, rename="camel"):
    total_tokens: int


class GeminiModel(msgspec.Struct, rename="camel", omit_defaults=True):
    """One entry of ``GET /{version}/models``."""

    name: str
    base_model_id: str
    version: str
    display_name: str
    description: str
    supported_generation_methods: list[str]
    input_token_limit: int | None = None
    output_token_limit: int | None = None


class ModelList(msgspec.Struct):
    models: list[GeminiModel]


def _paths(method: str) -> tuple[str, ...]:
    return tuple(f"/{v}/models/{{model}}:{method}" for v in VERSIONS)


def _key(request: Request) -> str | None:
    """The client key: the headers every door reads, else ``?key=``."""
    headers = request.headers
    auth = headers.get("authorization")
    if auth is not None and auth[:7].lower() == "bearer ":
        return auth[7:].strip()
    found = headers.get("x-goog-api-key") or headers.get("x-api-key")
    if found:
        return found
    keys = parse_qs(request.query).get("key")
    return keys[0] if keys else None


async def _admit(st: State, request: Request) -> None:
    token = _key(request)
    try:
        request.principal = await st.gateway.authenticate(token, door=SERVER.name)
    except GatewayError:
        what = "is not a key of this gateway" if token else "is missing"
        raise GatewayError(
            "authentication",
            f"The API key {what}. Send it as x-goog-api-key (google-genai's api_key) or ?key=.",
        ) from None


def from_gemini_client(request: Request) -> bool:
    """Whether a request to a path both OpenAI and Gemini use (``/v1/models``)
    comes from a Gemini client."""
    headers = request.headers
    if "x-goog-api-key" in headers or "x-goog-api-client" in headers:
        return True
    return "key" in parse_qs(request.query)


async def _read(request: Request, limit: int, what: str) -> bytes:
    body = await request.body(limit)
    if not body:
        raise GatewayError("invalid_request", f"The request body is empty; send a {what} object.")
    return body


def _chat(stream: bool) -> GeminiHandler:
    async def chat(st: State, request: Request) -> Response | StreamingResponse:
        await _admit(st, request)
        if stream and "sse" not in parse_qs(request.query).get("alt", []):
            raise GatewayError(
                "invalid_request",
                "junction streams Gemini responses as server-sent events only: add ?alt=sse.",
                param="alt",
            )
        body = await _read(request, st.max_body, "GenerateContentRequest")
        decode = partial(SERVER.decode_request, model=request.params["model"], stream=stream)
        req = decode_bounded(decode, body, st.bounds.limits)
        st.bounds.check_chat(req, wire_namer(SERVER.name, body))
        trace = st.trace(request, "gemini", req, body)
        if not stream:
            response = await st.telemetry.answered(st.gateway.chat(req, trace))
            return Response(SERVER.encode_response(response, req), headers=trace.headers)
        events = await st.telemetry.streamed(st.gateway.chat_stream(req, trace))
        encoder = SERVER.stream_encoder(req)
        return await stream_response(
            events, encoder, SERVER.finish_after_error, st.gateway.redactor, trace.headers
        )

    return chat


def _count_request(model: str, body: bytes) -> ChatRequest:
    try:
        inner = msgspec.json.decode(body, type=CountTokensRequest).generate_content_request
    except msgspec.ValidationError as exc:
        raise GatewayError(
            "invalid_request", f"invalid Gemini countTokens request: {exc}"
        ) from None
    return SERVER.decode_request(bytes(inner) if inner else body, model=model)


async def _count_tokens(st: State, request: Request) -> Response:
    await _admit(st, request)
    body = await _read(request, st.max_body, "CountTokensRequest")
    decode = partial(_count_request, request.params["model"])
    req = decode_bounded(decode, body, st.bounds.limits)
    st.bounds.check_nesting(req, wire_namer(SERVER.name, body))
    count, exact = await st.gateway.count_tokens(req)
    headers = (("x-junction-token-count", "provider" if exact else "estimate"),)
    return Response(msgspec.json.encode(CountTokensResponse(total_tokens=count)), headers=headers)


def _embed(batch: bool) -> GeminiHandler:
    async def embed(st: State, request: Request) -> Response:
        await _admit(st, request)
        what = "BatchEmbedContentsRequest" if batch else "EmbedContentRequest"
        body = await _read(request, st.max_body, what)
        decode = partial(gemini.decode_embed_request, model=request.params["model"], batch=batch)
        req = decode_bounded(decode, body, st.bounds.limits)
        st.bounds.check_embeddings(req)
        response = await st.gateway.embed(req, Trace(key=request.principal, door="gemini"))
        return Response(gemini.encode_embed_response(response, batch=batch))

    return embed


def _limit(values: list[int | None]) -> int | None:
    """The limit every deployment can honour (None when one does not state it)."""
    if not values or None in values:
        return None
    return min(v for v in values if v is not None)


def gemini_model(route: ModelRoute) -> GeminiModel:
    """A junction model as Gemini's ``Model``."""
    info = route.info
    return GeminiModel(
        name=f"models/{route.name}",
        base_model_id=route.name,
        version="junction",
        display_name=info.display_name or route.name,
        description=route.description or info.description,
        supported_generation_methods=list(
            EMBED_METHODS if route.kind == "embedding" else CHAT_METHODS
        ),
        input_token_limit=_limit([e.info.context_length for e in route.endpoints]),
        output_token_limit=_limit([e.info.max_output_tokens for e in route.endpoints]),
    )


async def _models(st: State, request: Request) -> Response:
    await _admit(st, request)
    models = [gemini_model(route) for route in st.gateway.routes.values()]
    return Response(msgspec.json.encode(ModelList(models=models)))


async def _model(st: State, request: Request) -> Response:
    await _admit(st, request)
    route = st.gateway.route(request.params["model"], kind=None)
    return Response(msgspec.json.encode(gemini_model(route)))


async def _unknown_method(st: State, request: Request) -> Response:
    _, colon, method = request.params["target"].rpartition(":")
    served = ", ".join((*CHAT_METHODS, *EMBED_METHODS))
    what = f"has no method {method!r}" if colon else f"needs a method after {method!r}"
    raise GatewayError(
        "not_found",
        f"The Gemini door {what}: POST /{{version}}/models/{{model}}:{{method}}, "
        f"where the method is one of {served}.",
    )


ROUTES = (
    Route("POST", _paths("generateContent"), _chat(stream=False)),
    Route("POST", _paths("streamGenerateContent"), _chat(stream=True)),
    Route("POST", _paths("countTokens"), _count_tokens),
    Route("POST", _paths("embedContent"), _embed(batch=False)),
    Route("POST", _paths("batchEmbedContents"), _embed(batch=True)),
    Route("GET", ("/v1beta/models",), _models),  # /v1/models: see share_models_list
    Route("GET", ("/v1beta/models/{model}",), _model),
    # Last: any other POST under models/ is a method this door does not serve.
    Route("POST", tuple(f"/{v}/models/{{target}}" for v in VERSIONS), _unknown_method),
)
"""The door's routes; the app registers each with Gemini's error shape."""

DOOR = Door(tuple(path for route in ROUTES for path in route.paths), SERVER)


def share_models_list(router: Router) -> None:
    """``GET /v1/models`` is OpenAI's path too: Gemini's list for a Gemini
    client, the handler already there for any other. Call once every route
    is registered."""
    other, _, _ = router.match("GET", "/v1/models")
    ours, _, _ = router.match("GET", "/v1beta/models")
    if other is None or ours is None:
        raise RuntimeError("share_models_list needs both model lists registered")

    async def models(request: Request) -> Response | StreamingResponse:
        handler: Handler = ours if from_gemini_client(request) else other
        return await handler(request)

    router.add("GET", "/v1/models", models)
