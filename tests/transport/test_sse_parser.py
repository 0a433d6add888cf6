"""The SSE parser: the same events whatever the read boundaries, linear in
its input, and bounded by StreamLimits."""

from __future__ import annotations

import time

import pytest

from junction.codecs.bedrock_converse.eventstream import FrameReader, event
from junction.codecs.sse import SSEEvent, SSEParser, StreamLimitError, StreamLimits

STREAM = (
    b": keep-alive\r\n"
    b'event: first\r\ndata: {"a": 1}\r\n\r\n'
    b"data: line one\ndata: line two\n\n"
    b"id: 7\rdata: after a lone CR\r\r"
    b"data: last, no blank line"
)
EXPECTED = [
    ("first", '{"a": 1}', None),
    ("message", "line one\nline two", None),
    ("message", "after a lone CR", "7"),
    ("message", "last, no blank line", "7"),
]


def run(pieces: list[bytes], parser: SSEParser | None = None) -> list[tuple[str, str, str | None]]:
    parser = parser or SSEParser()
    events: list[SSEEvent] = []
    for piece in pieces:
        events += parser.feed(piece)
    events += parser.close()
    return [(e.event, e.data, e.id) for e in events]


def test_whole_stream() -> None:
    assert run([STREAM]) == EXPECTED


@pytest.mark.parametrize("cut", range(1, len(STREAM)))
def test_any_split_point_gives_the_same_events(cut: int) -> None:
    assert run([STREAM[:cut], STREAM[cut:]]) == EXPECTED


def test_one_byte_at_a_time() -> None:
    assert run([STREAM[i : i + 1] for i in range(len(STREAM))]) == EXPECTED


def feed_forever(parser: SSEParser, piece: bytes, bound: int) -> None:
    """Feed ``piece`` 100 times, checking the parser never holds more than ``bound``."""
    for _ in range(100):
        parser.feed(piece)
        assert parser.pending <= bound


def test_a_line_without_end_is_refused_past_the_limit_holding_no_more() -> None:
    parser = SSEParser(StreamLimits(max_line_bytes=4096, max_event_bytes=1 << 20))
    parser.feed(b"data: ")
    with pytest.raises(StreamLimitError, match=r"passed 4096 bytes .*limits\.max_line_bytes"):
        feed_forever(parser, b"x" * 100, 4096 + 100)
    assert parser.pending <= 4096 + 100


def test_a_long_line_inside_one_read_is_refused() -> None:
    parser = SSEParser(StreamLimits(max_line_bytes=1024, max_event_bytes=1 << 20))
    with pytest.raises(StreamLimitError, match=r"limits\.max_line_bytes"):
        parser.feed(b"data: " + b"x" * 2000 + b"\n\n")


def test_an_event_of_many_lines_is_refused_past_the_event_limit() -> None:
    parser = SSEParser(StreamLimits(max_line_bytes=1024, max_event_bytes=8192))
    with pytest.raises(StreamLimitError, match=r"passed 8192 bytes .*limits\.max_event_bytes"):
        feed_forever(parser, b"data: " + b"y" * 500 + b"\n", 8192 + 600)


def test_events_under_the_limits_pass_and_release_what_they_held() -> None:
    parser = SSEParser(StreamLimits(max_line_bytes=1024, max_event_bytes=2048))
    for _ in range(50):  # 50 events of 1.5 KiB each: 75 KiB in all
        (got,) = parser.feed(b"data: " + b"z" * 700 + b"\ndata: " + b"z" * 700 + b"\n\n")
        assert len(got.data) == 1401
        assert parser.pending == 0


def test_an_endless_line_costs_linear_time() -> None:
    # 16 MiB in 1 KiB reads. Re-concatenating the buffer on each read (the
    # old parser) copies ~128 GiB here; a linear parser takes milliseconds.
    parser = SSEParser(StreamLimits(max_line_bytes=32 << 20, max_event_bytes=32 << 20))
    piece = b"x" * 1024
    started = time.process_time()
    parser.feed(b"data: ")
    for _ in range(16 * 1024):
        parser.feed(piece)
    (got,) = parser.feed(b"\n\n")
    assert len(got.data) == 16 << 20
    assert time.process_time() - started < 3.0


def test_an_event_stream_frame_is_refused_past_the_event_limit() -> None:
    reader = FrameReader(max_frame=4096)
    frame = event("contentBlockDelta", b'{"x": "' + b"a" * 10_000 + b'"}')
    pieces = [frame[i : i + 1000] for i in range(0, len(frame), 1000)]
    with pytest.raises(StreamLimitError, match=r"limits\.max_event_bytes"):
        [m for piece in pieces for m in reader.feed(piece)]
    assert reader.pending <= 4096 + 1000


