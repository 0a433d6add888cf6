"""Anthropic Messages streams: SSE events <-> canonical stream events."""

from __future__ import annotations

from typing import Any

import msgspec

from junction.codecs import anthropic_wire as w
from junction.codecs.anthropic_response import stream_error, usage_from_wire, usage_to_wire
from junction.codecs.base import Target
from junction.codecs.sse import SSEEvent, SSEParser, sse
from junction.types import (
    Finish,
    GatewayError,
    StreamEvent,
    StreamStart,
    TextDelta,
    ThinkingDelta,
    ToolCallDelta,
    UpstreamError,
    Usage,
    UsageReport,
)


class _Event(msgspec.Struct):
    type: str = ""
    index: int = 0
    message: dict[str, Any] | None = None
    content_block: dict[str, Any] | None = None
    delta: dict[str, Any] | None = None
    usage: w.WUsage | None = None
    error: Any = None


_event_decoder = msgspec.json.Decoder(_Event)


class _Block:
    __slots__ = ("call_index", "has_args", "kind")

    def __init__(self, kind: str, call_index: int = -1) -> None:
        self.kind = kind
        self.call_index = call_index
        self.has_args = False


# --- client side: decode ---------------------------------------------------------


class AnthropicStreamDecoder:
    """Anthropic's named SSE events -> canonical events.

    ``call_index`` counts tool_use blocks only; server-tool and other unknown
    blocks are skipped with their deltas."""

    def __init__(self, target: Target) -> None:
        self._provider = target.provider
        self._model = target.model
        self._sse = SSEParser(target.stream_limits)
        self._blocks: dict[int, _Block] = {}
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

    def _message_start(self, event: _Event, out: list[StreamEvent]) -> None:
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
            self._usage = usage_from_wire(msgspec.convert(usage, w.WUsage))
            out.append(UsageReport(usage=self._usage))

    def _block_start(self, event: _Event, out: list[StreamEvent]) -> None:
        block = event.content_block or {}
        kind = str(block.get("type", ""))
        if kind == "tool_use":
            state = _Block(kind, self._calls)
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
            state = _Block(kind)
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

    def _block_delta(self, event: _Event, out: list[StreamEvent]) -> None:
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

    def _block_stop(self, event: _Event, out: list[StreamEvent]) -> None:
        state = self._blocks.get(event.index)
        if state is not None and state.kind == "tool_use" and not state.has_args:
            # No input_json_delta: the call takes no arguments.
            out.append(ToolCallDelta(call_index=state.call_index, arguments="{}"))

    def _message_delta(self, event: _Event, out: list[StreamEvent]) -> None:
        delta = event.delta or {}
        native = delta.get("stop_reason")
        if isinstance(native, str):
            reason = w.finish_reason(native) or "stop"
            out.append(
                Finish(reason=reason, native=native, stop_sequence=delta.get("stop_sequence"))
            )
        if event.usage is not None:
            self._usage = usage_from_wire(event.usage, self._usage)
            out.append(UsageReport(usage=self._usage))

    def _message_stop(self, event: _Event, out: list[StreamEvent]) -> None:
        self._done = True


_HANDLERS = {
    "message_start": AnthropicStreamDecoder._message_start,
    "content_block_start": AnthropicStreamDecoder._block_start,
    "content_block_delta": AnthropicStreamDecoder._block_delta,
    "content_block_stop": AnthropicStreamDecoder._block_stop,
    "message_delta": AnthropicStreamDecoder._message_delta,
    "message_stop": AnthropicStreamDecoder._message_stop,
}


# --- server side: encode ---------------------------------------------------------


def _frame(name: str, payload: dict[str, Any]) -> bytes:
    return sse(msgspec.json.encode(payload), event=name)


