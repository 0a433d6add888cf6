"""Anthropic Messages, client side: the SSE stream Anthropic sends -> canonical events."""

from __future__ import annotations

from typing import Any

import msgspec

from junction.codecs._shared.blocks import BlockState
from junction.codecs.anthropic_messages import wire
from junction.codecs.base import Target
from junction.codecs.sse import SSEEvent, SSEParser
from junction.types import (
    Finish,
    StreamEvent,
    StreamStart,
    TextDelta,
    ThinkingDelta,
    ToolCallDelta,
    UpstreamError,
    Usage,
    UsageReport,
    upstream_error,
)

_event_decoder = msgspec.json.Decoder(wire.Event)


class AnthropicStreamDecoder:
    """Anthropic's named SSE events -> canonical events.

    ``call_index`` counts tool_use blocks only; server-tool and other unknown
    blocks are skipped with their deltas."""

    def __init__(self, target: Target) -> None:
        self._provider = target.provider
        self._model = target.model
        self._sse = SSEParser(target.stream_limits)
        self._blocks: dict[int, BlockState] = {}
        self._calls = 0
        self._usage = Usage()
        self._done = False

    def feed(self, data: bytes) -> list[StreamEvent]:
        out: list[StreamEvent] = []
        for event in self._sse.feed(data):
            self._handle(event, out)
        return out

    def close(self) -> list[StreamEvent]:
        out: list[StreamEvent] = []
        for event in self._sse.close():
            self._handle(event, out)
        if not self._done:
            raise UpstreamError(
                "provider_unavailable",
                f"{self._provider} stream ended before message_stop (cut mid-way)",
                provider=self._provider,
                retryable=False,
            )
        return out

    def _handle(self, raw: SSEEvent, out: list[StreamEvent]) -> None:
        if not raw.data.strip():
            return
        try:
            event = _event_decoder.decode(raw.data)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            raise UpstreamError(
                "provider_unavailable",
                f"{self._provider} sent an unreadable stream event: {exc}",
                provider=self._provider,
            ) from None
        kind = event.type or raw.event
        if kind == "error":
            raise stream_error(self._provider, event.error)
        handler = _HANDLERS.get(kind)
        if handler is not None:
            handler(self, event, out)

    def _message_start(self, event: wire.Event, out: list[StreamEvent]) -> None:
        message = event.message or {}
        out.append(
            StreamStart(
                id=str(message.get("id", "")),
                model=str(message.get("model") or self._model),
                provider=self._provider,
            )
        )
        usage = message.get("usage")
        if isinstance(usage, dict):
            self._usage = usage_from_wire(msgspec.convert(usage, wire.Usage))
            out.append(UsageReport(usage=self._usage))

    def _block_start(self, event: wire.Event, out: list[StreamEvent]) -> None:
        block = event.content_block or {}
        kind = str(block.get("type", ""))
        if kind == "tool_use":
            state = BlockState(kind, self._calls)
            self._calls += 1
            args = block.get("input")
            delta = ToolCallDelta(
                call_index=state.call_index, id=block.get("id"), name=block.get("name")
            )
            if isinstance(args, dict) and args:
                delta.arguments = msgspec.json.encode(args).decode()
                state.has_args = True
            out.append(delta)
        else:
            state = BlockState(kind)
            if kind == "text" and block.get("text"):
                out.append(TextDelta(text=str(block["text"])))
            elif kind == "thinking" and (block.get("thinking") or block.get("signature")):
                out.append(
                    ThinkingDelta(
                        text=str(block.get("thinking") or ""),
                        signature=block.get("signature") or None,
                    )
                )
            elif kind == "redacted_thinking":
                out.append(ThinkingDelta(redacted=str(block.get("data", ""))))
        self._blocks[event.index] = state

    def _block_delta(self, event: wire.Event, out: list[StreamEvent]) -> None:
        state = self._blocks.get(event.index)
        delta = event.delta or {}
        kind = delta.get("type")
        if state is None:
            return
        if kind == "text_delta" and delta.get("text"):
            out.append(TextDelta(text=str(delta["text"])))
        elif kind == "input_json_delta" and state.kind == "tool_use" and delta.get("partial_json"):
            state.has_args = True
            out.append(
                ToolCallDelta(call_index=state.call_index, arguments=str(delta["partial_json"]))
            )
        elif kind == "thinking_delta" and delta.get("thinking"):
            out.append(ThinkingDelta(text=str(delta["thinking"])))
        elif kind == "signature_delta" and delta.get("signature"):
            out.append(ThinkingDelta(signature=str(delta["signature"])))

    def _block_stop(self, event: wire.Event, out: list[StreamEvent]) -> None:
        state = self._blocks.get(event.index)
        if state is not None and state.kind == "tool_use" and not state.has_args:
            # No input_json_delta: the call takes no arguments.
            out.append(ToolCallDelta(call_index=state.call_index, arguments="{}"))

    def _message_delta(self, event: wire.Event, out: list[StreamEvent]) -> None:
        delta = event.delta or {}
        native = delta.get("stop_reason")
        if isinstance(native, str):
            reason = wire.finish_reason(native) or "stop"
            out.append(
                Finish(reason=reason, native=native, stop_sequence=delta.get("stop_sequence"))
            )
        if event.usage is not None:
            self._usage = usage_from_wire(event.usage, self._usage)
            out.append(UsageReport(usage=self._usage))

    def _message_stop(self, event: wire.Event, out: list[StreamEvent]) -> None:
        self._done = True


_HANDLERS = {
    "message_start": AnthropicStreamDecoder._message_start,
    "content_block_start": AnthropicStreamDecoder._block_start,
    "content_block_delta": AnthropicStreamDecoder._block_delta,
    "content_block_stop": AnthropicStreamDecoder._block_stop,
    "message_delta": AnthropicStreamDecoder._message_delta,
    "message_stop": AnthropicStreamDecoder._message_stop,
}


def usage_from_wire(u: wire.Usage, base: Usage | None = None) -> Usage:
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


def error_from_object(
    provider: str, error: dict[str, Any], status: int | None, retry_after: float | None = None
) -> UpstreamError:
    kind = error.get("type")
    code = kind if isinstance(kind, str) else None
    if status is None:
        status = wire.ERROR_TYPE_STATUS.get(code or "", 500)
    message = error.get("message")
    detail = message if isinstance(message, str) and message else (code or "unknown error")
    return upstream_error(provider, status, detail, code=code, retry_after=retry_after)


def stream_error(provider: str, error: Any) -> UpstreamError:
    """An ``event: error`` inside a stream (status from its type: overloaded -> 529)."""
    return error_from_object(provider, error if isinstance(error, dict) else {}, None)