def test_event_stream_frames_under_the_limit_pass() -> None:
    reader = FrameReader(max_frame=4096)
    frame = event("contentBlockDelta", b'{"x": 1}')
    got = [m for _ in range(100) for m in reader.feed(frame)]
    assert len(got) == 100
    assert reader.pending == 0


def test_an_event_stream_frame_is_refused_as_soon_as_its_length_is_known() -> None:
    reader = FrameReader(max_frame=4096)
    frame = event("contentBlockDelta", b"a" * 10_000)
    with pytest.raises(StreamLimitError, match=r"of 10\d\d\d bytes passed 4096"):
        list(reader.feed(frame[:4]))


def test_many_small_frames_in_one_read_are_not_one_big_frame() -> None:
    reader = FrameReader(max_frame=4096)
    frame = event("contentBlockDelta", b'{"delta": {"text": "hi"}}')
    messages = list(reader.feed(frame * 1000))  # far more than 4096 bytes in one read
    assert len(messages) == 1000
    assert messages[-1].payload == b'{"delta": {"text": "hi"}}'
    assert reader.pending == 0


def test_a_frame_split_anywhere_reads_the_same() -> None:
    frames = event("a", b'{"n": 1}') + event("b", b'{"n": 2}')
    for cut in range(1, len(frames)):
        reader = FrameReader()
        got = list(reader.feed(frames[:cut])) + list(reader.feed(frames[cut:]))
        assert [m.header(":event-type") for m in got] == ["a", "b"]


def test_a_large_frame_in_small_reads_costs_linear_time() -> None:
    # 16 MiB in 1 KiB reads: botocore fed every read copies its buffer each
    # time (~128 GiB here); holding the pieces until the frame is whole does not.
    frame = event("contentBlockDelta", b"a" * (16 << 20))
    reader = FrameReader(max_frame=32 << 20)
    started = time.process_time()
    got = [m for i in range(0, len(frame), 1024) for m in reader.feed(frame[i : i + 1024])]
    assert len(got) == 1
    assert len(got[0].payload) == 16 << 20
    assert time.process_time() - started < 3.0


# What providers send: LF line ends, one ``data:`` line per event, whole
# events per read. The parser reads such reads on a shorter path; these
# check that path gives what the line rules give.
PLAIN = b'data: {"n": 1}\n\ndata: {"n": 2}\n\ndata: [DONE]\n\n'
PLAIN_EXPECTED = [
    ("message", '{"n": 1}', None),
    ("message", '{"n": 2}', None),
    ("message", "[DONE]", None),
]


@pytest.mark.parametrize("cut", range(1, len(PLAIN)))
def test_plain_events_read_the_same_split_anywhere(cut: int) -> None:
    assert run([PLAIN[:cut], PLAIN[cut:]]) == PLAIN_EXPECTED


def test_an_event_name_read_before_its_data_names_the_event() -> None:
    assert run([b"event: delta\n", b"data: x\n\n", b"data: y\n\n"]) == [
        ("delta", "x", None),
        ("message", "y", None),
    ]


def test_an_id_from_an_earlier_read_stays_on_later_events() -> None:
    assert run([b"id: 9\n\n", b"data: x\n\n"]) == [("message", "x", "9")]


@pytest.mark.parametrize(
    ("read", "expected"),
    [
        (b": ping\n\ndata: x\n\n", [("message", "x", None)]),
        (b"data:x\n\n", [("message", "x", None)]),
        (b"data: a\ndata: b\n\n", [("message", "a\nb", None)]),
        (b"data: a\n\n\n\ndata: b\n\n", [("message", "a", None), ("message", "b", None)]),
        (b"data: a\r\n\r\n", [("message", "a", None)]),
        (b"event: e\ndata: a\n\ndata: b\n\n", [("e", "a", None), ("message", "b", None)]),
        (b"data: \xff\n\n", [("message", "\ufffd", None)]),
    ],
)
def test_reads_off_the_plain_shape_follow_the_line_rules(
    read: bytes, expected: list[tuple[str, str, str | None]]
) -> None:
    assert run([read]) == expected


def test_a_whole_plain_event_past_the_line_limit_is_refused() -> None:
    parser = SSEParser(StreamLimits(max_line_bytes=64, max_event_bytes=1 << 20))
    with pytest.raises(StreamLimitError, match="max_line_bytes"):
        parser.feed(b"data: " + b"x" * 100 + b"\n\n")


def test_a_whole_plain_event_past_the_event_limit_is_refused() -> None:
    parser = SSEParser(StreamLimits(max_line_bytes=1 << 20, max_event_bytes=64))
    with pytest.raises(StreamLimitError, match="max_event_bytes"):
        parser.feed(b"data: " + b"x" * 100 + b"\n\n")