class StreamEncoder:
    """Canonical events -> Anthropic's SSE sequence.

    ``message_start`` waits for the first event after StreamStart so that
    usage reported up front (Anthropic upstreams do) lands in it; the
    ``message_delta`` with the stop reason and the final usage is written by
    :meth:`finish`, since usage may follow the Finish event. Only choice 0 is
    encoded (Anthropic has no ``n``)."""

    def __init__(self, model: str = "", message_id: str = "msg_junction") -> None:
        self._model = model
        self._id = message_id
        self._started = False
        self._index = -1
        self._open: str | None = None
        self._open_call = -1
        self._usage: Usage | None = None
        self._stop_reason: str | None = None
        self._stop_sequence: str | None = None

    def encode(self, event: StreamEvent) -> bytes:
        if isinstance(event, StreamStart):
            self._id = event.id or self._id
            self._model = event.model or self._model
            return b""
        if isinstance(event, UsageReport):
            self._usage = event.usage
            return b"" if self._started else self._start()
        if event.index != 0:
            return b""
        out = self._start()
        if isinstance(event, TextDelta):
            out += self._text(event)
        elif isinstance(event, ThinkingDelta):
            out += self._thinking(event)
        elif isinstance(event, ToolCallDelta):
            out += self._tool(event)
        else:
            out += self._close()
            self._stop_reason = w.native_stop_reason(event.reason, event.native)
            self._stop_sequence = event.stop_sequence
            if self._stop_reason == "end_turn" and event.stop_sequence:
                self._stop_reason = "stop_sequence"
        return out

    def finish(self) -> bytes:
        out = self._start() + self._close()
        usage = msgspec.to_builtins(usage_to_wire(self._usage))
        delta = {
            "stop_reason": self._stop_reason or "end_turn",
            "stop_sequence": self._stop_sequence,
        }
        out += _frame("message_delta", {"type": "message_delta", "delta": delta, "usage": usage})
        return out + _frame("message_stop", {"type": "message_stop"})

    def error(self, err: GatewayError) -> bytes:
        return sse(w.error_body(err), event="error")

    def _start(self) -> bytes:
        if self._started:
            return b""
        self._started = True
        message = {
            "id": self._id,
            "type": "message",
            "role": "assistant",
            "model": self._model,
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": msgspec.to_builtins(usage_to_wire(self._usage)),
        }
        return _frame("message_start", {"type": "message_start", "message": message})

    def _open_block(self, kind: str, block: dict[str, Any]) -> bytes:
        out = self._close()
        self._index += 1
        self._open = kind
        payload = {"type": "content_block_start", "index": self._index, "content_block": block}
        return out + _frame("content_block_start", payload)

    def _close(self) -> bytes:
        if self._open is None:
            return b""
        self._open = None
        return _frame("content_block_stop", {"type": "content_block_stop", "index": self._index})

    def _delta(self, delta: dict[str, Any]) -> bytes:
        payload = {"type": "content_block_delta", "index": self._index, "delta": delta}
        return _frame("content_block_delta", payload)

    def _text(self, event: TextDelta) -> bytes:
        if not event.text:
            return b""
        out = b""
        if self._open != "text":
            out = self._open_block("text", {"type": "text", "text": ""})
        return out + self._delta({"type": "text_delta", "text": event.text})

    def _thinking(self, event: ThinkingDelta) -> bytes:
        if event.redacted is not None:
            block = {"type": "redacted_thinking", "data": event.redacted}
            return self._open_block("redacted", block) + self._close()
        out = b""
        if (event.text or event.signature) and self._open != "thinking":
            out = self._open_block(
                "thinking", {"type": "thinking", "thinking": "", "signature": ""}
            )
        if event.text:
            out += self._delta({"type": "thinking_delta", "thinking": event.text})
        if event.signature:
            out += self._delta({"type": "signature_delta", "signature": event.signature})
            out += self._close()  # a signature ends its thinking block
        return out

    def _tool(self, event: ToolCallDelta) -> bytes:
        out = b""
        if self._open != "tool" or self._open_call != event.call_index:
            block = {
                "type": "tool_use",
                "id": event.id or f"toolu_{event.call_index}",
                "name": event.name or "",
                "input": {},
            }
            out = self._open_block("tool", block)
            self._open_call = event.call_index
        if event.arguments:
            out += self._delta({"type": "input_json_delta", "partial_json": event.arguments})
        return out
