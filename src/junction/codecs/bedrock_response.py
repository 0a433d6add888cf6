"""Bedrock Converse responses, usage and errors, both directions."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

import msgspec

from junction.codecs import bedrock_wire as w
from junction.codecs.base import Target
from junction.types import (
    ChatResponse,
    Choice,
    GatewayError,
    Message,
    Part,
    TextPart,
    ThinkingPart,
    ToolCallPart,
    UpstreamError,
    Usage,
    upstream_error,
)

_response_decoder = msgspec.json.Decoder(w.WResponse)


def new_id() -> str:
    """Converse responses carry no id; junction makes one."""
    return f"bedrock-{uuid.uuid4().hex}"


# --- client side -----------------------------------------------------------------


def decode_response(body: bytes, target: Target) -> ChatResponse:
    try:
        wire = _response_decoder.decode(body)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise UpstreamError(
            "provider_unavailable",
            f"{target.provider} sent a response that is not a Converse response: {exc}",
            provider=target.provider,
            status=502,
            retryable=True,
        ) from None
    message = wire.output.message if wire.output is not None else None
    parts: list[Part] = []
    warnings: list[str] = []
    for block in message.content if message is not None else []:
        part = block_to_part(block, target.provider)
        if part is None:
            warnings.append(f"dropped Bedrock content block {_kind(block)!r}")
        elif not (isinstance(part, TextPart) and not part.text):
            parts.append(part)
    choice = Choice(
        index=0,
        message=Message(role="assistant", content=parts),
        finish_reason=w.finish_reason(wire.stop_reason),
        native_finish_reason=wire.stop_reason,
    )
    return ChatResponse(
        id=new_id(),
        model=target.model,
        choices=[choice],
        usage=usage_from_wire(wire.usage) if wire.usage is not None else None,
        provider=target.provider,
        warnings=warnings,
    )


def _kind(block: w.WBlock) -> str:
    kinds = [k for k in w.WBlock.__struct_fields__ if getattr(block, k) is not None]
    if block.tool_use is not None and block.tool_use.type:
        return f"toolUse ({block.tool_use.type})"
    if block.tool_result is not None and block.tool_result.type:
        return f"toolResult ({block.tool_result.type})"
    return ",".join(kinds) or "empty"


def block_to_part(block: w.WBlock, provider: str) -> Part | None:
    """A response content block as a canonical part (None: not one junction
    carries: server-tool use and results, citations, images...)."""
    if block.text is not None:
        return TextPart(text=block.text)
    if block.reasoning_content is not None:
        reasoning = block.reasoning_content
        if reasoning.redacted_content is not None:
            return ThinkingPart(redacted=reasoning.redacted_content, provider=provider)
        text = reasoning.reasoning_text or w.WReasoningText()
        return ThinkingPart(text=text.text, signature=text.signature or None, provider=provider)
    use = block.tool_use
    if use is not None and use.type in (None, "tool_use"):
        args = msgspec.json.encode(use.input if use.input is not None else {}).decode()
        return ToolCallPart(id=use.tool_use_id, name=use.name, arguments=args)
    return None


def usage_from_wire(u: w.WUsage) -> Usage:
    """``inputTokens`` excludes cached tokens (the recordings show
    totalTokens = input + cacheRead + cacheWrite + output), so they are added."""
    read = u.cache_read_input_tokens or 0
    write = u.cache_write_input_tokens or 0
    return Usage(
        prompt_tokens=u.input_tokens + read + write,
        completion_tokens=u.output_tokens,
        cached_tokens=read,
        cache_write_tokens=write,
    )


def _header(headers: Mapping[str, str], name: str) -> str | None:
    for key, value in headers.items():
        if key.lower() == name:
            return value
    return None


def _retry_after(headers: Mapping[str, str]) -> float | None:
    value = _header(headers, "retry-after")
    if value is None:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        return None


def decode_error(
    status: int, headers: Mapping[str, str], body: bytes, target: Target
) -> UpstreamError:
    """``{"message": ...}`` with the exception name in ``x-amzn-errortype``
    (``ThrottlingException:http://internal.amazon.com/...``); the body's
    ``__type`` / ``code`` is read when the header is absent."""
    try:
        data = msgspec.json.decode(body)
    except msgspec.DecodeError:
        data = None
    data = data if isinstance(data, dict) else {}
    name = _header(headers, "x-amzn-errortype") or data.get("__type") or data.get("code")
    code = str(name).split(":", 1)[0].rsplit("#", 1)[-1] if name else None
    message = data.get("message") or data.get("Message")
    if not isinstance(message, str) or not message:
        message = body.decode("utf-8", errors="replace").strip()[:500] or "(empty body)"
    detail = f"{code}: {message}" if code else message
    return exception_error(target.provider, code, detail, status, _retry_after(headers))


def exception_error(
    provider: str,
    code: str | None,
    detail: str,
    status: int,
    retry_after: float | None = None,
) -> UpstreamError:
    """The gateway error for a Bedrock exception (by name, else by HTTP status)."""
    effective = w.ERROR_STATUS.get(code or "", status)
    if effective == 424:
        effective = 502
    out = upstream_error(provider, effective, detail, code=code, retry_after=retry_after)
    lowered = detail.lower()
    if effective == 400 and ("too long" in lowered or "context length" in lowered):
        out.kind = "context_length_exceeded"
    return out


# --- server side -----------------------------------------------------------------


def part_to_block(part: Part) -> dict[str, Any] | None:
    if isinstance(part, TextPart):
        return {"text": part.text}
    if isinstance(part, ThinkingPart):
        if part.redacted:
            return {"reasoningContent": {"redactedContent": part.redacted}}
        text: dict[str, Any] = {"text": part.text}
        if part.signature:
            text["signature"] = part.signature
        return {"reasoningContent": {"reasoningText": text}}
    if isinstance(part, ToolCallPart):
        use = {"toolUseId": part.id, "name": part.name, "input": _input(part)}
        return {"toolUse": use}
    return None


def _input(part: ToolCallPart) -> Any:
    try:
        value = msgspec.json.decode(part.arguments or "{}")
    except msgspec.DecodeError:
        return {}
    return value if isinstance(value, dict) else {}


def usage_to_wire(usage: Usage | None) -> dict[str, int]:
    usage = usage or Usage()
    fresh = max(usage.prompt_tokens - usage.cached_tokens - usage.cache_write_tokens, 0)
    out = {
        "inputTokens": fresh,
        "outputTokens": usage.completion_tokens,
        "totalTokens": usage.prompt_tokens + usage.completion_tokens,
    }
    if usage.cached_tokens or usage.cache_write_tokens:
        out["cacheReadInputTokens"] = usage.cached_tokens
        out["cacheWriteInputTokens"] = usage.cache_write_tokens
    return out


def encode_response(response: ChatResponse, latency_ms: int = 0) -> bytes:
    """A canonical response as a ConverseResponse (choice 0: Converse has no ``n``)."""
    choice = response.choices[0] if response.choices else None
    content: list[dict[str, Any]] = []
    stop = "end_turn"
    if choice is not None:
        content = [b for p in choice.message.content if (b := part_to_block(p)) is not None]
        if choice.message.refusal and not content:
            content.append({"text": choice.message.refusal})
        stop = w.native_stop_reason(choice.finish_reason, choice.native_finish_reason)
        if stop == "end_turn" and choice.stop_sequence:
            stop = "stop_sequence"
    return msgspec.json.encode(
        {
            "output": {"message": {"role": "assistant", "content": content}},
            "stopReason": stop,
            "usage": usage_to_wire(response.usage),
            "metrics": {"latencyMs": latency_ms},
        }
    )


def encode_error(err: GatewayError) -> bytes:
    """``{"message": ...}``; the exception name goes in the ``x-amzn-errortype``
    header (see :func:`error_headers`)."""
    return msgspec.json.encode({"message": err.message})


def error_headers(err: GatewayError) -> dict[str, str]:
    name = w.error_type(err)
    return {"x-amzn-errortype": f"{name}:http://internal.amazon.com/coral/com.amazon.bedrock/"}
