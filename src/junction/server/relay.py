"""Streaming an answer: the first event decides the status, then one write
per upstream read. Shared by every door that streams."""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Sequence

from junction.codecs.base import StreamEncoder
from junction.redact import Redactor
from junction.server.asgi import StreamingResponse
from junction.server.errors import client_error
from junction.types import GatewayError, StreamEvent

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
    frames = Frames(relay(first, events, writer, finish_after_error, redactor), events)
    return StreamingResponse(frames, headers=[*SSE_HEADERS, *headers] if headers else SSE_HEADERS)


class Frames:
    """The frames of a stream, closable before their first write.

    Closing an async generator that never started does not run its
    ``finally``; a client that goes away before the response's first write
    would leave the event stream open (the upstream call, the key's
    reservation, the in-flight count) until garbage collection. This closes
    the events whatever happened."""

    __slots__ = ("_events", "_frames")

    def __init__(self, frames: AsyncGenerator[bytes, None], events: AsyncIterator[object]) -> None:
        self._frames = frames
        self._events = events

    def __aiter__(self) -> Frames:
        return self

    def __anext__(self) -> Awaitable[bytes]:
        return self._frames.__anext__()

    async def aclose(self) -> None:
        try:
            await self._frames.aclose()
        finally:
            await self._events.aclose()  # type: ignore[attr-defined]


async def relay(
    first: list[StreamEvent],
    batches: AsyncIterator[list[StreamEvent]],
    writer: StreamEncoder,
    finish_after_error: bool,
    redactor: Redactor,
) -> AsyncGenerator[bytes, None]:
    """One write per upstream read: the frames of a batch go out together,
    except the first event, which goes out alone before the rest of its
    batch is encoded (the time to the first token is what a client feels)."""
    encode = writer.encode
    try:
        yield encode(first[0])
        if len(first) > 1:
            rest = b"".join([encode(e) for e in first[1:]])
            if rest:
                yield rest
        async for batch in batches:
            frames = b"".join([encode(e) for e in batch])
            if frames:
                yield frames
    except Exception as exc:
        yield writer.error(client_error(exc, redactor))
        if not finish_after_error:
            return
    finally:
        # Closing the event iterator closes the upstream connection: a
        # client that goes away cancels the provider call.
        await batches.aclose()  # type: ignore[attr-defined]
    yield writer.finish()
