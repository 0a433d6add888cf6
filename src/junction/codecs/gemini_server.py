"""Gemini dialect, server side: what a Gemini-speaking door (and the
simulator) needs. Re-exported by :mod:`junction.codecs.gemini`."""

from __future__ import annotations

import re
from typing import Any, TypeVar

import msgspec

from junction.codecs.gemini_parts import encode_parts, encode_usage
from junction.codecs.gemini_request import decode_chat_request
from junction.codecs.gemini_stream import GeminiStreamEncoder
from junction.codecs.gemini_wire import (
    BatchEmbedRequest,
    BatchEmbedResponse,
    Candidate,
    Content,
    ContentEmbedding,
    EmbedContentRequest,
    EmbedContentResponse,
    GenerateContentRequest,
    GenerateContentResponse,
    camelize_keys,
    error_body,
    has_snake_keys,
    native_finish,
)
from junction.types import (
    ChatRequest,
    ChatResponse,
    EmbeddingRequest,
    EmbeddingResponse,
    GatewayError,
)

T = TypeVar("T")

_encode = msgspec.json.Encoder().encode
_PATH = re.compile(r" - at `\$\.?(.*)`$")


class StreamEncoder(GeminiStreamEncoder):
    """Canonical stream events -> ``streamGenerateContent?alt=sse`` bytes."""


def _invalid(exc: Exception, what: str) -> GatewayError:
    text = str(exc)
    match = _PATH.search(text)
    param = match.group(1) if match else None
    if match:
        text = text[: match.start()]
    where = f" at {param}" if param else ""
    return GatewayError(
        "invalid_request", f"invalid Gemini {what}{where}: {text}", param=param or None
    )


def _decode(body: bytes, type_: type[T], what: str) -> T:
    """Validate a request body; snake_case field names (proto JSON) are accepted."""
    try:
        if not has_snake_keys(body):
            return msgspec.json.decode(body, type=type_)
        raw: Any = msgspec.json.decode(body)
        return msgspec.convert(camelize_keys(raw), type_)
    except msgspec.DecodeError as exc:
        if isinstance(exc, msgspec.ValidationError):
            raise _invalid(exc, what) from None
        raise GatewayError("invalid_request", f"the {what} body is not valid JSON: {exc}") from None


def decode_request(body: bytes, *, model: str, stream: bool) -> ChatRequest:
    """A ``generateContent`` body as a ChatRequest (model and stream come from the URL)."""
    wire = _decode(body, GenerateContentRequest, "generateContent request")
    if not wire.contents:
        raise GatewayError(
            "invalid_request",
            "contents must hold at least one turn ({role: 'user', parts: [{text: ...}]})",
            param="contents",
        )
    return decode_chat_request(wire, model, stream)


def encode_response(response: ChatResponse) -> bytes:
    """A ChatResponse as a Gemini ``GenerateContentResponse``."""
    candidates = [
        Candidate(
            content=Content(
                role="model",
                parts=encode_parts(choice.message.content, "choices", response=True),
            ),
            finish_reason=native_finish(choice.finish_reason, choice.native_finish_reason),
            index=choice.index,
        )
        for choice in response.choices
    ]
    wire = GenerateContentResponse(
        candidates=candidates,
        usage_metadata=encode_usage(response.usage) if response.usage else None,
        model_version=response.model,
        response_id=response.id or None,
    )
    return _encode(wire)


def encode_error(err: GatewayError) -> bytes:
    """``{"error": {"code", "message", "status"}}`` (google.rpc status names)."""
    return error_body(err)


def _text(request: EmbedContentRequest) -> str:
    return "".join(p.text for p in request.content.parts if p.text)


def decode_embed_request(body: bytes, *, model: str, batch: bool) -> EmbeddingRequest:
    """An ``embedContent`` (or ``batchEmbedContents`` when ``batch``) body."""
    if batch:
        wire = _decode(body, BatchEmbedRequest, "batchEmbedContents request")
        requests = wire.requests
        if not requests:
            raise GatewayError(
                "invalid_request", "requests must hold at least one item", param="requests"
            )
    else:
        requests = [_decode(body, EmbedContentRequest, "embedContent request")]
    dims = requests[0].output_dimensionality
    return EmbeddingRequest(model=model, input=[_text(r) for r in requests], dimensions=dims)


def encode_embed_response(response: EmbeddingResponse, *, batch: bool) -> bytes:
    """The ``embedContent`` / ``batchEmbedContents`` answer."""
    embeddings = [ContentEmbedding(values=v) for v in response.data]
    if batch:
        return _encode(BatchEmbedResponse(embeddings=embeddings))
    if len(embeddings) != 1:
        raise GatewayError("server", f"embedContent answers one embedding, not {len(embeddings)}")
    return _encode(EmbedContentResponse(embedding=embeddings[0]))
