"""Bedrock ConverseStream, client side: eventstream frames -> canonical events."""

from __future__ import annotations

import uuid
from typing import Any

import msgspec

from junction.codecs._shared.blocks import BlockState
from junction.codecs.base import Target
from junction.codecs.bedrock_converse import eventstream as es
from junction.codecs.bedrock_converse import wire
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
        self._blocks: dict[int, BlockState] = {}
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
        status = wire.STREAM_EXCEPTIONS.get(name, 500)
        code = name[:1].upper() + name[1:] if name else None
        return exception_error(self._provider, code, detail, status)

    def _message_start(self, event: wire.Event, out: list[StreamEvent]) -> None:
        out.append(StreamStart(id=new_id(), model=self._model, provider=self._provider))

    def _block_start(self, event: wire.Event, out: list[StreamEvent]) -> None:
        start = event.start or {}
        use = start.get("toolUse")
        if isinstance(use, dict) and use.get("type") in (None, "tool_use"):
            block = BlockState("tool", self._calls)
            self._calls += 1
            out.append(
                ToolCallDelta(
                    call_index=block.call_index, id=use.get("toolUseId"), name=use.get("name")
                )
            )
        else:
            block = BlockState("skip")
        self._blocks[event.content_block_index] = block

    def _block_delta(self, event: wire.Event, out: list[StreamEvent]) -> None:
        block = self._blocks.get(event.content_block_index)
        if block is None:
            block = self._blocks[event.content_block_index] = BlockState("content")
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

    def _block_stop(self, event: wire.Event, out: list[StreamEvent]) -> None:
        block = self._blocks.get(event.content_block_index)
        if block is not None and block.kind == "tool" and not block.has_args:
            out.append(ToolCallDelta(call_index=block.call_index, arguments="{}"))

    def _message_stop(self, event: wire.Event, out: list[StreamEvent]) -> None:
        native = event.stop_reason or "end_turn"
        out.append(Finish(reason=wire.finish_reason(native) or "stop", native=native))
        self._stopped = True

    def _metadata(self, event: wire.Event, out: list[StreamEvent]) -> None:
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


def new_id() -> str:
    """Converse responses carry no id; junction makes one."""
    return f"bedrock-{uuid.uuid4().hex}"


def usage_from_wire(u: wire.Usage) -> Usage:
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


def exception_error(
    provider: str,
    code: str | None,
    detail: str,
    status: int,
    retry_after: float | None = None,
) -> UpstreamError:
    """The gateway error for a Bedrock exception (by name, else by HTTP status)."""
    effective = wire.ERROR_STATUS.get(code or "", status)
    if effective == 424:
        effective = 502
    out = upstream_error(provider, effective, detail, code=code, retry_after=retry_after)
    lowered = detail.lower()
    if effective == 400 and ("too long" in lowered or "context length" in lowered):
        out.kind = "context_length_exceeded"
    return out
