"""A request's answer as the cache keeps and replays it.

- :class:`Answer` collects what a request was answered with: the response
  of a plain request, or a stream's events as they pass (bounded: past
  ``max_chars`` of content it stops collecting and keeps nothing);
- :func:`replay` turns a cached response back into the events of a stream,
  which any door's stream encoder writes in its own dialect.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from junction.types import (
    ChatResponse,
    Choice,
    Finish,
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
    Usage,
    UsageReport,
)


class _Choice:
    """One choice of a stream, assembled from its deltas."""

    __slots__ = ("calls", "finish", "parts")

    def __init__(self) -> None:
        self.parts: list[Part] = []
        self.calls: dict[int, ToolCallPart] = {}
        self.finish: Finish | None = None

    def text(self, delta: TextDelta) -> None:
        last = self.parts[-1] if self.parts else None
        if isinstance(last, TextPart):
            last.text += delta.text
        elif delta.text:
            self.parts.append(TextPart(delta.text))

    def thinking(self, delta: ThinkingDelta) -> None:
        last = self.parts[-1] if self.parts else None
        if delta.redacted is not None:
            self.parts.append(ThinkingPart(redacted=delta.redacted))
        elif isinstance(last, ThinkingPart) and last.redacted is None and last.signature is None:
            last.text += delta.text
            last.signature = delta.signature
        else:
            self.parts.append(ThinkingPart(text=delta.text, signature=delta.signature))

    def call(self, delta: ToolCallDelta) -> None:
        part = self.calls.get(delta.call_index)
        if part is None:
            part = ToolCallPart(id=delta.id or "", name=delta.name or "", arguments="")
            self.calls[delta.call_index] = part
            self.parts.append(part)
        part.arguments += delta.arguments
        if delta.signature is not None:
            part.signature = delta.signature


class Answer:
    """What a request was answered with, for a stage that keeps it (the cache).

    The gateway sets :attr:`response` for a plain request, and passes a
    stream's events through :meth:`watch`; :meth:`result` is the answer as
    one response, or None when there is nothing whole to keep (a stream cut
    before every choice finished, or one larger than ``max_chars``)."""

    def __init__(self, max_chars: int) -> None:
        self.response: ChatResponse | None = None
        self._max = max_chars
        self._chars = 0
        self._start: StreamStart | None = None
        self._choices: dict[int, _Choice] = {}
        self._usage: Usage | None = None
        self._over = False

    def watch(self, events: AsyncIterator[list[StreamEvent]]) -> AsyncIterator[list[StreamEvent]]:
        """``events`` unchanged, collected as they pass; closing it closes ``events``."""
        return _Watched(events, self)

    def add(self, batch: list[StreamEvent]) -> None:
        if self._over:
            return
        for event in batch:
            if isinstance(event, StreamStart):
                self._start = event
            elif isinstance(event, UsageReport):
                self._usage = event.usage
            else:
                choice = self._choices.get(event.index)
                if choice is None:
                    choice = self._choices[event.index] = _Choice()
                if isinstance(event, TextDelta):
                    self._chars += len(event.text)
                    choice.text(event)
                elif isinstance(event, ThinkingDelta):
                    self._chars += len(event.text) + len(event.redacted or "")
                    choice.thinking(event)
                elif isinstance(event, ToolCallDelta):
                    self._chars += len(event.arguments) + len(event.name or "")
                    choice.call(event)
                else:
                    choice.finish = event
        if self._chars > self._max:
            self._over = True
            self._choices.clear()

    def result(self) -> ChatResponse | None:
        if self.response is not None:
            return self.response
        start = self._start
        if self._over or start is None or not self._choices:
            return None
        choices = []
        for index in sorted(self._choices):
            c = self._choices[index]
            if c.finish is None:
                return None  # cut before this choice finished: nothing whole to keep
            choices.append(
                Choice(
                    index=index,
                    message=Message(role="assistant", content=c.parts),
                    finish_reason=c.finish.reason,
                    native_finish_reason=c.finish.native,
                    stop_sequence=c.finish.stop_sequence,
                )
            )
        return ChatResponse(
            id=start.id,
            model=start.model,
            choices=choices,
            usage=self._usage,
            created=start.created,
            provider=start.provider,
        )


class _Watched:
    """A stream relayed through an :class:`Answer` (an object, not a
    generator: closing it closes the stream even before its first event)."""

    __slots__ = ("_answer", "_events")

    def __init__(self, events: AsyncIterator[list[StreamEvent]], answer: Answer) -> None:
        self._events = events
        self._answer = answer

    def __aiter__(self) -> _Watched:
        return self

    async def __anext__(self) -> list[StreamEvent]:
        batch = await anext(self._events)
        self._answer.add(batch)
        return batch

    async def aclose(self) -> None:
        await self._events.aclose()  # type: ignore[attr-defined]


def replay(response: ChatResponse) -> list[StreamEvent]:
    """The events of a stream that answers with ``response``: the start, the
    usage (doors that announce the prompt's tokens first find it there), each
    choice's content and finish, then the usage again as the total."""
    events: list[StreamEvent] = [
        StreamStart(
            id=response.id,
            model=response.model,
            created=response.created,
            provider=response.provider,
            router=response.router,
        )
    ]
    usage = response.usage
    if usage is not None:
        events.append(UsageReport(usage))
    for choice in response.choices:
        i = choice.index
        calls = 0
        for part in choice.message.content:
            if isinstance(part, TextPart):
                events.append(TextDelta(part.text, index=i))
            elif isinstance(part, ThinkingPart):
                events.append(
                    ThinkingDelta(
                        text=part.text, signature=part.signature, redacted=part.redacted, index=i
                    )
                )
            elif isinstance(part, ToolCallPart):
                events.append(
                    ToolCallDelta(
                        calls,
                        id=part.id,
                        name=part.name,
                        arguments=part.arguments,
                        signature=part.signature,
                        index=i,
                    )
                )
                calls += 1
        reason = choice.finish_reason or "stop"
        events.append(
            Finish(
                reason,
                native=choice.native_finish_reason,
                stop_sequence=choice.stop_sequence,
                index=i,
            )
        )
    if usage is not None:
        events.append(UsageReport(usage))
    return events
