"""Anthropic Messages responses and errors, both directions."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec

from junction.codecs import anthropic_wire as w
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


# --- client side ---------------------------------------------------------------


def decode_response(body: bytes, target: Target) -> ChatResponse:
    try:
        wire = _response_decoder.decode(body)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise UpstreamError(
            "provider_unavailable",
            f"{target.provider} sent a response that is not an Anthropic message: {exc}",
            provider=target.provider,
        ) from None
    if wire.type == "error":
        raise _error_from_object(target.provider, wire.error or {}, None)
    parts: list[Part] = []
    warnings: list[str] = []
    for block in wire.content:
        part = block_to_part(block, target.provider)
        if part is None:
            warnings.append(f"dropped Anthropic content block of type {block.get('type')!r}")
        else:
            parts.append(part)
    choice = Choice(
        index=0,
        message=Message(role="assistant", content=parts),
        finish_reason=w.finish_reason(wire.stop_reason),
        native_finish_reason=wire.stop_reason,
        stop_sequence=wire.stop_sequence,
    )
    return ChatResponse(
        id=wire.id,
        model=wire.model or target.model,
        choices=[choice],
        usage=usage_from_wire(wire.usage) if wire.usage is not None else None,
        provider=target.provider,
        warnings=warnings,
    )


def block_to_part(block: dict[str, Any], provider: str) -> Part | None:
    """One response content block as a canonical part (None: not one junction carries,
    such as server-tool blocks)."""
    kind = block.get("type")
    if kind == "text":
        return TextPart(text=str(block.get("text", "")))
    if kind == "thinking":
        signature = block.get("signature") or None
        return ThinkingPart(
            text=str(block.get("thinking", "")), signature=signature, provider=provider
        )
    if kind == "redacted_thinking":
        return ThinkingPart(redacted=str(block.get("data", "")), provider=provider)
    if kind == "tool_use":
        args = msgspec.json.encode(block.get("input") or {}).decode()
        return ToolCallPart(
            id=str(block.get("id", "")), name=str(block.get("name", "")), arguments=args
        )
    return None


def usage_from_wire(u: w.WUsage, base: Usage | None = None) -> Usage:
    """Canonical usage; fields the wire leaves out keep ``base``'s values
    (a stream's message_delta only carries what changed)."""
    base = base or Usage()
    cache_write = _pick(u.cache_creation_input_tokens, base.cache_write_tokens)
    cache_read = _pick(u.cache_read_input_tokens, base.cached_tokens)
    base_input = base.prompt_tokens - base.cache_write_tokens - base.cached_tokens
    fresh = _pick(u.input_tokens, base_input)
    details = u.output_tokens_details or {}
    thinking = details.get("thinking_tokens")
    return Usage(
        prompt_tokens=fresh + cache_write + cache_read,
        completion_tokens=_pick(u.output_tokens, base.completion_tokens),
        cached_tokens=cache_read,
        cache_write_tokens=cache_write,
        reasoning_tokens=thinking if isinstance(thinking, int) else base.reasoning_tokens,
    )


def _pick(value: int | None, default: int) -> int:
    return default if value is None else value


def decode_error(
    status: int, headers: Mapping[str, str], body: bytes, target: Target
) -> UpstreamError:
    retry_after = _retry_after(headers)
    try:
        data = msgspec.json.decode(body)
    except msgspec.DecodeError:
        data = None
    error = data.get("error") if isinstance(data, dict) else None
    if isinstance(error, dict):
        return _error_from_object(target.provider, error, status, retry_after)
    text = body.decode("utf-8", errors="replace").strip()[:500] or "(empty body)"
    return upstream_error(target.provider, status, text, retry_after=retry_after)


def _error_from_object(
    provider: str, error: dict[str, Any], status: int | None, retry_after: float | None = None
) -> UpstreamError:
    kind = error.get("type")
    code = kind if isinstance(kind, str) else None
    if status is None:
        status = w.ERROR_TYPE_STATUS.get(code or "", 500)
    message = error.get("message")
    detail = message if isinstance(message, str) and message else (code or "unknown error")
    return upstream_error(provider, status, detail, code=code, retry_after=retry_after)


def stream_error(provider: str, error: Any) -> UpstreamError:
    """An ``event: error`` inside a stream (status from its type: overloaded -> 529)."""
    return _error_from_object(provider, error if isinstance(error, dict) else {}, None)


def _retry_after(headers: Mapping[str, str]) -> float | None:
    lowered = {k.lower(): v for k, v in headers.items()}
    for name, scale in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        value = lowered.get(name)
        if value is None:
            continue
        try:
            return max(float(value) / scale, 0.0)
        except ValueError:
            continue  # an HTTP date: not worth parsing here
    return None


# --- server side ---------------------------------------------------------------


def part_to_block(part: Part) -> dict[str, Any] | None:
    if isinstance(part, TextPart):
        return {"type": "text", "text": part.text}
    if isinstance(part, ThinkingPart):
        if part.redacted:
            return {"type": "redacted_thinking", "data": part.redacted}
        return {"type": "thinking", "thinking": part.text, "signature": part.signature or ""}
    if isinstance(part, ToolCallPart):
        return {"type": "tool_use", "id": part.id, "name": part.name, "input": _input(part)}
    return None


def _input(part: ToolCallPart) -> Any:
    try:
        value = msgspec.json.decode(part.arguments or "{}")
    except msgspec.DecodeError:
        return {}
    return value if isinstance(value, dict) else {}


def usage_to_wire(usage: Usage | None) -> w.OutUsage:
    usage = usage or Usage()
    fresh = usage.prompt_tokens - usage.cached_tokens - usage.cache_write_tokens
    return w.OutUsage(
        input_tokens=max(fresh, 0),
        output_tokens=usage.completion_tokens,
        cache_creation_input_tokens=usage.cache_write_tokens,
        cache_read_input_tokens=usage.cached_tokens,
        output_tokens_details=(
            {"thinking_tokens": usage.reasoning_tokens} if usage.reasoning_tokens else None
        ),
    )


def encode_response(response: ChatResponse) -> bytes:
    """A canonical response as an Anthropic ``message`` (choice 0 only: no ``n``)."""
    choice = response.choices[0] if response.choices else None
    content: list[dict[str, Any]] = []
    stop_reason: str | None = None
    stop_sequence: str | None = None
    if choice is not None:
        content = [b for p in choice.message.content if (b := part_to_block(p)) is not None]
        if choice.message.refusal and not content:
            content.append({"type": "text", "text": choice.message.refusal})
        stop_reason = w.native_stop_reason(choice.finish_reason, choice.native_finish_reason)
        stop_sequence = choice.stop_sequence
        if stop_reason == "end_turn" and stop_sequence:
            stop_reason = "stop_sequence"
    return msgspec.json.encode(
        {
            "id": response.id,
            "type": "message",
            "role": "assistant",
            "model": response.model,
            "content": content,
            "stop_reason": stop_reason,
            "stop_sequence": stop_sequence,
            "usage": usage_to_wire(response.usage),
        }
    )


def encode_error(err: GatewayError) -> bytes:
    """``{"type": "error", "error": {"type", "message"}}``."""
    return w.error_body(err)
