"""OpenAI Responses, client side: the typed SSE event stream -> canonical
events, and the reading of items, usage and failures that response bodies
share with it."""

from __future__ import annotations

from collections.abc import Callable

import msgspec

from junction.codecs._shared.media import new_tool_call_id
from junction.codecs._shared.openai_errors import invalid_response
from junction.codecs.base import Target
from junction.codecs.openai_responses import wire
from junction.codecs.openai_responses.wire import INCOMPLETE_REASONS, STREAM_ERROR_STATUS
from junction.codecs.sse import SSEEvent, SSEParser
from junction.types import (
    Finish,
    FinishReason,
    Message,
    Part,
    StreamEvent,
    StreamStart,
    TextDelta,
    TextPart,
    ThinkingDelta,
    ThinkingPart,
    ToolCallDelta,
    ToolCallPart,
    UpstreamError,
    Usage,
    UsageReport,
    upstream_error,
)

RESPONSE_DECODER = msgspec.json.Decoder(wire.ReceivedResponse)


_EVENT_DECODER = msgspec.json.Decoder(wire.ReceivedEvent)


def _is_json(data: str) -> bool:
    try:
        msgspec.json.decode(data)
    except msgspec.DecodeError:
        return False
    return True


def usage(u: wire.ReceivedUsage) -> Usage:
    inp = u.input_tokens_details or wire.ReceivedInputDetails()
    out = u.output_tokens_details or wire.ReceivedOutputDetails()
    return Usage(
        prompt_tokens=u.input_tokens or 0,
        completion_tokens=u.output_tokens or 0,
        cached_tokens=inp.cached_tokens or 0,
        cache_write_tokens=inp.cache_write_tokens or 0,
        reasoning_tokens=out.reasoning_tokens or 0,
        cost=u.cost,
    )


def failure(
    err: wire.ReceivedError | None, target: Target, default_status: int = 500
) -> UpstreamError:
    err = err or wire.ReceivedError()
    code = err.code
    status = STREAM_ERROR_STATUS.get(code or "", default_status)
    out = upstream_error(
        target.provider, status, err.message or "the response failed", param=err.param, code=code
    )
    if code == "context_length_exceeded":
        out.kind = "context_length_exceeded"
    return out


def finish_of(incoming: wire.ReceivedResponse, has_calls: bool) -> tuple[FinishReason, str]:
    """The canonical finish reason and the native value kept beside it."""
    if incoming.status == "incomplete":
        reason = (incoming.incomplete_details.reason if incoming.incomplete_details else None) or ""
        return INCOMPLETE_REASONS.get(reason, "length"), reason or "incomplete"
    if incoming.status == "failed":
        return "error", "failed"
    return ("tool_calls" if has_calls else "stop"), incoming.status or "completed"


def _reasoning_parts(item: wire.ReceivedItem, provider: str) -> list[Part]:
    texts = [s.text or "" for s in item.summary or ()]
    if not texts:
        texts = [c.text or "" for c in item.content or () if c.type == "reasoning_text"]
    if not texts and not item.encrypted_content:
        return []
    parts = [ThinkingPart(text=t, provider=provider) for t in texts] or [
        ThinkingPart(provider=provider)
    ]
    parts[-1].signature = item.encrypted_content
    return list(parts)


def decode_message(items: list[wire.ReceivedItem], provider: str) -> Message:
    message = Message(role="assistant")
    for item in items:
        if item.type == "reasoning":
            message.content.extend(_reasoning_parts(item, provider))
        elif item.type == "message":
            for c in item.content or ():
                if c.type == "output_text":
                    message.content.append(TextPart(text=c.text or ""))
                elif c.type == "refusal":
                    message.refusal = (message.refusal or "") + (c.refusal or "")
        elif item.type == "function_call":
            message.content.append(
                ToolCallPart(
                    id=item.call_id or new_tool_call_id(),
                    name=item.name or "",
                    arguments=item.arguments or "{}",
                )
            )
    return message


