"""Properties of every codec, over generated requests, responses and streams.

- client ``encode_request`` -> server ``decode_request`` keeps the request's
  canonical content (turns, tool calls and results, sampling, tools);
- server ``encode_response`` -> client ``decode_response`` keeps the answer
  (text, tool calls, finish reason, usage);
- a server ``StreamEncoder``'s bytes, fed to the client stream decoder in
  random pieces, give exactly the events the whole body gives, and those
  mean what the encoded events meant.

Bounded and derandomized for CI (``FUZZ_EXAMPLES`` per dialect and property).
"""

from __future__ import annotations

import itertools
import os

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fuzz._dialects import DIALECTS, Dialect
from fuzz._strategies import (
    chat_requests,
    chat_responses,
    events_view,
    request_view,
    response_view,
    stream_of,
)
from junction.types import ChatRequest, ChatResponse, StreamEvent, StreamStart

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "25"))
bounded = settings(
    max_examples=EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
each_dialect = pytest.mark.parametrize("dialect", DIALECTS, ids=lambda d: d.name)


@each_dialect
@bounded
@given(request=chat_requests())
def test_request_round_trip_keeps_the_content(dialect: Dialect, request: ChatRequest) -> None:
    sent = dialect.codec.encode_request(request, dialect.target)
    received = dialect.decode_request(sent.body, dialect.target.model, request.stream)
    assert received.model == dialect.target.model
    assert received.stream == request.stream
    assert request_view(received, dialect.params) == request_view(request, dialect.params)


@each_dialect
@bounded
@given(request=chat_requests(), response=chat_responses())
def test_response_round_trip_keeps_the_answer(
    dialect: Dialect, request: ChatRequest, response: ChatResponse
) -> None:
    body = dialect.encode_response(response, request)
    decoded = dialect.codec.decode_response(body, dialect.target)
    assert response_view(decoded) == response_view(response)


def _decode(dialect: Dialect, pieces: list[bytes]) -> list[StreamEvent]:
    decoder = dialect.codec.stream_decoder(dialect.target)
    out: list[StreamEvent] = []
    for piece in pieces:
        out += decoder.feed(piece)
    out += decoder.close()
    # ConverseStream carries no response id: Bedrock's decoder makes one per stream.
    return [msgspec.structs.replace(e, id="") if isinstance(e, StreamStart) else e for e in out]


@each_dialect
@bounded
@given(request=chat_requests(), response=chat_responses(), data=st.data())
def test_stream_decoders_ignore_chunk_boundaries(
    dialect: Dialect, request: ChatRequest, response: ChatResponse, data: st.DataObject
) -> None:
    events = stream_of(response, data.draw)
    # OpenAI's stream carries usage only when asked (stream_options.include_usage)
    encoder = dialect.stream_encoder(msgspec.structs.replace(request, include_usage=True))
    body = b"".join(encoder.encode(e) for e in events) + encoder.finish()
    cuts = sorted(data.draw(st.sets(st.integers(1, max(1, len(body) - 1)), max_size=12)))
    bounds = [0, *cuts, len(body)]
    pieces = [body[a:b] for a, b in itertools.pairwise(bounds)]
    whole = _decode(dialect, [body])
    assert _decode(dialect, pieces) == whole
    assert events_view(whole) == events_view(events)
