"""OpenAI Responses, server side: canonical stream events -> typed SSE events.

Every frame is ``event: <type>`` + ``data: {json}`` whose ``type`` repeats the
event name and whose ``sequence_number`` counts up from 0. The order is
OpenAI's: ``response.created``, ``response.in_progress``, then per output item
``response.output_item.added`` ... ``response.output_item.done``, and one
terminal event carrying the whole Response object with usage:
``response.completed``, ``response.incomplete`` (finish ``length`` /
``content_filter``) or ``response.failed`` (:meth:`StreamEncoder.error`).

- text -> a ``message`` item: ``content_part.added``, ``output_text.delta`` *,
  ``output_text.done``, ``content_part.done``;
- thinking -> a ``reasoning`` item: ``reasoning_summary_part.added``,
  ``reasoning_summary_text.delta`` *, ``..._text.done``, ``..._part.done``; a
  thinking delta with a ``signature`` closes the item with the signature as
  its ``encrypted_content``;
- a tool call -> a ``function_call`` item: ``function_call_arguments.delta`` *,
  ``function_call_arguments.done``. Calls stay open until something else
  (text, thinking, the finish) comes, so interleaved argument deltas of
  parallel calls land in the right item.

Only choice 0 is streamed (the Responses API has no ``n``).
"""

from __future__ import annotations

import time
from typing import Any

from junction.codecs.openai_responses import wire
from junction.codecs.openai_responses.server import (
    echo,
    encode_json,
    error_object,
    response_object,
    status_for,
)
from junction.codecs.openai_responses.wire import Echo, item_id, response_id
from junction.codecs.sse import sse
from junction.types import (
    ChatRequest,
    Finish,
    FinishReason,
    GatewayError,
    StreamEvent,
    StreamStart,
    TextDelta,
    ThinkingDelta,
    ToolCallDelta,
    Usage,
    UsageReport,
)


class _Open:
    """An output item being streamed."""

    __slots__ = ("args", "call", "index", "item", "texts")

    def __init__(
        self, index: int, item: wire.OutputMessage | wire.OutputFunctionCall | wire.OutputReasoning
    ) -> None:
        self.index = index
        self.item = item
        self.texts: list[str] = []
        self.args: list[str] = []
        self.call = -1


