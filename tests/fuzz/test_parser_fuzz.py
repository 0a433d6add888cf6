"""Fuzz targets for the stream parsers: arbitrary input never raises anything
but the documented error type, never hangs, and does not depend on how the
bytes were split.

- ``codecs.sse.SSEParser`` documents no error: any bytes are events or nothing.
- ``codecs.bedrock_converse.eventstream.FrameReader`` raises only ``FrameError`` (or
  ``StreamLimitError`` for a frame over the size limit).
- every dialect's client stream decoder raises only ``UpstreamError`` (the
  ``StreamDecoder`` contract in ``codecs/base.py``), whatever the provider sends.

Bounded and derandomized for CI (``FUZZ_EXAMPLES``, default 100 per target).
"""

from __future__ import annotations

import itertools
import os
import struct
import zlib
from typing import Any

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fuzz._dialects import DIALECTS, Dialect
from junction.codecs.bedrock_converse import eventstream as bedrock_eventstream
from junction.codecs.sse import SSEParser, StreamLimitError
from junction.types import UpstreamError

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "100"))
bounded = settings(
    max_examples=EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
pytestmark = pytest.mark.timeout(60)  # "never hangs": a stuck parser fails here


def _split(data: bytes, cuts: set[int]) -> list[bytes]:
    bounds = [0, *sorted(c for c in cuts if 0 < c < len(data)), len(data)]
    return [data[a:b] for a, b in itertools.pairwise(bounds)]


cuts = st.sets(st.integers(0, 4096), max_size=16)

# --- SSE -----------------------------------------------------------------------

sse_lines = st.lists(
    st.one_of(
        st.sampled_from(
            [b"", b":keep-alive", b"data", b"data:", b"event: x", b"id: 7", b"retry: 1"]
        ),
        st.builds(lambda v: b"data: " + v, st.binary(max_size=40)),
        st.builds(lambda v: b"event:" + v, st.binary(max_size=12)),
        st.binary(max_size=30),
    ),
    max_size=30,
)
line_ends = st.sampled_from([b"\n", b"\r\n", b"\r"])


@st.composite
def sse_bytes(draw: st.DrawFn) -> bytes:
    """SSE-shaped bytes with arbitrary content and mixed line ends, or pure noise."""
    if draw(st.booleans()):
        return draw(st.binary(max_size=600))
    return b"".join(line + draw(line_ends) for line in draw(sse_lines))


def _events(pieces: list[bytes]) -> list[tuple[str, str, str | None]]:
    parser = SSEParser()
    out = [e for piece in pieces for e in parser.feed(piece)]
    out += parser.close()
    return [(e.event, e.data, e.id) for e in out]


@bounded
@given(data=sse_bytes(), where=cuts)
def test_sse_parser_takes_any_bytes_split_anywhere(data: bytes, where: set[int]) -> None:
    whole = _events([data])
    assert _events(_split(data, where)) == whole
    assert _events([bytes([b]) for b in data]) == whole


# --- AWS event stream ------------------------------------------------------------


def _framed(headers: bytes, payload: bytes) -> bytes:
    """A frame with correct lengths and CRCs around arbitrary header bytes,
    so parsing gets past the checksums into the headers."""
    prelude = struct.pack(">II", 16 + len(headers) + len(payload), len(headers))
    prelude += struct.pack(">I", zlib.crc32(prelude))
    body = prelude + headers + payload
    return body + struct.pack(">I", zlib.crc32(body))


@st.composite
def eventstream_bytes(draw: st.DrawFn) -> bytes:
    valid = st.lists(
        st.builds(bedrock_eventstream.event, st.text(max_size=20), st.binary(max_size=60)),
        min_size=1,
        max_size=4,
    ).map(b"".join)
    kind = draw(st.integers(0, 3))
    if kind == 0:
        return draw(st.binary(max_size=600))
    if kind == 1:  # valid frames with random bytes overwritten or cut
        data = bytearray(draw(valid))
        for _ in range(draw(st.integers(1, 4))):
            if data:
                data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
        return bytes(data[: draw(st.integers(0, len(data)))])
    if kind == 2:  # checksums right, header block arbitrary
        return _framed(draw(st.binary(max_size=80)), draw(st.binary(max_size=80)))
    return draw(valid)


def _read(pieces: list[bytes]) -> list[tuple[dict[str, object], bytes]]:
    reader = bedrock_eventstream.FrameReader()
    return [(m.headers, m.payload) for piece in pieces for m in reader.feed(piece)]


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # libcst, imported to report it
@settings(bounded)
@given(data=eventstream_bytes(), where=cuts)
def test_eventstream_reader_raises_only_frame_errors(data: bytes, where: set[int]) -> None:
    documented = (bedrock_eventstream.FrameError, StreamLimitError)
    try:
        whole = _read([data])
    except documented:
        whole = None
    try:
        split = _read(_split(data, where))
    except documented:
        split = None
    assert split == whole


# --- every dialect's stream decoder ----------------------------------------------

json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-5, 10**6), st.text(max_size=12)),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.sampled_from(_KEYS := [
            "type", "index", "delta", "text", "id", "model", "choices", "content", "usage",
            "candidates", "parts", "finish_reason", "finishReason", "tool_calls", "function",
            "arguments", "name", "message", "content_block", "output_index", "item", "response",
            "error", "stop_reason", "contentBlockIndex", "start", "toolUse", "input",
            "prompt_tokens", "input_tokens", "output_tokens", "inputTokens", "usageMetadata",
        ]), inner, max_size=4),
    ),
    max_leaves=12,
)  # fmt: skip
event_names = st.sampled_from([
    "message", "message_start", "content_block_start", "content_block_delta",
    "content_block_stop", "message_delta", "message_stop", "error", "ping",
    "response.created", "response.output_text.delta", "response.output_item.added",
    "response.function_call_arguments.delta", "response.completed", "response.failed",
    "messageStart", "contentBlockStart", "contentBlockDelta", "contentBlockStop",
    "messageStop", "metadata", "throttlingException",
])  # fmt: skip


