"""The relay's writes: the first event of a stream goes out alone, the rest
of an upstream read together (server/relay.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator

from junction.codecs.openai_chat import SERVER
from junction.redact import Redactor
from junction.server.relay import relay
from junction.types import ChatRequest, Message
from junction.types.stream import StreamEvent, StreamStart, TextDelta


async def _batches(*batches: list[StreamEvent]) -> AsyncIterator[list[StreamEvent]]:
    for batch in batches:
        yield batch


async def test_the_first_event_is_written_before_the_rest_of_its_read() -> None:
    request = ChatRequest(model="m", messages=[Message(role="user", content="hi")], stream=True)
    writer = SERVER.stream_encoder(request)
    first: list[StreamEvent] = [
        StreamStart(id="gen-1", model="m"),
        TextDelta(text="one"),
        TextDelta(text="two"),
    ]
    later: list[StreamEvent] = [TextDelta(text="three"), TextDelta(text="four")]
    frames = [
        f
        async for f in relay(
            first, _batches(later), writer, finish_after_error=False, redactor=Redactor([])
        )
    ]
    reference = SERVER.stream_encoder(request)
    expected_first = reference.encode(first[0])
    assert frames[0] == expected_first
    assert frames[1] == reference.encode(first[1]) + reference.encode(first[2])
    assert frames[2] == reference.encode(later[0]) + reference.encode(later[1])
    assert frames[-1] == reference.finish()
    assert len(frames) == 4