class StreamEncoder:
    """Canonical stream events as Responses SSE events (see the module docstring)."""

    def __init__(
        self, request: ChatRequest | None = None, previous_response_id: str | None = None
    ) -> None:
        self._echo: Echo = echo(request, previous_response_id)
        self.final: wire.Response | None = None
        """The terminal event's Response object, once the stream has ended
        (what the stored Responses door keeps)."""
        self._id = item_id("resp")
        self._model = request.model if request is not None else ""
        self._created = 0
        self._seq = 0
        self._started = False
        self._ended = False
        self._output: list[Any] = []
        self._text: _Open | None = None
        self._thinking: _Open | None = None
        self._calls: dict[int, _Open] = {}
        self._finish: FinishReason | None = None
        self._usage: Usage | None = None
        self._service_tier: str | None = None

    # --- framing ---

    def _frame(self, event: dict[str, Any]) -> bytes:
        event["sequence_number"] = self._seq
        self._seq += 1
        return sse(encode_json(event), event["type"])

    def _struct(
        self, event: wire.TextDeltaEvent | wire.ArgumentsDeltaEvent | wire.SummaryDeltaEvent
    ) -> bytes:
        self._seq += 1
        return sse(encode_json(event), event.type)

    def _response(self, status: str, **kw: Any) -> Any:
        return response_object(
            rid=self._id,
            model=self._model,
            created=self._created,
            status=status,
            echoed=self._echo,
            service_tier=self._service_tier,
            **kw,
        )

    def _start(self) -> bytes:
        if self._started:
            return b""
        self._started = True
        self._created = self._created or int(time.time())
        head = self._response("in_progress", output=[])
        return self._frame({"type": "response.created", "response": head}) + self._frame(
            {"type": "response.in_progress", "response": head}
        )

    def _added(
        self, item: wire.OutputMessage | wire.OutputFunctionCall | wire.OutputReasoning
    ) -> tuple[_Open, bytes]:
        opened = _Open(len(self._output), item)
        self._output.append(item)
        frame = self._frame(
            {"type": "response.output_item.added", "output_index": opened.index, "item": item}
        )
        return opened, frame

    def _done(self, opened: _Open) -> bytes:
        return self._frame(
            {"type": "response.output_item.done", "output_index": opened.index, "item": opened.item}
        )

    # --- events ---

    def encode(self, event: StreamEvent) -> bytes:
        if self._ended:
            return b""
        if isinstance(event, StreamStart):
            if not self._started:
                self._id = response_id(event.id) if event.id else self._id
                self._model = event.model or self._model
                self._created = event.created
            return self._start()
        if isinstance(event, UsageReport):
            self._usage = event.usage
            return b""
        if getattr(event, "index", 0) != 0:
            return b""
        out = self._start()
        if isinstance(event, TextDelta):
            return out + self._text_delta(event.text) if event.text else out
        if isinstance(event, ToolCallDelta):
            return out + self._tool_call(event)
        if isinstance(event, ThinkingDelta):
            return out + self._thinking_delta(event)
        if isinstance(event, Finish):
            self._finish = event.reason
            return out + self._close_all()
        return out

    def _text_delta(self, text: str) -> bytes:
        out = b""
        if self._text is None:
            out = self._close_thinking() + self._close_calls()
            msg = wire.OutputMessage(id=item_id("msg"), content=[], status="in_progress")
            self._text, out_added = self._added(msg)
            out += out_added + self._frame(
                {
                    "type": "response.content_part.added",
                    "item_id": msg.id,
                    "output_index": self._text.index,
                    "content_index": 0,
                    "part": wire.OutputText(text=""),
                }
            )
        opened = self._text
        opened.texts.append(text)
        return out + self._struct(
            wire.TextDeltaEvent(
                item_id=opened.item.id,
                output_index=opened.index,
                delta=text,
                sequence_number=self._seq,
            )
        )

    def _close_text(self) -> bytes:
        opened, self._text = self._text, None
        if opened is None:
            return b""
        item = opened.item
        assert isinstance(item, wire.OutputMessage)
        part = wire.OutputText(text="".join(opened.texts))
        item.content = [part]
        item.status = "incomplete" if status_for(self._finish) == "incomplete" else "completed"
        where = {"item_id": item.id, "output_index": opened.index, "content_index": 0}
        return (
            self._frame(
                {"type": "response.output_text.done", **where, "text": part.text, "logprobs": []}
            )
            + self._frame({"type": "response.content_part.done", **where, "part": part})
            + self._done(opened)
        )

    def _thinking_delta(self, event: ThinkingDelta) -> bytes:
        if not event.text and not event.signature:
            return b""
        out = b""
        if self._thinking is None:
            out = self._close_text() + self._close_calls()
            self._thinking, added = self._added(wire.OutputReasoning(id=item_id("rs"), summary=[]))
            out += added
        opened = self._thinking
        rid = opened.item.id
        if event.text:
            if not opened.texts:
                out += self._frame(
                    {
                        "type": "response.reasoning_summary_part.added",
                        "item_id": rid,
                        "output_index": opened.index,
                        "summary_index": 0,
                        "part": wire.OutputSummary(text=""),
                    }
                )
            opened.texts.append(event.text)
            out += self._struct(
                wire.SummaryDeltaEvent(
                    item_id=rid,
                    output_index=opened.index,
                    summary_index=0,
                    delta=event.text,
                    sequence_number=self._seq,
                )
            )
        if event.signature:
            item = opened.item
            assert isinstance(item, wire.OutputReasoning)
            item.encrypted_content = event.signature
            out += self._close_thinking()
        return out

    def _close_thinking(self) -> bytes:
        opened, self._thinking = self._thinking, None
        if opened is None:
            return b""
        item = opened.item
        assert isinstance(item, wire.OutputReasoning)
        out = b""
        if opened.texts:
            summary = wire.OutputSummary(text="".join(opened.texts))
            item.summary = [summary]
            where = {"item_id": item.id, "output_index": opened.index, "summary_index": 0}
            out = self._frame(
                {"type": "response.reasoning_summary_text.done", **where, "text": summary.text}
            ) + self._frame(
                {"type": "response.reasoning_summary_part.done", **where, "part": summary}
            )
        return out + self._done(opened)

    def _tool_call(self, event: ToolCallDelta) -> bytes:
        out = b""
        opened = self._calls.get(event.call_index)
        if opened is None:
            out = self._close_text() + self._close_thinking()
            call = wire.OutputFunctionCall(
                id=item_id("fc"),
                call_id=event.id or item_id("call"),
                name=event.name or "",
                arguments="",
                status="in_progress",
            )
            opened, added = self._added(call)
            self._calls[event.call_index] = opened
            out += added
        if not event.arguments:
            return out
        opened.args.append(event.arguments)
        return out + self._struct(
            wire.ArgumentsDeltaEvent(
                item_id=opened.item.id,
                output_index=opened.index,
                delta=event.arguments,
                sequence_number=self._seq,
            )
        )

    def _close_calls(self) -> bytes:
        out = b""
        for opened in self._calls.values():
            item = opened.item
            assert isinstance(item, wire.OutputFunctionCall)
            item.arguments = "".join(opened.args)
            item.status = "completed"
            out += self._frame(
                {
                    "type": "response.function_call_arguments.done",
                    "item_id": item.id,
                    "output_index": opened.index,
                    "name": item.name,
                    "arguments": item.arguments,
                }
            ) + self._done(opened)
        self._calls = {}
        return out

    def _close_all(self) -> bytes:
        return self._close_text() + self._close_thinking() + self._close_calls()

    # --- the end ---

    def finish(self) -> bytes:
        if self._ended:
            return b""
        out = self._start() + self._close_all()
        self._ended = True
        status = status_for(self._finish)
        if status == "failed":
            err = GatewayError("server", "the model stopped with an error")
            return out + self._failed(err)
        kind = "response.completed" if status == "completed" else "response.incomplete"
        final = self._response(status, output=self._output, usage_=self._usage, finish=self._finish)
        self.final = final
        return out + self._frame({"type": kind, "response": final})

    def _failed(self, err: GatewayError) -> bytes:
        final = self._response(
            "failed", output=self._output, usage_=self._usage, error=error_object(err)
        )
        self.final = final
        return self._frame({"type": "response.failed", "response": final})

    def error(self, err: GatewayError) -> bytes:
        """A ``response.failed`` event: ``response.error`` is ``{code, message}``
        (``code`` from the spec's enum: ``rate_limit_exceeded``, ``invalid_prompt``
        or ``server_error``). Nothing is written after it; :meth:`finish` then
        returns nothing."""
        if self._ended:
            return b""
        out = self._start() + self._close_all()
        self._ended = True
        return out + self._failed(err)