@st.composite
def provider_stream(draw: st.DrawFn, dialect: Dialect) -> bytes:
    """What a broken or hostile provider might send in this dialect's framing."""
    payloads = draw(st.lists(st.one_of(
        json_values.map(msgspec.json.encode), st.binary(max_size=40), st.just(b"[DONE]"),
    ), max_size=8))  # fmt: skip
    if dialect.name == "bedrock_converse":
        frames = [
            bedrock_eventstream.frame(
                {":event-type": draw(event_names), ":message-type": draw(
                    st.sampled_from(["event", "exception", "error"]))}, p)
            for p in payloads
        ]  # fmt: skip
        return b"".join(frames)
    out = b""
    for p in payloads:
        if draw(st.booleans()):
            out += b"event: " + draw(event_names).encode() + b"\n"
        out += b"data: " + p.replace(b"\n", b" ").replace(b"\r", b" ") + b"\n\n"
    return out


def _decode(dialect: Dialect, pieces: list[bytes]) -> Any:
    decoder = dialect.codec.stream_decoder(dialect.target)
    try:
        events = [e for piece in pieces for e in decoder.feed(piece)]
        events += decoder.close()
    except UpstreamError as exc:
        return ("error", exc.kind)
    return ("events", len(events))


@pytest.mark.parametrize("dialect", DIALECTS, ids=lambda d: d.name)
@bounded
@given(data=st.data())
def test_stream_decoders_raise_only_upstream_errors(dialect: Dialect, data: st.DataObject) -> None:
    body = data.draw(provider_stream(dialect))
    whole = _decode(dialect, [body])
    assert _decode(dialect, _split(body, data.draw(cuts))) == whole
