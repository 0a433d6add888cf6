"""Google Gemini ``generateContent`` / ``streamGenerateContent`` and
``embedContent`` / ``batchEmbedContents``, both directions.

Client side: :class:`GeminiCodec` (``CODEC``). ``target.base_url`` is the API
root without a version (``https://generativelanguage.googleapis.com``); the
version is ``target.api_version`` or ``v1beta``. The key travels in
``x-goog-api-key`` (vendor quirk ``auth = "x-goog-api-key"``).

Choices made where the wire formats differ:

- Tools go out as ``parametersJsonSchema`` and structured output as
  ``responseJsonSchema`` (full JSON Schema, as canonical requests hold it).
- Reasoning: ``reasoning.max_tokens`` is the ``thinkingBudget``; else
  ``effort`` maps through :data:`EFFORT_BUDGET`; ``enabled=False`` is budget 0;
  ``includeThoughts`` is ``not reasoning.exclude``.
- Thinking parts go back to Gemini only when Gemini made them
  (``provider == "gemini"``, or no provider but a signature); others are dropped.
- A function call without ``id`` gets ``call_<responseId>_<candidate>_<n>``.
- Finish reasons: see :func:`junction.codecs.gemini_wire.finish_reason`
  (STOP with a function call is ``tool_calls``; unusual failures are ``error``).
- Usage: prompt = promptTokenCount + toolUsePromptTokenCount, completion =
  candidatesTokenCount + thoughtsTokenCount. Gemini reports no embedding usage.

Server side (simulator, Gemini ingress): :func:`decode_request`,
:func:`encode_response`, :class:`StreamEncoder`, :func:`encode_error`,
:func:`decode_embed_request`, :func:`encode_embed_response`.
"""

from __future__ import annotations

import email.utils
import re
import time
from collections.abc import Mapping
from typing import Any

import msgspec

from junction.codecs.base import Target, auth_headers, join_url
from junction.codecs.gemini_parts import decode_candidate, decode_usage
from junction.codecs.gemini_request import EFFORT_BUDGET, encode_chat_request
from junction.codecs.gemini_server import (
    StreamEncoder,
    decode_embed_request,
    decode_request,
    encode_embed_response,
    encode_error,
    encode_response,
)
from junction.codecs.gemini_stream import GeminiStreamDecoder
from junction.codecs.gemini_wire import (
    BatchEmbedRequest,
    BatchEmbedResponse,
    Content,
    EmbedContentRequest,
    EmbedContentResponse,
    ErrorBody,
    GenerateContentResponse,
    Part,
)
from junction.types import (
    ChatRequest,
    ChatResponse,
    Choice,
    EmbeddingRequest,
    EmbeddingResponse,
    GatewayError,
    HttpRequest,
    Message,
    UpstreamError,
    Usage,
    upstream_error,
)

__all__ = [
    "CODEC",
    "EFFORT_BUDGET",
    "PARAMS",
    "PARAM_NOTES",
    "GeminiCodec",
    "GeminiStreamDecoder",
    "StreamEncoder",
    "decode_embed_request",
    "decode_request",
    "encode_embed_response",
    "encode_error",
    "encode_response",
]

PARAMS: dict[str, str] = {
    "max_tokens": "native",
    "temperature": "native",
    "top_p": "native",
    "top_k": "native",
    "frequency_penalty": "native",
    "presence_penalty": "native",
    "seed": "native",
    "stop": "native",
    "n": "native",
    "logprobs": "native",
    "top_logprobs": "native",
    "tools": "translated",
    "tool_choice": "translated",
    "response_format": "translated",
    "reasoning": "translated",
}

PARAM_NOTES: dict[str, str] = {
    "n": "candidateCount",
    "logprobs": "responseLogprobs; top_logprobs is generationConfig.logprobs",
    "tool_choice": "functionCallingConfig.mode AUTO/NONE/ANY (+ allowedFunctionNames)",
    "response_format": "responseMimeType application/json + responseJsonSchema",
    "reasoning": "thinkingConfig.thinkingBudget (effort mapped) and includeThoughts",
}

_DEFAULT_VERSION = "v1beta"
_decode_response = msgspec.json.Decoder(GenerateContentResponse).decode
_decode_embed = msgspec.json.Decoder(EmbedContentResponse).decode
_decode_batch = msgspec.json.Decoder(BatchEmbedResponse).decode
_encode = msgspec.json.Encoder().encode
_DELAY = re.compile(r"^\s*([0-9.]+)s\s*$")


def _model_url(target: Target, method: str) -> str:
    model = target.model.removeprefix("models/")
    version = target.api_version or _DEFAULT_VERSION
    return join_url(target.base_url, f"{version}/models/{model}:{method}")


def _headers(target: Target) -> dict[str, str]:
    return {"content-type": "application/json", **auth_headers(target), **target.headers}


def _bad_body(target: Target, what: str, exc: Exception) -> UpstreamError:
    return UpstreamError(
        "provider_unavailable",
        f"{target.provider} sent an unreadable {what}: {exc}",
        provider=target.provider,
        status=502,
        retryable=True,
    )


