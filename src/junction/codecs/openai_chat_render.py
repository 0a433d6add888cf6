"""OpenAI Chat Completions, server side, outbound: canonical -> response bytes.

Responses, stream chunks, errors and embeddings in OpenAI's shapes (plus the
fields OpenRouter adds: ``provider``, ``native_finish_reason``, message
``reasoning``, ``usage.cost``). Small msgspec structs are encoded directly;
``omit_defaults`` leaves out optional fields that are unset, while fields the
spec requires (even as ``null``) have no default and are always written.
"""

from __future__ import annotations

import base64
import struct
import time

import msgspec

from junction.codecs.openai_chat_common import ERROR_TYPES
from junction.codecs.openai_chat_ingress import new_tool_call_id
from junction.codecs.sse import sse
from junction.types import (
    ChatResponse,
    Choice,
    Finish,
    GatewayError,
    StreamEvent,
    StreamStart,
    TextDelta,
    ThinkingDelta,
    TokenLogprob,
    ToolCallDelta,
    Usage,
    UsageReport,
)
from junction.types.embeddings import EmbeddingResponse

# --- wire structs ------------------------------------------------------------


class _OFunction(msgspec.Struct, omit_defaults=True):
    name: str | None = None
    arguments: str | None = None


class _OToolCall(msgspec.Struct):
    id: str
    function: _OFunction
    type: str = "function"


class _OMessage(msgspec.Struct, omit_defaults=True):
    role: str
    content: str | None
    refusal: str | None
    tool_calls: list[_OToolCall] | None = None
    reasoning: str | None = None


class _OTopLogprob(msgspec.Struct):
    token: str
    logprob: float
    bytes: list[int] | None


class _OTokenLogprob(msgspec.Struct):
    token: str
    logprob: float
    bytes: list[int] | None
    top_logprobs: list[_OTopLogprob]


class _OLogprobs(msgspec.Struct):
    content: list[_OTokenLogprob] | None
    refusal: list[_OTokenLogprob] | None = None


class _OChoice(msgspec.Struct, omit_defaults=True):
    index: int
    message: _OMessage
    finish_reason: str
    logprobs: _OLogprobs | None
    native_finish_reason: str | None = None


class _OPromptDetails(msgspec.Struct):
    cached_tokens: int
    cache_write_tokens: int
    audio_tokens: int


class _OCompletionDetails(msgspec.Struct):
    reasoning_tokens: int


class _OUsage(msgspec.Struct, omit_defaults=True):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    prompt_tokens_details: _OPromptDetails
    completion_tokens_details: _OCompletionDetails
    cost: float | None = None


class _OResponse(msgspec.Struct, omit_defaults=True):
    id: str
    created: int
    model: str
    choices: list[_OChoice]
    object: str
    usage: _OUsage | None = None
    provider: str | None = None
    system_fingerprint: str | None = None
    service_tier: str | None = None
    warnings: list[str] | None = None
    """junction's own: parameters dropped for the target (drop_params)."""


class _ODelta(msgspec.Struct, omit_defaults=True):
    role: str | None = None
    content: str | None = None
    reasoning: str | None = None
    tool_calls: list[_OToolCallChunk] | None = None


class _OToolCallChunk(msgspec.Struct, omit_defaults=True):
    index: int
    function: _OFunction
    id: str | None = None
    type: str | None = None


class _OChunkChoice(msgspec.Struct, omit_defaults=True):
    index: int
    delta: _ODelta
    finish_reason: str | None
    native_finish_reason: str | None = None


class _OErrorBody(msgspec.Struct):
    message: str
    type: str
    param: str | None
    code: str | int | None


class _OChunk(msgspec.Struct, omit_defaults=True):
    id: str
    created: int
    model: str
    choices: list[_OChunkChoice]
    object: str
    provider: str | None = None
    usage: _OUsage | None = None
    error: _OErrorBody | None = None


class _OError(msgspec.Struct):
    error: _OErrorBody


