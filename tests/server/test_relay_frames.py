"""The relay's writes: the first frame of a stream goes out alone, the rest
of an upstream read together, and the closing frame with the end of the
body (server/relay.py), down to the socket writes uvicorn makes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from junction.codecs.openai_chat import SERVER
from junction.redact import Redactor
from junction.server.relay import Frames, stream_response
from junction.types import ChatRequest, FinalBatch, Message, UpstreamError
from junction.types.stream import Finish, StreamEvent, StreamStart, TextDelta

REQUEST = ChatRequest(model="m", messages=[Message(role="user", content="hi")], stream=True)
FIRST: list[StreamEvent] = [
    StreamStart(id="gen-1", model="m", created=1),
    TextDelta(text="one"),
    TextDelta(text="two"),
]
LATER: list[StreamEvent] = [TextDelta(text="three"), TextDelta(text="four")]


async def _batches(
    *batches: list[StreamEvent], fail: bool = False
) -> AsyncIterator[list[StreamEvent]]:
    for batch in batches:
        yield batch
    if fail:
        raise UpstreamError("server", "the provider went away", provider="p")


async def _frames(frames: Frames) -> list[bytes]:
    return [f async for f in frames]


async def test_the_first_text_is_written_before_the_rest_of_its_read() -> None:
    writer = SERVER.stream_encoder(REQUEST)
    frames = Frames(FIRST, _batches(LATER), writer, finish_after_error=False, redactor=Redactor([]))
    written = await _frames(frames)
    reference = SERVER.stream_encoder(REQUEST)
    assert reference.encode(FIRST[0]) == b""  # the start writes nothing of its own
    assert written == [
        reference.encode(FIRST[1]),
        reference.encode(FIRST[2]),
        reference.encode(LATER[0]) + reference.encode(LATER[1]),
    ]
    assert frames.tail() == reference.finish()
    assert frames.tail().endswith(b"data: [DONE]\n\n")


async def test_a_first_read_with_nothing_to_write_still_lets_the_head_out() -> None:
    writer = SERVER.stream_encoder(REQUEST)
    first: list[StreamEvent] = [StreamStart(id="gen-1", model="m"), TextDelta(text="")]
    frames = Frames(first, _batches(LATER), writer, finish_after_error=False, redactor=Redactor([]))
    written = await _frames(frames)
    assert written[0] == b""
    assert b'"content":"three"' in written[1]


@pytest.mark.parametrize("finish_after_error", [True, False])
async def test_an_error_mid_stream_is_a_frame_and_the_tail_follows_the_door(
    finish_after_error: bool,
) -> None:
    writer = SERVER.stream_encoder(REQUEST)
    frames = Frames(
        FIRST, _batches(LATER, fail=True), writer, finish_after_error, redactor=Redactor([])
    )
    written = await _frames(frames)
    assert b'"finish_reason":"error"' in written[-1]
    assert (frames.tail() == b"data: [DONE]\n\n") is finish_after_error
    assert (frames.tail() == b"") is not finish_after_error


async def test_the_response_sends_text_first_and_the_tail_with_the_end_of_the_body() -> None:
    """uvicorn writes an ASGI body message as one socket write, the end of a
    chunked body included when ``more_body`` is false; junction's server
    writes the head with the first body message (server/protocol.py). So
    the messages say the writes: the head, the first text, the rest of the
    read, the next read, and ``[DONE]`` with the end of the body."""

    async def batches() -> AsyncIterator[list[StreamEvent]]:
        yield FIRST
        yield LATER
        yield [Finish(reason="stop")]

    response = await stream_response(batches(), SERVER.stream_encoder(REQUEST), False, Redactor([]))
    sent: list[dict[str, object]] = []

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    async def receive() -> dict[str, object]:
        await asyncio.sleep(3600)
        return {}

    await response({"type": "http"}, receive, send)  # type: ignore[arg-type]
    assert [m["type"] for m in sent] == ["http.response.start"] + ["http.response.body"] * 5
    bodies = [m["body"] for m in sent[1:]]
    assert b'"content":"one"' in bodies[0]
    assert b'"content":"two"' not in bodies[0]
    assert b'"content":"two"' in bodies[1]
    assert b'"content":"three"' in bodies[2]
    assert b'"content":"four"' in bodies[2]
    assert b'"finish_reason":"stop"' in bodies[3]
    assert bodies[4] == b"data: [DONE]\n\n"
    assert [m.get("more_body", False) for m in sent[1:]] == [True, True, True, True, False]


async def _respond(response: object, sent: list[dict[str, object]], fail_on_last: bool) -> None:
    """Run an ASGI response, recording what it sends in ``sent`` (and, with
    ``fail_on_last``, a client gone while the end of the body is written)."""

    async def send(message: dict[str, object]) -> None:
        sent.append(message)
        if (
            fail_on_last
            and message["type"] == "http.response.body"
            and not message.get("more_body", False)
        ):
            raise OSError("the client went away")

    async def receive() -> dict[str, object]:
        await asyncio.sleep(3600)
        return {}

    await response({"type": "http"}, receive, send)  # type: ignore[operator]


@pytest.mark.parametrize("fail_on_last", [False, True])
async def test_the_end_of_the_body_goes_out_before_the_bookkeeping_after_a_final_batch(
    fail_on_last: bool,
) -> None:
    """The producer's code after its FinalBatch (the record, the log) runs
    once the end of the body is sent, and runs to its end (not closed) even
    when the client left during that last write."""
    sent_before_bookkeeping: list[int] = []
    ran: list[str] = []
    sent: list[dict[str, object]] = []

    async def batches() -> AsyncIterator[list[StreamEvent]]:
        yield FIRST
        try:
            yield FinalBatch([*LATER, Finish(reason="stop")])
            sent_before_bookkeeping.append(len(sent))
            ran.append("bookkeeping")
        except GeneratorExit:
            ran.append("closed")
            raise

    response = await stream_response(batches(), SERVER.stream_encoder(REQUEST), False, Redactor([]))
    await _respond(response, sent, fail_on_last)
    bodies = [m["body"] for m in sent[1:]]
    assert [m.get("more_body", False) for m in sent[1:]] == [True, True, False]
    assert b'"content":"three"' in bodies[2]
    assert b'"finish_reason":"stop"' in bodies[2]
    assert bodies[2].endswith(b"data: [DONE]\n\n")  # the tail, in the same write
    assert ran == ["bookkeeping"]
    assert sent_before_bookkeeping == [4]  # the start and three bodies, the last one included


async def test_a_stream_whose_first_batch_is_final_ends_with_it() -> None:
    order: list[str] = []
    sent: list[dict[str, object]] = []

    async def batches() -> AsyncIterator[list[StreamEvent]]:
        yield FinalBatch([*FIRST, Finish(reason="stop")])
        order.append(f"bookkeeping after {len(sent)} messages")

    response = await stream_response(batches(), SERVER.stream_encoder(REQUEST), False, Redactor([]))
    await _respond(response, sent, fail_on_last=False)
    assert [m.get("more_body", False) for m in sent[1:]] == [True, False]
    assert b'"content":"one"' in sent[1]["body"]  # type: ignore[operator]
    last = sent[2]["body"]
    assert isinstance(last, bytes)
    assert b'"content":"two"' in last
    assert last.endswith(b"data: [DONE]\n\n")
    assert order == ["bookkeeping after 3 messages"]
