"""Gemini, client side: canonical request -> ``generateContent`` /
``streamGenerateContent`` / ``embedContent`` / ``batchEmbedContents``, and
what Gemini sends back (bodies, errors, embeddings). The choices made where
the wire formats differ are listed in the package's docstring.
"""

from __future__ import annotations

import email.utils
import re
import time
from collections.abc import Mapping
from typing import Any

import msgspec

from junction.codecs.base import Target, auth_headers, join_url
from junction.codecs.gemini.client_stream import GeminiStreamDecoder
from junction.codecs.gemini.parts import (
    decode_candidate,
    decode_usage,
    encode_messages,
)
from junction.codecs.gemini.wire import (
    BatchEmbedRequest,
    BatchEmbedResponse,
    Content,
    EmbedContentRequest,
    EmbedContentResponse,
    ErrorBody,
    FunctionCallingConfig,
    FunctionDeclaration,
    GenerateContentRequest,
    GenerateContentResponse,
    GenerationConfig,
    Part,
    ThinkingConfig,
    ToolConfig,
)
from junction.codecs.gemini.wire import Tool as GeminiTool
from junction.types import (
    ChatRequest,
    ChatResponse,
    Choice,
    EmbeddingRequest,
    EmbeddingResponse,
    GatewayError,
    HttpRequest,
    Message,
    Reasoning,
    ResponseFormat,
    Tool,
    ToolChoice,
    UpstreamError,
    Usage,
    upstream_error,
)

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
            incoming = _decode_response(body)
        except msgspec.DecodeError as exc:
            raise _bad_body(target, "generateContent response", exc) from exc
        rid = incoming.response_id
        choices = [decode_candidate(c, rid) for c in incoming.candidates]
        block = incoming.prompt_feedback.block_reason if incoming.prompt_feedback else None
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
            model=incoming.model_version or target.model,
            choices=choices,
            usage=decode_usage(incoming.usage_metadata) if incoming.usage_metadata else None,
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


EFFORT_BUDGET: dict[str, int] = {
    "none": 0,
    "minimal": 512,
    "low": 2048,
    "medium": 8192,
    "high": 24576,
    "xhigh": 24576,
    "max": 24576,
}
"""``reasoning.effort`` as a ``thinkingBudget``. 24576 is the largest budget
every Gemini 2.5 model accepts (Flash's maximum), so xhigh / max stop there."""


_MODES = {"auto": "AUTO", "none": "NONE", "required": "ANY", "tool": "ANY"}


_json_encode = msgspec.json.Encoder().encode


def _thinking(reasoning: Reasoning) -> ThinkingConfig:
    budget: int | None = reasoning.max_tokens
    if not reasoning.enabled:
        budget = 0
    elif budget is None and reasoning.effort is not None:
        budget = EFFORT_BUDGET[reasoning.effort]
    # includeThoughts defaults to false: sent only when thoughts are wanted.
    include = True if budget != 0 and not reasoning.exclude else None
    return ThinkingConfig(include_thoughts=include, thinking_budget=budget)


def _response_format(config: GenerationConfig, fmt: ResponseFormat) -> None:
    if fmt.type == "text":
        return
    config.response_mime_type = "application/json"
    if fmt.type == "json_schema" and fmt.schema is not None:
        config.response_json_schema = fmt.schema


def generation_config(req: ChatRequest) -> GenerationConfig | None:
    config = GenerationConfig(
        max_output_tokens=req.max_tokens,
        temperature=req.temperature,
        top_p=req.top_p,
        top_k=req.top_k,
        stop_sequences=req.stop or None,
        candidate_count=req.n if req.n != 1 else None,
        seed=req.seed,
        presence_penalty=req.presence_penalty,
        frequency_penalty=req.frequency_penalty,
        response_logprobs=True if req.logprobs else None,
        logprobs=req.top_logprobs if req.logprobs else None,
    )
    if req.response_format is not None:
        _response_format(config, req.response_format)
    if req.reasoning is not None:
        config.thinking_config = _thinking(req.reasoning)
    return config if config != GenerationConfig() else None


def _tools(tools: list[Tool]) -> list[GeminiTool] | None:
    if not tools:
        return None
    decls = [
        FunctionDeclaration(
            name=t.name, description=t.description, parameters_json_schema=t.parameters
        )
        for t in tools
    ]
    return [GeminiTool(function_declarations=decls)]


def _tool_config(choice: ToolChoice | None) -> ToolConfig | None:
    if choice is None:
        return None
    names = [choice.name] if choice.mode == "tool" and choice.name else None
    return ToolConfig(
        function_calling_config=FunctionCallingConfig(
            mode=_MODES[choice.mode], allowed_function_names=names
        )
    )


def encode_chat_request(req: ChatRequest) -> GenerateContentRequest:
    system, contents = encode_messages(req.messages)
    return GenerateContentRequest(
        contents=contents,
        system_instruction=system,
        tools=_tools(req.tools),
        tool_config=_tool_config(req.tool_choice) if req.tools else None,
        generation_config=generation_config(req),
    )
