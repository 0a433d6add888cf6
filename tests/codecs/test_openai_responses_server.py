"""The Responses codec's server side: what junction writes must be a valid
``Response`` / ``ResponseStreamEvent`` by the published OpenAPI document and
by the official ``openai`` SDK's types, and must say what the canonical values say."""

from __future__ import annotations

import json
from typing import Any

import pytest
from openai.types.responses import Response, ResponseStreamEvent
from pydantic import TypeAdapter

from _openapi import validator
from _responses_fixtures import JSON_OK, SKIP_RESPONSE, STREAMS, Exchange, params, sse_frames
from junction.codecs.base import Target
from junction.codecs.openai_responses import CODEC, StreamEncoder, encode_error, encode_response
from junction.types import (
    ChatRequest,
    ChatResponse,
    Choice,
    Finish,
    GatewayError,
    Message,
    ResponseFormat,
    StreamEvent,
    StreamStart,
    TextDelta,
    TextPart,
    ThinkingDelta,
    ThinkingPart,
    Tool,
    ToolCallDelta,
    ToolCallPart,
    ToolChoice,
    Usage,
    UsageReport,
)

TARGET = Target(provider="openai", base_url="https://api.openai.com/v1", model="m")
EVENTS: TypeAdapter[Any] = TypeAdapter(ResponseStreamEvent)


def _valid_response(body: bytes) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(body)
    errors = [f"{list(e.path)}: {e.message[:200]}" for e in validator("Response").iter_errors(data)]
    assert errors == []
    Response.model_validate(data)
    return data


def _response(parts: list[Any], finish: str = "stop", refusal: str | None = None) -> ChatResponse:
    return ChatResponse(
        id="chatcmpl-1",
        model="gpt-x",
        created=1700000000,
        choices=[
            Choice(
                index=0,
                message=Message("assistant", parts, refusal=refusal),
                finish_reason=finish,  # type: ignore[arg-type]
            )
        ],
        usage=Usage(
            prompt_tokens=10,
            completion_tokens=20,
            cached_tokens=4,
            cache_write_tokens=1,
            reasoning_tokens=5,
        ),
    )


REQUEST = ChatRequest(
    model="gpt-x",
    messages=[Message("system", [TextPart("Be kind.")]), Message("user", [TextPart("hi")])],
    tools=[Tool(name="f", description="does f", strict=True)],
    tool_choice=ToolChoice(mode="tool", name="f"),
    parallel_tool_calls=False,
    temperature=0.2,
    max_tokens=99,
    response_format=ResponseFormat(
        type="json_schema", name="out", schema={"type": "object"}, strict=True
    ),
    user="u1",
    metadata={"a": "b"},
)


def test_response_object_with_every_item_kind() -> None:
    parts = [
        ThinkingPart(text="step 1"),
        ThinkingPart(text="step 2", signature="ENC"),
        TextPart("Hello"),
        TextPart(" world"),
        ToolCallPart(id="call_1", name="f", arguments='{"x": 1}'),
    ]
    data = _valid_response(encode_response(_response(parts, "tool_calls"), REQUEST))
    assert data["object"] == "response"
    assert data["id"] == "resp_chatcmpl-1"
    assert data["status"] == "completed"
    assert data["incomplete_details"] is None
    assert data["created_at"] == 1700000000
    kinds = [o["type"] for o in data["output"]]
    assert kinds == ["reasoning", "message", "function_call"]
    reasoning, message, call = data["output"]
    assert [s["text"] for s in reasoning["summary"]] == ["step 1", "step 2"]
    assert reasoning["encrypted_content"] == "ENC"
    assert [c["text"] for c in message["content"]] == ["Hello", " world"]
    assert (call["call_id"], call["name"], call["arguments"]) == ("call_1", "f", '{"x": 1}')
    assert data["usage"] == {
        "input_tokens": 10,
        "input_tokens_details": {"cached_tokens": 4, "cache_write_tokens": 1},
        "output_tokens": 20,
        "output_tokens_details": {"reasoning_tokens": 5},
        "total_tokens": 30,
    }
    # the request's settings are echoed
    assert data["instructions"] == "Be kind."
    assert data["tool_choice"] == {"type": "function", "name": "f"}
    assert data["tools"][0]["name"] == "f"
    assert data["tools"][0]["strict"] is True
    assert data["parallel_tool_calls"] is False
    assert (data["temperature"], data["max_output_tokens"], data["user"]) == (0.2, 99, "u1")
    assert data["text"]["format"]["type"] == "json_schema"
    assert data["metadata"] == {"a": "b"}


