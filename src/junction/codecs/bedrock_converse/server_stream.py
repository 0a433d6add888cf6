"""Bedrock ConverseStream, server side: canonical events -> eventstream frames."""

from __future__ import annotations

from typing import Any

import msgspec

from junction.codecs.bedrock_converse import eventstream as es
from junction.codecs.bedrock_converse import wire
from junction.codecs.bedrock_converse.server import usage_to_wire
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


def _event(name: str, payload: dict[str, Any]) -> bytes:
    return es.event(name, msgspec.json.encode(payload))


class StreamEncoder:
    """Canonical events -> ConverseStream event-stream frames.

    ``messageStop`` is written at the Finish event and ``metadata`` (usage)
    by :meth:`finish`, since usage follows the Finish. Only choice 0 is
    encoded (Converse has no ``n``)."""

    def __init__(self) -> None:
        self._started = False
        self._index = -1
        self._open: str | None = None
        self._open_call = -1
        self._stopped = False
        self._usage: Usage | None = None

    def encode(self, event: StreamEvent) -> bytes:
        if isinstance(event, StreamStart):
            return self._start()
        if isinstance(event, UsageReport):
            self._usage = event.usage
            return b""
        if event.index != 0:
            return b""
        out = self._start()
        if isinstance(event, TextDelta):
            if event.text:
                out += self._delta("text", {"text": event.text})
        elif isinstance(event, ThinkingDelta):
            out += self._thinking(event)
        elif isinstance(event, ToolCallDelta):
            out += self._tool(event)
        else:
            stop = wire.native_stop_reason(event.reason, event.native)
            if stop == "end_turn" and event.stop_sequence:
                stop = "stop_sequence"
            out += self._stop(stop)
        return out

    def finish(self) -> bytes:
        out = self._start() + self._stop("end_turn")
        payload = {"usage": usage_to_wire(self._usage), "metrics": {"latencyMs": 0}}
        return out + _event("metadata", payload)

    def error(self, err: GatewayError) -> bytes:
        payload = msgspec.json.encode({"message": err.message})
        return es.exception(wire.stream_exception_type(err), payload)

    def _start(self) -> bytes:
        if self._started:
            return b""
        self._started = True
        return _event("messageStart", {"role": "assistant"})

    def _stop(self, reason: str) -> bytes:
        if self._stopped:
            return b""
        self._stopped = True
        return self._close() + _event("messageStop", {"stopReason": reason})

    def _close(self) -> bytes:
        if self._open is None:
            return b""
        self._open = None
        return _event("contentBlockStop", {"contentBlockIndex": self._index})

    def _begin(self, kind: str) -> bytes:
        out = self._close()
        self._index += 1
        self._open = kind
        return out

    def _delta(self, kind: str, delta: dict[str, Any]) -> bytes:
        out = b"" if self._open == kind else self._begin(kind)
        return out + _event("contentBlockDelta", {"contentBlockIndex": self._index, "delta": delta})

    def _thinking(self, event: ThinkingDelta) -> bytes:
        if event.redacted is not None:
            out = self._begin("redacted")
            out += self._delta(
                "redacted", {"reasoningContent": {"redactedContent": event.redacted}}
            )
            return out + self._close()
        out = b""
        if event.text:
            out += self._delta("thinking", {"reasoningContent": {"text": event.text}})
        if event.signature:
            out += self._delta("thinking", {"reasoningContent": {"signature": event.signature}})
            out += self._close()  # a signature ends its reasoning block
        return out

    def _tool(self, event: ToolCallDelta) -> bytes:
        out = b""
        if self._open != "tool" or self._open_call != event.call_index:
            out = self._begin("tool")
            self._open_call = event.call_index
            use = {"toolUseId": event.id or f"tooluse_{event.call_index}", "name": event.name or ""}
            start = {"contentBlockIndex": self._index, "start": {"toolUse": use}}
            out += _event("contentBlockStart", start)
        if event.arguments:
            delta = {"toolUse": {"input": event.arguments}}
            out += _event("contentBlockDelta", {"contentBlockIndex": self._index, "delta": delta})
        return out
