"""Streaming an answer: the first event decides the status, then one write
per upstream read, the last with the end of the body. Shared by every door
that streams."""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Sequence

from junction.codecs.base import StreamEncoder
from junction.redact import Redactor
from junction.server.asgi import StreamingResponse
from junction.server.errors import client_error
from junction.types import FinalBatch, GatewayError, StreamEvent

SSE_HEADERS = (("cache-control", "no-cache"), ("x-accel-buffering", "no"))


async def stream_response(
    events: AsyncIterator[list[StreamEvent]],
    writer: StreamEncoder,
    finish_after_error: bool,
    redactor: Redactor,
    headers: Sequence[tuple[str, str]] = (),
) -> StreamingResponse:
    """The stream as server-sent events. A failure before the first event
    raises (an HTTP error); after it, it is the stream's error frame."""
    try:
        first = await anext(events)
    except StopAsyncIteration:
        raise GatewayError("provider_unavailable", "the provider sent an empty stream") from None
    frames = Frames(first, events, writer, finish_after_error, redactor)
    return StreamingResponse(
        frames,
        headers=[*SSE_HEADERS, *headers] if headers else SSE_HEADERS,
        tail=frames.tail,
        over=frames.over,
    )


class Frames:
    """The frames of a stream: one write per upstream read, the first event
    with text (or anything to write) alone before the rest of its read is
    encoded (the time to the first token is what a client feels), and the
    stream's closing frame kept for :meth:`tail`, which the response writes
    with the end of the body (one write, not two).

    Once a :class:`FinalBatch` is encoded the stream is :meth:`over`: the
    response writes that frame and the tail as the end of the body, then
    runs the frames to their end, which is the gateway's bookkeeping (the
    record, the request log, the counters), so the client does not wait on it.

    Closable before the first write: closing an async generator that never
    started does not run its ``finally``; a client that goes away before the
    response's first write would leave the event stream open (the upstream
    call, the key's reservation, the in-flight count) until garbage
    collection. :meth:`aclose` closes the events whatever happened."""

    __slots__ = ("_events", "_frames", "_over", "_tail")

    def __init__(
        self,
        first: list[StreamEvent],
        events: AsyncIterator[list[StreamEvent]],
        writer: StreamEncoder,
        finish_after_error: bool,
        redactor: Redactor,
    ) -> None:
        self._events = events
        self._tail = b""
        self._over = False
        self._frames = self._relay(first, writer, finish_after_error, redactor)

    def __aiter__(self) -> Frames:
        return self

    def __anext__(self) -> Awaitable[bytes]:
        return self._frames.__anext__()

    def tail(self) -> bytes:
        """The closing frame (``[DONE]`` and the like), once the frames have
        ended or are :meth:`over`; empty after an error that ends the stream
        without it."""
        return self._tail

    def over(self) -> bool:
        """The frame just produced is the stream's last: the provider's stream
        is over, and what the frames still do is bookkeeping."""
        return self._over

    async def aclose(self) -> None:
        try:
            await self._frames.aclose()
        finally:
            await self._events.aclose()  # type: ignore[attr-defined]

    async def _relay(
        self,
        first: list[StreamEvent],
        writer: StreamEncoder,
        finish_after_error: bool,
        redactor: Redactor,
    ) -> AsyncGenerator[bytes, None]:
        encode = writer.encode
        batches = self._events
        try:
            pending = iter(first)
            head = b""
            for event in pending:  # a StreamStart writes nothing: on to the first frame
                if head := encode(event):
                    break
            yield head
            rest = b"".join([encode(e) for e in pending])
            if type(first) is FinalBatch:
                yield self._end(rest, writer)
            elif rest:
                yield rest
            async for batch in batches:
                frames = (
                    encode(batch[0]) if len(batch) == 1 else b"".join([encode(e) for e in batch])
                )
                if type(batch) is FinalBatch:
                    yield self._end(frames, writer)
                elif frames:
                    yield frames
        except Exception as exc:
            if self._over:  # the answer is written: nothing more goes to the client
                raise
            yield writer.error(client_error(exc, redactor))
            if not finish_after_error:
                return
        finally:
            # Closing the event iterator closes the upstream connection: a
            # client that goes away cancels the provider call.
            await batches.aclose()  # type: ignore[attr-defined]
        if not self._over:
            self._tail = writer.finish()

    def _end(self, frames: bytes, writer: StreamEncoder) -> bytes:
        self._over = True
        self._tail = writer.finish()
        return frames
