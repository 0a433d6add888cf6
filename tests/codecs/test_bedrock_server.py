"""Server side of the Bedrock codec (what the simulator and a Bedrock door
send): ConverseResponse JSON, ConverseStream frames, errors and embeddings,
checked against the published shapes and read back by the client side."""

from __future__ import annotations

import json

import pytest
from botocore.eventstream import EventStreamBuffer

from _bedrock_fixtures import frames
from junction.codecs.base import Target
from junction.codecs.bedrock_converse import (
    CODEC,
    StreamEncoder,
    decode_embeddings_request,
    encode_embeddings_response,
    encode_error,
    encode_response,
    error_headers,
)
from junction.sim.dialects import BEDROCK
from junction.types import (
    ChatResponse,
    Choice,
    EmbeddingRequest,
    EmbeddingResponse,
    Finish,
    GatewayError,
    Message,
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
)

TARGET = Target(provider="bedrock", base_url="http://sim", model="us.amazon.nova-micro-v1:0")
USAGE = Usage(prompt_tokens=120, completion_tokens=30, cached_tokens=80, cache_write_tokens=10)


def _response(finish: str = "tool_calls") -> ChatResponse:
    content = [
        ThinkingPart(text="Let me think.", signature="c2ln"),
        TextPart(text="Checking."),
        ToolCallPart(id="tooluse_1", name="get_weather", arguments='{"city": "Paris"}'),
    ]
    choice = Choice(
        index=0,
        message=Message(role="assistant", content=content),
        finish_reason=finish,  # type: ignore[arg-type]
    )
    return ChatResponse(id="r1", model="m", choices=[choice], usage=USAGE)


def test_encode_response_shape() -> None:
    body = json.loads(encode_response(_response()))
    assert body["output"]["message"] == {
        "role": "assistant",
        "content": [
            {"reasoningContent": {"reasoningText": {"text": "Let me think.", "signature": "c2ln"}}},
            {"text": "Checking."},
            {
                "toolUse": {
                    "toolUseId": "tooluse_1",
                    "name": "get_weather",
                    "input": {"city": "Paris"},
                }
            },
        ],
    }
    assert body["stopReason"] == "tool_use"
    # inputTokens excludes cache reads and writes; totalTokens counts everything.
    assert body["usage"] == {
        "inputTokens": 30,
        "outputTokens": 30,
        "totalTokens": 150,
        "cacheReadInputTokens": 80,
        "cacheWriteInputTokens": 10,
    }
    assert "latencyMs" in body["metrics"]


@pytest.mark.parametrize(
    ("finish", "native"),
    [("stop", "end_turn"), ("length", "max_tokens"), ("content_filter", "content_filtered")],
)
def test_stop_reasons(finish: str, native: str) -> None:
    assert json.loads(encode_response(_response(finish)))["stopReason"] == native


def test_response_reads_back() -> None:
    response = CODEC.decode_response(encode_response(_response()), TARGET)
    assert response.usage == USAGE
    parts = response.choices[0].message.content
    assert [type(p).__name__ for p in parts] == ["ThinkingPart", "TextPart", "ToolCallPart"]
    assert json.loads(parts[2].arguments) == {"city": "Paris"}  # type: ignore[union-attr]


EVENTS: list[StreamEvent] = [
    StreamStart(id="r1", model="m"),
    ThinkingDelta(text="Let me "),
    ThinkingDelta(text="think."),
    ThinkingDelta(signature="c2ln"),
    TextDelta(text="Check"),
    TextDelta(text="ing."),
    ToolCallDelta(call_index=0, id="tooluse_1", name="get_weather"),
    ToolCallDelta(call_index=0, arguments='{"city": '),
    ToolCallDelta(call_index=0, arguments='"Paris"}'),
    Finish(reason="tool_calls"),
    UsageReport(usage=USAGE),
]


def _stream_bytes() -> bytes:
    encoder = StreamEncoder()
    return b"".join(encoder.encode(e) for e in EVENTS) + encoder.finish()


def test_stream_frames_follow_converse_stream_order() -> None:
    raw = _stream_bytes()
    parsed = frames(raw)  # the spec reader checks both CRCs of every frame
    order = [h[":event-type"] for h, _ in parsed]
    assert order == [
        "messageStart",
        "contentBlockDelta",
        "contentBlockDelta",
        "contentBlockDelta",
        "contentBlockStop",
        "contentBlockDelta",
        "contentBlockDelta",
        "contentBlockStop",
        "contentBlockStart",
        "contentBlockDelta",
        "contentBlockDelta",
        "contentBlockStop",
        "messageStop",
        "metadata",
    ]
    assert all(h[":message-type"] == "event" for h, _ in parsed)
    payloads = [json.loads(p) for _, p in parsed]
    assert payloads[8] == {
        "contentBlockIndex": 2,
        "start": {"toolUse": {"toolUseId": "tooluse_1", "name": "get_weather"}},
    }
    assert payloads[-2] == {"stopReason": "tool_use"}
    assert payloads[-1]["usage"]["totalTokens"] == 150