def _header(headers: Mapping[str, str], name: str) -> str | None:
    for key, value in headers.items():
        if key.lower() == name:
            return value
    return None


def _retry_after(headers: Mapping[str, str], details: list[Any] | None) -> float | None:
    value = _header(headers, "retry-after")
    if value:
        try:
            return max(0.0, float(value))
        except ValueError:
            parsed = email.utils.parsedate_to_datetime(value) if value else None
            if parsed is not None:
                return max(0.0, parsed.timestamp() - time.time())
    for detail in details or []:
        delay = detail.get("retryDelay") if isinstance(detail, dict) else None
        match = _DELAY.match(delay) if isinstance(delay, str) else None
        if match:
            return float(match.group(1))
    return None


def _error_body(body: bytes) -> ErrorBody | None:
    try:
        raw = msgspec.json.decode(body)
    except msgspec.DecodeError:
        return None
    if isinstance(raw, list) and raw:
        raw = raw[0]
    err = raw.get("error") if isinstance(raw, dict) else None
    if not isinstance(err, dict):
        return None
    try:
        return msgspec.convert(err, ErrorBody)
    except msgspec.ValidationError:
        return ErrorBody(message=str(err.get("message", "")))


class GeminiCodec:
    """Gemini client side: chat (``ChatCodec``) and embeddings (``EmbeddingCodec``)."""

    name = "gemini"

    def encode_request(self, request: ChatRequest, target: Target) -> HttpRequest:
        method = "streamGenerateContent?alt=sse" if request.stream else "generateContent"
        return HttpRequest(
            method="POST",
            url=_model_url(target, method),
            headers=_headers(target),
            body=_encode(encode_chat_request(request)),
            stream=request.stream,
        )

    def decode_response(self, body: bytes, target: Target) -> ChatResponse:
        try:
            wire = _decode_response(body)
        except msgspec.DecodeError as exc:
            raise _bad_body(target, "generateContent response", exc) from exc
        rid = wire.response_id
        choices = [decode_candidate(c, rid) for c in wire.candidates]
        block = wire.prompt_feedback.block_reason if wire.prompt_feedback else None
        if not choices and block:
            choices = [
                Choice(
                    index=0,
                    message=Message(role="assistant"),
                    finish_reason="content_filter",
                    native_finish_reason=block,
                )
            ]
        return ChatResponse(
            id=rid or "",
            model=wire.model_version or target.model,
            choices=choices,
            usage=decode_usage(wire.usage_metadata) if wire.usage_metadata else None,
            provider=target.provider,
        )

    def stream_decoder(self, target: Target) -> GeminiStreamDecoder:
        return GeminiStreamDecoder(target.provider, target.model, target.stream_limits)

    def decode_error(
        self, status: int, headers: Mapping[str, str], body: bytes, target: Target
    ) -> UpstreamError:
        err = _error_body(body)
        if err is None:
            text = body.decode("utf-8", errors="replace").strip()[:500] or "(empty body)"
            detail, code, details = text, None, None
        else:
            detail = f"{err.status}: {err.message}" if err.status else err.message
            code, details = err.status or None, err.details
        out = upstream_error(
            target.provider, status, detail, code=code, retry_after=_retry_after(headers, details)
        )
        if status == 400 and "token count" in detail and "exceeds" in detail:
            out.kind = "context_length_exceeded"
        return out

    # -- embeddings ----------------------------------------------------------------

    def encode_embeddings(self, request: EmbeddingRequest, target: Target) -> HttpRequest:
        texts: list[str] = []
        for i, item in enumerate(request.input):
            if not isinstance(item, str):
                raise GatewayError(
                    "invalid_request",
                    "Gemini embeds text only; send strings, not token ids",
                    param=f"input[{i}]",
                )
            texts.append(item)
        model = "models/" + target.model.removeprefix("models/")
        items = [
            EmbedContentRequest(
                content=Content(parts=[Part(text=t)]),
                output_dimensionality=request.dimensions,
                model=model if len(texts) != 1 else None,
            )
            for t in texts
        ]
        if len(items) == 1:
            url, body = _model_url(target, "embedContent"), _encode(items[0])
        else:
            url = _model_url(target, "batchEmbedContents")
            body = _encode(BatchEmbedRequest(requests=items))
        return HttpRequest(method="POST", url=url, headers=_headers(target), body=body)

    def decode_embeddings(self, body: bytes, target: Target) -> EmbeddingResponse:
        try:
            if b'"embeddings"' in body:
                data = [e.values for e in _decode_batch(body).embeddings]
            else:
                data = [_decode_embed(body).embedding.values]
        except msgspec.DecodeError as exc:
            raise _bad_body(target, "embedding response", exc) from exc
        return EmbeddingResponse(
            model=target.model, data=data, usage=Usage(), provider=target.provider
        )


CODEC = GeminiCodec()