_encode = msgspec.json.Encoder().encode
_SERVICE_TIERS = frozenset({"auto", "default", "flex", "scale", "priority", "fast"})
"""OpenAI's ``ServiceTier`` values; a vendor's own (Groq's ``on_demand``) is not repeated."""

# --- responses -----------------------------------------------------------------


def _usage(usage: Usage) -> _OUsage:
    return _OUsage(
        prompt_tokens=usage.prompt_tokens,
        completion_tokens=usage.completion_tokens,
        total_tokens=usage.total_tokens,
        prompt_tokens_details=_OPromptDetails(
            cached_tokens=usage.cached_tokens,
            cache_write_tokens=usage.cache_write_tokens,
            audio_tokens=usage.audio_prompt_tokens,
        ),
        completion_tokens_details=_OCompletionDetails(reasoning_tokens=usage.reasoning_tokens),
        cost=usage.cost,
    )


def _token(lp: TokenLogprob) -> _OTokenLogprob:
    return _OTokenLogprob(
        token=lp.token,
        logprob=lp.logprob,
        bytes=lp.bytes,
        top_logprobs=[_OTopLogprob(t.token, t.logprob, t.bytes) for t in lp.top_logprobs],
    )


def _choice(choice: Choice) -> _OChoice:
    message = choice.message
    calls = [
        _OToolCall(id=c.id, function=_OFunction(name=c.name, arguments=c.arguments))
        for c in message.tool_calls()
    ]
    thinking = "".join(p.text for p in message.thinking())
    text = message.text()
    logprobs = None
    if choice.logprobs is not None:
        logprobs = _OLogprobs(content=[_token(t) for t in choice.logprobs])
    return _OChoice(
        index=choice.index,
        message=_OMessage(
            role="assistant",
            content=text if text or not calls else None,
            refusal=message.refusal,
            tool_calls=calls or None,
            reasoning=thinking or None,
        ),
        finish_reason=choice.finish_reason or "stop",
        native_finish_reason=choice.native_finish_reason,
        logprobs=logprobs,
    )


def encode_response(response: ChatResponse) -> bytes:
    """A canonical response as an OpenAI ``chat.completion`` object."""
    return _encode(
        _OResponse(
            id=response.id,
            created=response.created or int(time.time()),
            model=response.model,
            choices=[_choice(c) for c in response.choices],
            object="chat.completion",
            usage=_usage(response.usage) if response.usage is not None else None,
            provider=response.provider,
            system_fingerprint=response.system_fingerprint,
            service_tier=response.service_tier if response.service_tier in _SERVICE_TIERS else None,
            warnings=response.warnings or None,
        )
    )


def _error_body(err: GatewayError) -> _OErrorBody:
    return _OErrorBody(
        message=err.message,
        type=ERROR_TYPES.get(err.kind, "invalid_request_error"),
        param=err.param,
        code=err.code or err.kind,
    )


def encode_error(err: GatewayError) -> bytes:
    """``{"error": {"message", "type", "param", "code"}}`` (OpenAI's ``Error``)."""
    return _encode(_OError(error=_error_body(err)))


# --- streams -------------------------------------------------------------------