class ResponsesStreamDecoder:
    """Typed Responses SSE events -> canonical events, incrementally.

    Function calls are keyed by ``output_index`` and numbered in order of
    appearance (``ToolCallDelta.call_index``). Reasoning summary parts after
    the first are separated by a blank line; a reasoning item's
    ``encrypted_content`` (on ``output_item.done``) follows as a
    signature-only :class:`ThinkingDelta`. The terminal event gives the
    :class:`Finish` and the :class:`UsageReport`.
    """

    def __init__(self, target: Target) -> None:
        self._target = target
        self._sse = SSEParser(target.stream_limits)
        self._started = False
        self._done = False
        self._calls: dict[int, int] = {}
        """output_index -> call_index."""
        self._args: dict[int, bool] = {}
        """output_index -> whether argument text went out for that call."""
        self._summaries: set[tuple[int, int]] = set()
        self._thinking: set[int] = set()

    def feed(self, data: bytes) -> list[StreamEvent]:
        out: list[StreamEvent] = []
        for event in self._sse.feed(data):
            self._event(event, out)
        return out

    def close(self) -> list[StreamEvent]:
        out: list[StreamEvent] = []
        for event in self._sse.close():
            if self._done or _is_json(event.data):
                self._event(event, out)
            # else: the half-written last frame of a cut stream
        if not self._done:
            raise UpstreamError(
                "provider_unavailable",
                f"{self._target.provider} ended the stream before it was complete "
                "(no response.completed, response.incomplete or response.failed event)",
                provider=self._target.provider,
                status=502,
                retryable=False,
            )
        return out

    def _event(self, sse: SSEEvent, out: list[StreamEvent]) -> None:
        if self._done or not sse.data or sse.data == "[DONE]":
            return
        try:
            event = _EVENT_DECODER.decode(sse.data)
        except msgspec.DecodeError as exc:
            raise invalid_response(self._target, f"bad stream event ({exc})") from None
        kind = event.type or sse.event
        handler = _HANDLERS.get(kind)
        if handler is not None:
            handler(self, event, out)

    def _start(self, event: wire.ReceivedEvent, out: list[StreamEvent]) -> None:
        if self._started:
            return
        self._started = True
        r = event.response or wire.ReceivedResponse()
        out.append(
            StreamStart(
                id=r.id, model=r.model, created=int(r.created_at), provider=self._target.provider
            )
        )

    def _item_added(self, event: wire.ReceivedEvent, out: list[StreamEvent]) -> None:
        item = event.item
        if item is None or item.type != "function_call":
            return
        self._open_call(event.output_index, item, out)

    def _open_call(self, index: int, item: wire.ReceivedItem, out: list[StreamEvent]) -> None:
        call = len(self._calls)
        self._calls[index] = call
        args = item.arguments or ""
        self._args[index] = bool(args)
        out.append(
            ToolCallDelta(
                call_index=call,
                id=item.call_id or new_tool_call_id(),
                name=item.name or "",
                arguments=args,
            )
        )

    def _text(self, event: wire.ReceivedEvent, out: list[StreamEvent]) -> None:
        if event.delta:
            out.append(TextDelta(text=event.delta))

    def _arguments(self, event: wire.ReceivedEvent, out: list[StreamEvent]) -> None:
        call = self._calls.get(event.output_index)
        if call is None or not event.delta:
            return
        self._args[event.output_index] = True
        out.append(ToolCallDelta(call_index=call, arguments=event.delta))

    def _arguments_done(self, event: wire.ReceivedEvent, out: list[StreamEvent]) -> None:
        call = self._calls.get(event.output_index)
        if call is not None and not self._args.get(event.output_index) and event.arguments:
            self._args[event.output_index] = True
            out.append(ToolCallDelta(call_index=call, arguments=event.arguments))

    def _summary(self, event: wire.ReceivedEvent, out: list[StreamEvent]) -> None:
        if not event.delta:
            return
        key = (event.output_index, event.summary_index)
        text = event.delta
        if key not in self._summaries:
            self._summaries.add(key)
            if event.output_index in self._thinking:
                text = "\n\n" + text
        self._thinking.add(event.output_index)
        out.append(ThinkingDelta(text=text))

    def _reasoning_text(self, event: wire.ReceivedEvent, out: list[StreamEvent]) -> None:
        if event.delta:
            self._thinking.add(event.output_index)
            out.append(ThinkingDelta(text=event.delta))

    def _item_done(self, event: wire.ReceivedEvent, out: list[StreamEvent]) -> None:
        item = event.item
        if item is None:
            return
        if item.type == "reasoning" and item.encrypted_content:
            out.append(ThinkingDelta(signature=item.encrypted_content))
        elif item.type == "function_call" and event.output_index not in self._calls:
            self._open_call(event.output_index, item, out)

    def _terminal(self, event: wire.ReceivedEvent, out: list[StreamEvent]) -> None:
        self._start(event, out)
        incoming = event.response or wire.ReceivedResponse(status="completed")
        if event.type == "response.failed" or incoming.status == "failed":
            self._done = True
            raise failure(incoming.error, self._target)
        self._done = True
        reason, native = finish_of(incoming, bool(self._calls))
        out.append(Finish(reason=reason, native=native))
        if incoming.usage is not None:
            out.append(UsageReport(usage=usage(incoming.usage)))

    def _error(self, event: wire.ReceivedEvent, out: list[StreamEvent]) -> None:
        self._done = True
        err = event.error or wire.ReceivedError(
            message=event.message, code=event.code, param=event.param
        )
        raise failure(err, self._target)


_Handler = Callable[[ResponsesStreamDecoder, wire.ReceivedEvent, list[StreamEvent]], None]


_HANDLERS: dict[str, _Handler] = {
    "response.created": ResponsesStreamDecoder._start,
    "response.in_progress": ResponsesStreamDecoder._start,
    "response.queued": ResponsesStreamDecoder._start,
    "response.output_item.added": ResponsesStreamDecoder._item_added,
    "response.output_item.done": ResponsesStreamDecoder._item_done,
    "response.output_text.delta": ResponsesStreamDecoder._text,
    "response.refusal.delta": ResponsesStreamDecoder._text,
    "response.function_call_arguments.delta": ResponsesStreamDecoder._arguments,
    "response.function_call_arguments.done": ResponsesStreamDecoder._arguments_done,
    "response.reasoning_summary_text.delta": ResponsesStreamDecoder._summary,
    "response.reasoning_text.delta": ResponsesStreamDecoder._reasoning_text,
    "response.completed": ResponsesStreamDecoder._terminal,
    "response.incomplete": ResponsesStreamDecoder._terminal,
    "response.failed": ResponsesStreamDecoder._terminal,
    "error": ResponsesStreamDecoder._error,
}