@pytest.mark.parametrize(
    ("finish", "reason"), [("length", "max_output_tokens"), ("content_filter", "content_filter")]
)
def test_incomplete(finish: str, reason: str) -> None:
    data = _valid_response(encode_response(_response([TextPart("cut")], finish)))
    assert data["status"] == "incomplete"
    assert data["incomplete_details"] == {"reason": reason}
    assert data["output"][0]["status"] == "incomplete"


def test_refusal_and_defaults_without_request() -> None:
    data = _valid_response(encode_response(_response([], refusal="I can't.")))
    assert data["output"][0]["content"] == [{"refusal": "I can't.", "type": "refusal"}]
    assert (data["tools"], data["tool_choice"], data["parallel_tool_calls"]) == ([], "auto", True)
    assert "user" not in data


def test_error_finish_is_failed() -> None:
    data = _valid_response(encode_response(_response([TextPart("x")], "error")))
    assert data["status"] == "failed"
    assert data["error"]["code"] == "server_error"


def test_encode_error_shape() -> None:
    err = GatewayError("invalid_request", "bad thing", param="input[0]")
    data = json.loads(encode_error(err))
    assert list(validator("ErrorResponse").iter_errors(data)) == []
    assert data == {
        "error": {
            "message": "bad thing",
            "type": "invalid_request_error",
            "param": "input[0]",
            "code": "invalid_request",
        }
    }


@pytest.mark.parametrize("ex", params(JSON_OK))
def test_recorded_responses_re_encode_validly(ex: Exchange) -> None:
    if ex.name in SKIP_RESPONSE:
        pytest.skip(SKIP_RESPONSE[ex.name])
    canonical = CODEC.decode_response(ex.body_bytes(), TARGET)
    data = _valid_response(encode_response(canonical))
    again = CODEC.decode_response(json.dumps(data).encode(), TARGET)
    assert again.choices[0].message == canonical.choices[0].message
    assert again.choices[0].finish_reason == canonical.choices[0].finish_reason
    assert again.usage == canonical.usage


# --- streams --------------------------------------------------------------------------


def _frames(data: bytes) -> list[dict[str, Any]]:
    out = []
    check = validator("ResponseStreamEvent")
    for name, payload in sse_frames(data.decode()):
        event = json.loads(payload)
        assert name == event["type"], "the SSE event name repeats the type"
        errors = [f"{list(e.path)}: {e.message[:200]}" for e in check.iter_errors(event)]
        assert errors == [], event["type"]
        EVENTS.validate_python(event)
        out.append(event)
    assert [e["sequence_number"] for e in out] == list(range(len(out)))
    return out


def _encode(
    events: list[StreamEvent], request: ChatRequest | None = None, error: GatewayError | None = None
) -> bytes:
    enc = StreamEncoder(request)
    data = b"".join(enc.encode(e) for e in events)
    if error is not None:
        data += enc.error(error)
    return data + enc.finish()


STREAM = [
    StreamStart(id="resp_abc", model="gpt-x", created=1700000000),
    ThinkingDelta(text="let me "),
    ThinkingDelta(text="think"),
    ThinkingDelta(signature="ENC"),
    TextDelta(text="Hel"),
    TextDelta(text="lo"),
    ToolCallDelta(call_index=0, id="call_a", name="f", arguments='{"a"'),
    ToolCallDelta(call_index=1, id="call_b", name="g"),
    ToolCallDelta(call_index=0, arguments=":1}"),
    ToolCallDelta(call_index=1, arguments="{}"),
    Finish(reason="tool_calls"),
    UsageReport(usage=Usage(prompt_tokens=3, completion_tokens=7, reasoning_tokens=2)),
]


