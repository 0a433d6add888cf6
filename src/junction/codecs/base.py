"""The contracts a dialect meets, and the data it is given.

A codec is sans-I/O: it turns a canonical request into an :class:`HttpRequest`
and provider bytes back into canonical values. It never opens a socket.
The transport sends what it builds; the gateway decides what to try.

:class:`ChatCodec` is the client side (every dialect has one);
:class:`ServerCodec` the server side, for a dialect that an ingress door or
the simulator serves.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal, Protocol, runtime_checkable

import msgspec

from junction.codecs.sse import DEFAULT_LIMITS, StreamLimits
from junction.types import (
    ChatRequest,
    ChatResponse,
    GatewayError,
    StreamEvent,
    UpstreamError,
)
from junction.types.embeddings import EmbeddingRequest, EmbeddingResponse
from junction.types.http import HttpRequest

AuthScheme = Literal["bearer", "api-key", "x-api-key", "x-goog-api-key", "none"]
UrlStyle = Literal["openai", "azure-deployment"]


class Quirks(msgspec.Struct, frozen=True, omit_defaults=True):
    """How one vendor departs from its dialect. Data, not code paths.

    Every default is the dialect's own behaviour, so ``Quirks()`` is the
    reference API (OpenAI for ``openai_chat``). docs/compatibility.md lists
    which vendor sets what (``scripts/gen-compat`` writes it from this data).
    """

    auth: AuthScheme = "bearer"
    max_tokens_field: Literal["max_tokens", "max_completion_tokens"] = "max_tokens"
    unsupported: frozenset[str] = frozenset()
    """Canonical parameters this vendor refuses (see ChatRequest.given)."""
    stream_usage: bool = True
    """Accepts ``stream_options.include_usage``."""
    pass_extra: frozenset[str] = frozenset()
    """Fields beyond the dialect this vendor takes, by wire name. A canonical
    parameter the dialect does not carry (``top_k``, ``repetition_penalty``)
    is then sent from the request's field (and counts as supported); any other
    name is forwarded unchanged from the request's ``extra`` (OpenRouter's
    ``provider``, vLLM's ``min_p``). ``reasoning`` sends OpenRouter's reasoning
    object, ``cache_control`` the cache hints."""
    reasoning_field: str | None = None
    """Message field with reasoning text (DeepSeek ``reasoning_content``)."""
    send_reasoning_back: bool = True
    """With ``reasoning_field`` set: earlier assistant turns carry their
    reasoning in that field when sent back."""
    url_style: UrlStyle = "openai"
    """``azure-deployment``: Azure OpenAI's classic paths,
    ``{base}/openai/deployments/{model}/chat/completions?api-version=...``."""
    tool_call_id_length: int | None = None
    """Tool-call ids must be exactly this many ASCII letters and digits
    (Mistral: 9); other ids are rewritten to a hash of that form."""
    min_temperature: float | None = None
    """A lower ``temperature`` is raised to this (Groq: 0 becomes 1e-8)."""
    send_message_name: bool = True
    """Sends ``messages[].name`` (Groq refuses it: it is left out)."""


class Target(msgspec.Struct, frozen=True, omit_defaults=True):
    """Where and how to send one attempt: a resolved deployment."""

    provider: str
    """Name shown in errors and responses (the deployment's provider slug)."""
    base_url: str
    model: str
    """The upstream model id."""
    api_key: str | None = None
    headers: Mapping[str, str] = msgspec.field(default_factory=dict)
    quirks: Quirks = Quirks()
    api_version: str | None = None
    stream_limits: StreamLimits = DEFAULT_LIMITS
    """The largest SSE line / event / event-stream frame taken from this target."""


class StreamDecoder(Protocol):
    """Turns a provider's stream bytes, as they arrive, into canonical events.

    ``feed`` may raise :class:`UpstreamError` for an error the provider sends
    inside the stream; ``close`` is called at end of input and raises if the
    stream ended before the provider said it was complete.
    """

    def feed(self, data: bytes) -> list[StreamEvent]: ...

    def close(self) -> list[StreamEvent]: ...


class ChatCodec(Protocol):
    """One wire API, client side: what the gateway needs to call a provider.

    A codec may also define ``prepare(target) -> None``: called once per endpoint
    when the gateway is built, to load what that target's requests will need
    (Bedrock's SigV4 signer), so that no request pays for an import.
    """

    name: str

    def encode_request(self, request: ChatRequest, target: Target) -> HttpRequest: ...

    def decode_response(self, body: bytes, target: Target) -> ChatResponse: ...

    def stream_decoder(self, target: Target) -> StreamDecoder: ...

    def decode_error(
        self, status: int, headers: Mapping[str, str], body: bytes, target: Target
    ) -> UpstreamError: ...


class StreamEncoder(Protocol):
    """Canonical stream events -> the bytes of one response stream."""

    def encode(self, event: StreamEvent) -> bytes: ...

    def finish(self) -> bytes:
        """The stream's normal end (OpenAI's ``[DONE]``; nothing for some)."""
        ...

    def error(self, err: GatewayError) -> bytes:
        """An error met after the stream started, as the dialect writes it."""
        ...


class ServerCodec(Protocol):
    """One wire API, server side: what a door or the simulator needs to serve it."""

    name: str
    """The dialect's registered name (``openai_chat``)."""
    paths: tuple[str, ...]
    """The POST paths that serve the API when the model is named in the body
    (``/v1/chat/completions``); empty for an API whose URL carries the model
    (Gemini, Bedrock), which the simulator routes itself."""
    stream_content_type: str
    """The content type of a stream (``text/event-stream``)."""
    finish_after_error: bool
    """Whether the stream's normal end follows an in-stream error. Not for
    OpenAI (an error chunk, then the end of the stream without ``[DONE]``,
    so a client waiting for ``[DONE]`` sees it incomplete) nor Anthropic
    (its ``error`` event is the end)."""

    def decode_request(self, body: bytes, *, model: str = "", stream: bool = False) -> ChatRequest:
        """A request body -> canonical. ``model`` and ``stream`` are given
        when the URL carries them (Gemini, Bedrock); other APIs read the body.
        Raises :class:`GatewayError` (``invalid_request``) naming the bad field."""
        ...

    def encode_response(self, response: ChatResponse, request: ChatRequest) -> bytes: ...

    def stream_encoder(self, request: ChatRequest) -> StreamEncoder: ...

    def encode_error(self, err: GatewayError) -> bytes: ...

    def error_headers(self, err: GatewayError) -> dict[str, str]:
        """Headers an error response carries besides its body (Bedrock's
        ``x-amzn-errortype``; none for most)."""
        ...


SSE_CONTENT_TYPE = "text/event-stream; charset=utf-8"


class ServerDefaults:
    """What most :class:`ServerCodec` classes share, for them to inherit (and
    override where their API differs): an SSE stream, an in-stream error that
    ends it, error responses with no headers of their own."""

    stream_content_type = SSE_CONTENT_TYPE
    finish_after_error = False

    def error_headers(self, err: GatewayError) -> dict[str, str]:
        return {}


@runtime_checkable
class TokenCounter(Protocol):
    """An optional ability: a dialect whose provider counts prompt tokens."""

    def encode_count_tokens(self, request: ChatRequest, target: Target) -> HttpRequest: ...

    def decode_count_tokens(self, body: bytes) -> int: ...


@runtime_checkable
class EmbeddingCodec(Protocol):
    """An optional ability: a dialect that can also embed."""

    def encode_embeddings(self, request: EmbeddingRequest, target: Target) -> HttpRequest: ...

    def decode_embeddings(self, body: bytes, target: Target) -> EmbeddingResponse: ...


def join_url(base_url: str, path: str) -> str:
    return base_url.rstrip("/") + "/" + path.lstrip("/")


def auth_headers(target: Target) -> dict[str, str]:
    """The credential header for a target's auth scheme (none without a key)."""
    key = target.api_key
    if not key or target.quirks.auth == "none":
        return {}
    scheme = target.quirks.auth
    if scheme == "bearer":
        return {"authorization": f"Bearer {key}"}
    return {scheme: key}