class StreamEncoder:
    """Canonical stream events as ``chat.completion.chunk`` SSE frames.

    The first chunk of each choice carries ``delta.role = "assistant"``;
    thinking goes out as ``delta.reasoning`` (OpenRouter's form); usage is
    held until :meth:`finish`, which writes the usage chunk (empty
    ``choices``, only when ``include_usage``) and then ``data: [DONE]``.

    :meth:`error` writes OpenRouter's mid-stream error form: a chunk with a
    top-level ``error`` object ``{message, type, code}`` and one choice
    ``{"index": 0, "delta": {"content": ""}, "finish_reason": "error"}``.
    The caller still calls :meth:`finish` afterwards for ``[DONE]``.
    """

    __slots__ = ("_created", "_id", "_include_usage", "_model", "_provider", "_seen", "_usage")

    def __init__(self, include_usage: bool = False) -> None:
        self._include_usage = include_usage
        self._id = "chatcmpl-junction"
        self._model = ""
        self._created = 0
        self._provider: str | None = None
        self._usage: Usage | None = None
        self._seen: set[tuple[int, int]] = set()
        """(choice, call index) pairs whose first chunk went out; (choice, -1)
        marks a choice whose role went out."""

    def _chunk(
        self,
        choices: list[_OChunkChoice],
        usage: _OUsage | None = None,
        error: _OErrorBody | None = None,
    ) -> bytes:
        if not self._created:
            self._created = int(time.time())
        chunk = _OChunk(
            id=self._id,
            created=self._created,
            model=self._model,
            choices=choices,
            object="chat.completion.chunk",
            provider=self._provider,
            usage=usage,
            error=error,
        )
        return sse(_encode(chunk))

    def _delta(self, index: int, delta: _ODelta, finish: Finish | None = None) -> bytes:
        if (index, -1) not in self._seen:
            self._seen.add((index, -1))
            delta.role = "assistant"
        choice = _OChunkChoice(
            index=index,
            delta=delta,
            finish_reason=finish.reason if finish else None,
            native_finish_reason=finish.native if finish else None,
        )
        return self._chunk([choice])

    def encode(self, event: StreamEvent) -> bytes:
        if isinstance(event, TextDelta):
            return self._delta(event.index, _ODelta(content=event.text)) if event.text else b""
        if isinstance(event, ToolCallDelta):
            return self._tool_call(event)
        if isinstance(event, ThinkingDelta):
            return self._delta(event.index, _ODelta(reasoning=event.text)) if event.text else b""
        if isinstance(event, Finish):
            return self._delta(event.index, _ODelta(), event)
        if isinstance(event, UsageReport):
            self._usage = event.usage
            return b""
        if isinstance(event, StreamStart):
            self._id = event.id or self._id
            self._model = event.model
            self._created = event.created
            self._provider = event.provider
        return b""

    def _tool_call(self, event: ToolCallDelta) -> bytes:
        key = (event.index, event.call_index)
        chunk = _OToolCallChunk(index=event.call_index, function=_OFunction())
        if key not in self._seen:
            self._seen.add(key)
            chunk.id = event.id or new_tool_call_id()
            chunk.type = "function"
            chunk.function.name = event.name or ""
            chunk.function.arguments = event.arguments
        elif event.arguments:
            chunk.function.arguments = event.arguments
        else:
            return b""
        return self._delta(event.index, _ODelta(tool_calls=[chunk]))

    def finish(self) -> bytes:
        out = b""
        if self._include_usage and self._usage is not None:
            out = self._chunk([], usage=_usage(self._usage))
        return out + b"data: [DONE]\n\n"

    def error(self, err: GatewayError) -> bytes:
        body = _error_body(err)
        body.param = None
        choice = _OChunkChoice(index=0, delta=_ODelta(content=""), finish_reason="error")
        return self._chunk([choice], error=body)


# --- embeddings ------------------------------------------------------------------


class _OEmbedding(msgspec.Struct):
    index: int
    embedding: list[float] | str
    object: str = "embedding"


class _OEmbeddingUsage(msgspec.Struct):
    prompt_tokens: int
    total_tokens: int


class _OEmbeddingList(msgspec.Struct):
    data: list[_OEmbedding]
    model: str
    usage: _OEmbeddingUsage
    object: str = "list"


def _b64_floats(vector: list[float]) -> str:
    return base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode("ascii")


def encode_embeddings_response(response: EmbeddingResponse, encoding_format: str) -> bytes:
    """An OpenAI ``CreateEmbeddingResponse``; ``base64`` packs little-endian float32."""
    pack = _b64_floats if encoding_format == "base64" else None
    data = [
        _OEmbedding(index=i, embedding=pack(v) if pack else v) for i, v in enumerate(response.data)
    ]
    tokens = response.usage.prompt_tokens
    return _encode(
        _OEmbeddingList(
            data=data,
            model=response.model,
            usage=_OEmbeddingUsage(prompt_tokens=tokens, total_tokens=tokens),
        )
    )