def test_stream_events_are_valid_and_ordered() -> None:
    events = _frames(_encode(STREAM, REQUEST))
    types = [e["type"] for e in events]
    assert types[:2] == ["response.created", "response.in_progress"]
    assert types[-1] == "response.completed"
    assert (
        types.count("response.output_item.added") == types.count("response.output_item.done") == 4
    )
    assert types[2:6] == [
        "response.output_item.added",
        "response.reasoning_summary_part.added",
        "response.reasoning_summary_text.delta",
        "response.reasoning_summary_text.delta",
    ]
    final = events[-1]["response"]
    Response.model_validate(final)
    assert final["id"] == "resp_abc"
    assert final["usage"]["output_tokens"] == 7
    assert [o["type"] for o in final["output"]] == [
        "reasoning",
        "message",
        "function_call",
        "function_call",
    ]
    assert final["output"][0]["encrypted_content"] == "ENC"
    assert final["output"][1]["content"][0]["text"] == "Hello"
    assert [(o["call_id"], o["arguments"]) for o in final["output"][2:]] == [
        ("call_a", '{"a":1}'),
        ("call_b", "{}"),
    ]
    assert final["tool_choice"] == {"type": "function", "name": "f"}
    # deltas name the item they belong to
    items = {
        e["output_index"]: e["item"]["id"]
        for e in events
        if e["type"] == "response.output_item.added"
    }
    for e in events:
        if e["type"].endswith(".delta"):
            assert e["item_id"] == items[e["output_index"]]


def test_stream_round_trips_through_the_client_decoder() -> None:
    decoder = CODEC.stream_decoder(TARGET)
    got = decoder.feed(_encode(STREAM)) + decoder.close()
    assert isinstance(got[0], StreamStart)
    assert got[0].id == "resp_abc"
    assert "".join(e.text for e in got if isinstance(e, ThinkingDelta)) == "let me think"
    assert [e.signature for e in got if isinstance(e, ThinkingDelta) and e.signature] == ["ENC"]
    assert "".join(e.text for e in got if isinstance(e, TextDelta)) == "Hello"
    calls: dict[int, str] = {}
    for e in got:
        if isinstance(e, ToolCallDelta):
            calls[e.call_index] = calls.get(e.call_index, "") + e.arguments
    assert calls == {0: '{"a":1}', 1: "{}"}
    assert [e.reason for e in got if isinstance(e, Finish)] == ["tool_calls"]
    assert [e.usage.completion_tokens for e in got if isinstance(e, UsageReport)] == [7]


def test_stream_length_is_incomplete() -> None:
    events = _frames(_encode([TextDelta(text="abc"), Finish(reason="length")]))
    assert events[-1]["type"] == "response.incomplete"
    assert events[-1]["response"]["incomplete_details"] == {"reason": "max_output_tokens"}
    assert events[-1]["response"]["id"].startswith("resp_")


def test_stream_error_is_response_failed_and_ends_the_stream() -> None:
    err = GatewayError("rate_limit", "slow down")
    events = _frames(_encode([StreamStart(id="r1", model="m"), TextDelta(text="a")], error=err))
    assert events[-1]["type"] == "response.failed"
    assert events[-1]["response"]["error"] == {
        "code": "rate_limit_exceeded",
        "message": "slow down",
    }
    assert [e["type"] for e in events].count("response.failed") == 1
    assert "response.completed" not in [e["type"] for e in events]


def test_empty_stream_still_completes() -> None:
    events = _frames(_encode([]))
    assert [e["type"] for e in events] == [
        "response.created",
        "response.in_progress",
        "response.completed",
    ]


@pytest.mark.parametrize("ex", params(STREAMS))
def test_recorded_streams_re_encode_validly(ex: Exchange) -> None:
    decoder = CODEC.stream_decoder(TARGET)
    canonical = decoder.feed(ex.body_bytes()) + decoder.close()
    data = _encode(canonical)
    _frames(data)
    again_decoder = CODEC.stream_decoder(TARGET)
    again = again_decoder.feed(data) + again_decoder.close()

    def content(events: list[StreamEvent]) -> tuple[str, str, list[str], str]:
        text = "".join(e.text for e in events if isinstance(e, TextDelta))
        thinking = "".join(e.text for e in events if isinstance(e, ThinkingDelta))
        args = "".join(e.arguments for e in events if isinstance(e, ToolCallDelta))
        names = [e.name or "" for e in events if isinstance(e, ToolCallDelta) and e.name]
        return text, thinking, names, args

    assert content(again) == content(canonical)
    assert [e for e in again if isinstance(e, UsageReport)] == [
        e for e in canonical if isinstance(e, UsageReport)
    ]