def test_stream_parses_with_botocore() -> None:
    buffer = EventStreamBuffer()
    buffer.add_data(_stream_bytes())
    messages = list(buffer)
    assert messages[0].headers[":event-type"] == "messageStart"
    assert messages[-1].headers[":event-type"] == "metadata"
    assert all(m.headers[":content-type"] == "application/json" for m in messages)


def test_stream_reads_back() -> None:
    raw = _stream_bytes()
    decoder = CODEC.stream_decoder(TARGET)
    events = [e for i in range(0, len(raw), 7) for e in decoder.feed(raw[i : i + 7])]
    events += decoder.close()
    text = "".join(e.text for e in events if isinstance(e, TextDelta))
    thinking = "".join(e.text for e in events if isinstance(e, ThinkingDelta))
    args = "".join(e.arguments for e in events if isinstance(e, ToolCallDelta))
    assert (text, thinking, json.loads(args)) == ("Checking.", "Let me think.", {"city": "Paris"})
    assert [e.signature for e in events if isinstance(e, ThinkingDelta) and e.signature] == ["c2ln"]
    finish = [e for e in events if isinstance(e, Finish)]
    assert [(f.reason, f.native) for f in finish] == [("tool_calls", "tool_use")]
    assert [e.usage for e in events if isinstance(e, UsageReport)] == [USAGE]


def test_in_stream_error_frame() -> None:
    err = GatewayError("rate_limit", "slow down")
    ((headers, payload),) = frames(StreamEncoder().error(err))
    assert headers[":message-type"] == "exception"
    assert headers[":exception-type"] == "throttlingException"
    assert json.loads(payload) == {"message": "slow down"}
    with pytest.raises(UpstreamError) as info:
        CODEC.stream_decoder(TARGET).feed(StreamEncoder().error(err))
    assert info.value.status == 429


def test_simulator_garbage_frame_is_reported_unreadable() -> None:
    decoder = CODEC.stream_decoder(TARGET)
    with pytest.raises(UpstreamError) as info:
        decoder.feed(BEDROCK.garbage_frame)
    assert "unreadable" in info.value.message


@pytest.mark.parametrize(
    ("err", "name"),
    [
        (GatewayError("rate_limit", "x"), "ThrottlingException"),
        (GatewayError("invalid_request", "x"), "ValidationException"),
        (GatewayError("not_found", "x"), "ResourceNotFoundException"),
        (GatewayError("authentication", "x"), "UnrecognizedClientException"),
        (GatewayError("overloaded", "x", status=503), "ServiceUnavailableException"),
        (GatewayError("server", "x", status=500), "InternalServerException"),
    ],
)
def test_errors(err: GatewayError, name: str) -> None:
    assert json.loads(encode_error(err)) == {"message": "x"}
    header = error_headers(err)["x-amzn-errortype"]
    assert header.split(":")[0] == name
    back = CODEC.decode_error(err.status, error_headers(err), encode_error(err), TARGET)
    assert back.code == name


# --- embeddings -----------------------------------------------------------------------


def test_titan_embeddings() -> None:
    target = Target(provider="bedrock", base_url="http://sim", model="amazon.titan-embed-text-v2:0")
    http = CODEC.encode_embeddings(
        EmbeddingRequest(model="e", input=["hi"], dimensions=256), target
    )
    assert json.loads(http.body) == {"inputText": "hi", "normalize": True, "dimensions": 256}
    request = decode_embeddings_request(http.body, model=target.model)
    assert (request.input, request.dimensions) == (["hi"], 256)
    out = EmbeddingResponse(model="e", data=[[0.5, -0.5]], usage=Usage(prompt_tokens=3))
    body = encode_embeddings_response(out, model=target.model)
    assert json.loads(body) == {"embedding": [0.5, -0.5], "inputTextTokenCount": 3}
    back = CODEC.decode_embeddings(body, target)
    assert (back.data, back.usage.prompt_tokens) == ([[0.5, -0.5]], 3)
    with pytest.raises(GatewayError):
        CODEC.encode_embeddings(EmbeddingRequest(model="e", input=["a", "b"]), target)


def test_cohere_embeddings() -> None:
    target = Target(provider="bedrock", base_url="http://sim", model="cohere.embed-english-v3")
    http = CODEC.encode_embeddings(EmbeddingRequest(model="e", input=["a", "b"]), target)
    assert json.loads(http.body) == {"texts": ["a", "b"], "input_type": "search_document"}
    assert decode_embeddings_request(http.body, model=target.model).input == ["a", "b"]
    out = EmbeddingResponse(model="e", data=[[1.0], [2.0]])
    body = encode_embeddings_response(out, model=target.model)
    assert json.loads(body)["embeddings"] == [[1.0], [2.0]]
    assert CODEC.decode_embeddings(body, target).data == [[1.0], [2.0]]
    typed = b'{"id": "x", "embeddings": {"float": [[0.25]]}, "response_type": "embeddings_by_type"}'
    assert CODEC.decode_embeddings(typed, target).data == [[0.25]]


def test_unknown_embedding_model_is_refused() -> None:
    target = Target(provider="bedrock", base_url="http://sim", model="meta.llama3-8b-instruct-v1:0")
    with pytest.raises(GatewayError) as info:
        CODEC.encode_embeddings(EmbeddingRequest(model="e", input=["a"]), target)
    assert info.value.param == "model"
