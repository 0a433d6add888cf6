"""Anthropic Messages, server side: canonical stream events -> Anthropic's SSE events."""

from __future__ import annotations

from typing import Any

import msgspec

from junction.codecs.anthropic_messages import wire
from junction.codecs.anthropic_messages.server import usage_to_wire
from junction.codecs.sse import sse
from junction.types import (
    GatewayError,
    StreamEvent,
    StreamStart,
    TextDelta,
    ThinkingDelta,
    ToolCallDelta,
    Usage,
    UsageReport,
)


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
            self._stop_reason = wire.native_stop_reason(event.reason, event.native)
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
        return sse(wire.error_body(err), event="error")

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
