"""ConverseStream: AWS event-stream frames <-> canonical stream events.

Event order (ConverseStreamOutput): ``messageStart`` -> per block
``contentBlockStart`` (tool use only; text and reasoning blocks start with
their first delta) -> ``contentBlockDelta``* -> ``contentBlockStop`` ->
``messageStop{stopReason}`` -> ``metadata{usage, metrics}``. Errors arrive as
``:message-type exception`` frames named by ``:exception-type``.
"""

from __future__ import annotations

from typing import Any

import msgspec

from junction.codecs import bedrock_eventstream as es
from junction.codecs import bedrock_wire as w
from junction.codecs.base import Target
from junction.codecs.bedrock_response import (
    exception_error,
    new_id,
    usage_from_wire,
    usage_to_wire,
)
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


class _Event(msgspec.Struct, rename="camel"):
    content_block_index: int = 0
    start: dict[str, Any] | None = None
    delta: dict[str, Any] | None = None
    stop_reason: str | None = None
    usage: w.WUsage | None = None
    message: str | None = None
    role: str | None = None


_event_decoder = msgspec.json.Decoder(_Event)


class _Block:
    __slots__ = ("call_index", "has_args", "kind")

    def __init__(self, kind: str, call_index: int = -1) -> None:
        self.kind = kind
        self.call_index = call_index
        self.has_args = False


# --- client side: decode ---------------------------------------------------------


class BedrockStreamDecoder:
    """Event-stream bytes -> canonical events.

    ``call_index`` counts client tool uses only; server-tool blocks
    (``type: server_tool_use`` and their ``toolResult`` blocks) are skipped
    with their deltas. The stream is complete after ``messageStop`` and
    ``metadata``; :meth:`close` raises when either is missing."""

    def __init__(self, target: Target) -> None:
        self._provider = target.provider
        self._model = target.model
        self._reader = es.FrameReader(target.stream_limits.max_event_bytes)
        self._blocks: dict[int, _Block] = {}
        self._calls = 0
        self._stopped = False
        self._done = False

    def feed(self, data: bytes) -> list[StreamEvent]:
        out: list[StreamEvent] = []
        try:
            for message in self._reader.feed(data):
                self._handle(message, out)
        except es.FrameError as exc:
            raise self._unreadable(f"a broken event-stream frame ({exc})") from None
        return out

    def close(self) -> list[StreamEvent]:
        if not self._done:
            missing = "metadata" if self._stopped else "messageStop"
            raise UpstreamError(
                "provider_unavailable",
                f"{self._provider} stream ended before {missing} (cut mid-way)",
                provider=self._provider,
                retryable=False,
            )
        return []

    def _unreadable(self, what: str) -> UpstreamError:
        return UpstreamError(
            "provider_unavailable",
            f"{self._provider} sent {what}",
            provider=self._provider,
            status=502,
            retryable=True,
        )

    def _handle(self, message: es.Message, out: list[StreamEvent]) -> None:
        kind = message.header(":message-type")
        if kind == "exception":
            raise self._exception(message)
        if kind == "error":
            code = message.header(":error-code") or "InternalServerException"
            text = message.header(":error-message") or "stream error"
            raise exception_error(self._provider, code, f"{code}: {text}", 500)
        if kind != "event":
            return
        try:
            event = _event_decoder.decode(message.payload)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            raise self._unreadable(f"an unreadable stream event: {exc}") from None
        handler = _HANDLERS.get(message.header(":event-type"))
        if handler is not None:
            handler(self, event, out)

    def _exception(self, message: es.Message) -> UpstreamError:
        name = message.header(":exception-type")
        try:
            body = msgspec.json.decode(message.payload)
        except msgspec.DecodeError:
            body = None
        text = body.get("message") if isinstance(body, dict) else None
        detail = f"{name}: {text or 'stream error'}"
        status = w.STREAM_EXCEPTIONS.get(name, 500)
        code = name[:1].upper() + name[1:] if name else None
        return exception_error(self._provider, code, detail, status)

    def _message_start(self, event: _Event, out: list[StreamEvent]) -> None:
        out.append(StreamStart(id=new_id(), model=self._model, provider=self._provider))

    def _block_start(self, event: _Event, out: list[StreamEvent]) -> None:
        start = event.start or {}
        use = start.get("toolUse")
        if isinstance(use, dict) and use.get("type") in (None, "tool_use"):
            block = _Block("tool", self._calls)
            self._calls += 1
            out.append(
                ToolCallDelta(
                    call_index=block.call_index, id=use.get("toolUseId"), name=use.get("name")
                )
            )
        else:
            block = _Block("skip")
        self._blocks[event.content_block_index] = block

    def _block_delta(self, event: _Event, out: list[StreamEvent]) -> None:
        block = self._blocks.get(event.content_block_index)
        if block is None:
            block = self._blocks[event.content_block_index] = _Block("content")
        if block.kind == "skip":
            return
        delta = event.delta or {}
        text = delta.get("text")
        if isinstance(text, str):
            if text:
                out.append(TextDelta(text=text))
            return
        use = delta.get("toolUse")
        if isinstance(use, dict) and block.kind == "tool":
            piece = use.get("input")
            if isinstance(piece, str) and piece:
                block.has_args = True
                out.append(ToolCallDelta(call_index=block.call_index, arguments=piece))
            return
        reasoning = delta.get("reasoningContent")
        if isinstance(reasoning, dict):
            _reasoning(reasoning, out)

    def _block_stop(self, event: _Event, out: list[StreamEvent]) -> None:
        block = self._blocks.get(event.content_block_index)
        if block is not None and block.kind == "tool" and not block.has_args:
            out.append(ToolCallDelta(call_index=block.call_index, arguments="{}"))

    def _message_stop(self, event: _Event, out: list[StreamEvent]) -> None:
        native = event.stop_reason or "end_turn"
        out.append(Finish(reason=w.finish_reason(native) or "stop", native=native))
        self._stopped = True

    def _metadata(self, event: _Event, out: list[StreamEvent]) -> None:
        if event.usage is not None:
            out.append(UsageReport(usage=usage_from_wire(event.usage)))
        self._done = self._stopped


def _reasoning(delta: dict[str, Any], out: list[StreamEvent]) -> None:
    text, signature = delta.get("text"), delta.get("signature")
    redacted = delta.get("redactedContent")
    if isinstance(redacted, str):
        out.append(ThinkingDelta(redacted=redacted))
    elif (isinstance(text, str) and text) or isinstance(signature, str):
        out.append(
            ThinkingDelta(
                text=text if isinstance(text, str) else "",
                signature=signature if isinstance(signature, str) else None,
            )
        )


_HANDLERS = {
    "messageStart": BedrockStreamDecoder._message_start,
    "contentBlockStart": BedrockStreamDecoder._block_start,
    "contentBlockDelta": BedrockStreamDecoder._block_delta,
    "contentBlockStop": BedrockStreamDecoder._block_stop,
    "messageStop": BedrockStreamDecoder._message_stop,
    "metadata": BedrockStreamDecoder._metadata,
}


# --- server side: encode ---------------------------------------------------------


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
            stop = w.native_stop_reason(event.reason, event.native)
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
        return es.exception(w.stream_exception_type(err), payload)

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
