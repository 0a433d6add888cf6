"""Server side of the Anthropic codec, checked by the official ``anthropic`` SDK.

What junction writes (messages, streams, errors) is served to a real SDK
client through an httpx mock transport; the SDK's own parsing and stream
accumulation must give back what the recording says.
"""

from __future__ import annotations

import json
from typing import Any

import anthropic
import pytest
from anthropic.types import Message, RawMessageStreamEvent
from anthropic.types.shared import ErrorResponse
from pydantic import TypeAdapter

from _anthropic_fixtures import (
    EXCHANGES,
    Exchange,
    expected_parts,
    params,
    recorded_message,
    sse_events,
    unsupported_blocks,
)
from junction.codecs.anthropic_messages import (
    CODEC,
    StreamEncoder,
    decode_request,
    encode_error,
    encode_response,
)
from junction.codecs.base import Target
from junction.types import (
    ChatResponse,
    Choice,
    Finish,
    GatewayError,
    StreamEvent,
    StreamStart,
    TextDelta,
    TextPart,
    ThinkingDelta,
    ToolCallDelta,
    ToolCallPart,
    Usage,
    UsageReport,
)
from junction.types import Message as CMessage

try:  # recent anthropic SDKs run on the httpx2 fork and refuse an httpx client
    import httpx2 as httpx
except ImportError:  # pragma: no cover
    import httpx  # type: ignore[no-redef]

TARGET = Target(provider="anthropic", base_url="https://api.anthropic.com", model="claude-x")
OK = [
    x
    for x in EXCHANGES
    if x.is_messages and x.status == 200 and not unsupported_blocks(recorded_message(x))
]
JSON_OK = [x for x in OK if not x.is_stream]
STREAM_OK = [x for x in OK if x.is_stream]
EVENT = TypeAdapter(RawMessageStreamEvent)


def sdk(body: bytes, status: int = 200, content_type: str = "application/json") -> Any:
    """An SDK client whose every call is answered with ``body``; requests it
    sends are decoded by junction's ingress to prove that side too."""
    seen: list[Any] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(decode_request(request.content))
        return httpx.Response(status, content=body, headers={"content-type": content_type})

    client = anthropic.Anthropic(
        api_key="test",
        base_url="http://sim.test",
        max_retries=0,
        http_client=httpx.Client(transport=httpx.MockTransport(handler)),
    )
    client.seen = seen  # type: ignore[attr-defined]
    return client


def ask(client: Any, **kw: Any) -> dict[str, Any]:
    return dict(model="claude-x", max_tokens=64, messages=[{"role": "user", "content": "hi"}], **kw)


def usage_of(message: dict[str, Any]) -> tuple[int, int, int, int]:
    u = message["usage"]
    return (
        u["input_tokens"],
        u["output_tokens"],
        u.get("cache_creation_input_tokens") or 0,
        u.get("cache_read_input_tokens") or 0,
    )


def reencode(events: list[StreamEvent]) -> bytes:
    encoder = StreamEncoder()
    return b"".join(encoder.encode(e) for e in events) + encoder.finish()


def content_events(events: list[StreamEvent]) -> list[StreamEvent]:
    return [e for e in events if not isinstance(e, StreamStart | UsageReport)]


def last_usage(events: list[StreamEvent]) -> Usage:
    return [e for e in events if isinstance(e, UsageReport)][-1].usage


def decode_stream(raw: bytes) -> list[StreamEvent]:
    decoder = CODEC.stream_decoder(TARGET)
    return decoder.feed(raw) + decoder.close()


@pytest.mark.parametrize("x", params(JSON_OK))
def test_recorded_response_re_encoded_is_read_by_the_sdk(x: Exchange) -> None:
    body = encode_response(CODEC.decode_response(x.body_bytes(), TARGET))
    client = sdk(body)
    message = client.messages.create(**ask(client))
    assert isinstance(message, Message)
    dumped = message.model_dump()
    recorded = x.parsed
    assert expected_parts(dumped) == expected_parts(recorded)
    assert message.id == recorded["id"]
    assert message.model == recorded["model"]
    assert message.stop_reason == recorded["stop_reason"]
    assert message.stop_sequence == recorded.get("stop_sequence")
    assert usage_of(dumped) == usage_of(recorded)
    assert client.seen[0].max_tokens == 64
    decoded = CODEC.decode_response(x.body_bytes(), TARGET)
    assert CODEC.decode_response(body, TARGET).choices == decoded.choices


@pytest.mark.parametrize("x", params(STREAM_OK))
def test_recorded_stream_re_encoded_is_read_by_the_sdk(x: Exchange) -> None:
    assert x.raw is not None
    raw = reencode(decode_stream(x.raw))
    for event in sse_events(raw):
        EVENT.validate_python(event)
    recorded = recorded_message(x)
    client = sdk(raw, content_type="text/event-stream")
    with client.messages.stream(**ask(client)) as stream:
        final = stream.get_final_message()
    dumped = final.model_dump()
    assert expected_parts(dumped) == expected_parts(recorded)
    assert final.id == recorded["id"]
    assert final.stop_reason == recorded["stop_reason"]
    assert usage_of(dumped) == usage_of(recorded)
    # And junction reads its own output back as the same canonical events.
    first, again = decode_stream(x.raw), decode_stream(raw)
    assert content_events(again) == content_events(first)
    assert last_usage(again) == last_usage(first)


def test_openai_shaped_stream_becomes_anthropic_blocks() -> None:
    """Usage after Finish, no usage up front, two tool calls, text first:
    the order an OpenAI upstream produces."""
    events: list[StreamEvent] = [
        StreamStart(id="chatcmpl-1", model="gpt-x"),
        TextDelta(text="Let me "),
        TextDelta(text="check."),
        ToolCallDelta(call_index=0, id="call_a", name="weather"),
        ToolCallDelta(call_index=0, arguments='{"city": '),
        ToolCallDelta(call_index=0, arguments='"Paris"}'),
        ToolCallDelta(call_index=1, id="call_b", name="time", arguments="{}"),
        Finish(reason="tool_calls", native="tool_calls"),
        UsageReport(usage=Usage(prompt_tokens=30, completion_tokens=12, cached_tokens=10)),
    ]
    raw = reencode(events)
    names = [line[7:] for line in raw.decode().split("\n") if line.startswith("event: ")]
    assert names == [
        "message_start",
        "content_block_start",
        "content_block_delta",
        "content_block_delta",
        "content_block_stop",
        "content_block_start",
        "content_block_delta",
        "content_block_delta",
        "content_block_stop",
        "content_block_start",
        "content_block_delta",
        "content_block_stop",
        "message_delta",
        "message_stop",
    ]
    client = sdk(raw, content_type="text/event-stream")
    with client.messages.stream(**ask(client)) as stream:
        final = stream.get_final_message().model_dump()
    assert expected_parts(final) == [
        ("text", "Let me check."),
        ("tool", "call_a", "weather", {"city": "Paris"}),
        ("tool", "call_b", "time", {}),
    ]
    assert final["stop_reason"] == "tool_use"  # "tool_calls" is not Anthropic's word
    assert usage_of(final) == (20, 12, 0, 10)


def test_thinking_signature_and_redacted_blocks_in_a_stream() -> None:
    events: list[StreamEvent] = [
        StreamStart(id="msg_1", model="m"),
        UsageReport(usage=Usage(prompt_tokens=7, completion_tokens=1)),
        ThinkingDelta(text="Hmm, "),
        ThinkingDelta(text="ok."),
        ThinkingDelta(signature="sig-1"),
        ThinkingDelta(redacted="opaque"),
        TextDelta(text="Answer"),
        Finish(reason="stop", native="end_turn"),
        UsageReport(usage=Usage(prompt_tokens=7, completion_tokens=20)),
    ]
    raw = reencode(events)
    start = sse_events(raw)[0]
    assert start["message"]["usage"]["input_tokens"] == 7  # usage reported up front lands here
    client = sdk(raw, content_type="text/event-stream")
    with client.messages.stream(**ask(client)) as stream:
        final = stream.get_final_message().model_dump()
    assert expected_parts(final) == [
        ("thinking", "Hmm, ok.", "sig-1"),
        ("redacted", "opaque"),
        ("text", "Answer"),
    ]
    assert usage_of(final) == (7, 20, 0, 0)


def test_stop_sequence_and_openai_finish_map_to_anthropic_words() -> None:
    response = ChatResponse(
        id="x",
        model="m",
        choices=[
            Choice(
                index=0,
                message=CMessage(role="assistant", content=[TextPart(text="a")]),
                finish_reason="stop",
                native_finish_reason="stop",
                stop_sequence="END",
            )
        ],
    )
    message = Message.model_validate_json(encode_response(response))
    assert (message.stop_reason, message.stop_sequence) == ("stop_sequence", "END")
    response.choices[0].finish_reason = "length"
    response.choices[0].native_finish_reason = "length"
    response.choices[0].stop_sequence = None
    assert Message.model_validate_json(encode_response(response)).stop_reason == "max_tokens"


def test_tool_call_response_is_read_by_the_sdk() -> None:
    response = ChatResponse(
        id="x",
        model="m",
        choices=[
            Choice(
                index=0,
                message=CMessage(
                    role="assistant",
                    content=[ToolCallPart(id="t1", name="f", arguments='{"q": [1, 2]}')],
                ),
                finish_reason="tool_calls",
            )
        ],
        usage=Usage(
            prompt_tokens=100, completion_tokens=5, cached_tokens=60, cache_write_tokens=30
        ),
    )
    client = sdk(encode_response(response))
    message = client.messages.create(**ask(client)).model_dump()
    assert expected_parts(message) == [("tool", "t1", "f", {"q": [1, 2]})]
    assert message["stop_reason"] == "tool_use"
    assert usage_of(message) == (10, 5, 30, 60)


ERROR_CASES: list[tuple[GatewayError, str, type[Exception]]] = [
    (
        GatewayError("invalid_request", "bad field"),
        "invalid_request_error",
        anthropic.BadRequestError,
    ),
    (
        GatewayError("authentication", "no key"),
        "authentication_error",
        anthropic.AuthenticationError,
    ),
    (GatewayError("permission_denied", "no"), "permission_error", anthropic.PermissionDeniedError),
    (GatewayError("not_found", "no model"), "not_found_error", anthropic.NotFoundError),
    (GatewayError("rate_limit", "slow down"), "rate_limit_error", anthropic.RateLimitError),
    (GatewayError("server", "oops"), "api_error", anthropic.InternalServerError),
    (GatewayError("overloaded", "busy"), "overloaded_error", anthropic.InternalServerError),
    (GatewayError("timeout", "slow"), "timeout_error", anthropic.APIStatusError),
]


@pytest.mark.parametrize(("err", "kind", "exc"), ERROR_CASES)
def test_errors_are_read_by_the_sdk(err: GatewayError, kind: str, exc: type[Exception]) -> None:
    body = encode_error(err)
    ErrorResponse.model_validate_json(body)
    client = sdk(body, status=err.status)
    with pytest.raises(exc) as info:
        client.messages.create(**ask(client))
    assert isinstance(info.value, anthropic.APIStatusError)
    assert info.value.status_code == err.status
    assert info.value.body["error"] == {"type": kind, "message": err.message}  # type: ignore[index]


def test_request_too_large_error_type() -> None:
    body = json.loads(encode_error(GatewayError("request_too_large", "32 MB max")))
    assert body == {"type": "error", "error": {"type": "request_too_large", "message": "32 MB max"}}


def test_in_stream_error_is_raised_by_the_sdk() -> None:
    encoder = StreamEncoder(model="m")
    raw = encoder.encode(StreamStart(id="msg_1", model="m"))
    raw += encoder.encode(TextDelta(text="partial"))
    raw += encoder.error(GatewayError("overloaded", "Overloaded"))
    client = sdk(raw, content_type="text/event-stream")
    with (
        pytest.raises(anthropic.APIStatusError) as info,
        client.messages.stream(**ask(client)) as stream,
    ):
        stream.get_final_message()
    assert info.value.body["error"]["type"] == "overloaded_error"  # type: ignore[index]
    # junction's own client decoder raises on the same bytes
    with pytest.raises(GatewayError) as mine:
        decode_stream(raw)
    assert mine.value.kind == "overloaded"


def test_sdk_requests_decode() -> None:
    """What the SDK sends for a tool conversation, junction's ingress reads."""
    client = sdk(encode_response(ChatResponse(id="x", model="m", choices=[])))
    client.messages.create(
        model="claude-x",
        max_tokens=100,
        system=[{"type": "text", "text": "Be brief.", "cache_control": {"type": "ephemeral"}}],
        messages=[
            {"role": "user", "content": "weather?"},
            {
                "role": "assistant",
                "content": [{"type": "tool_use", "id": "t1", "name": "w", "input": {"c": "P"}}],
            },
            {
                "role": "user",
                "content": [
                    {"type": "tool_result", "tool_use_id": "t1", "content": "sunny"},
                    {"type": "text", "text": "thanks"},
                ],
            },
        ],
        tools=[{"name": "w", "input_schema": {"type": "object"}}],
        tool_choice={"type": "any", "disable_parallel_tool_use": True},
        stop_sequences=["END"],
    )
    request = client.seen[0]
    assert [m.role for m in request.messages] == ["system", "user", "assistant", "tool", "user"]
    assert request.messages[0].content[0].cache_control.type == "ephemeral"
    result = request.messages[3].content[0]
    assert (result.tool_call_id, result.name, result.content[0].text) == ("t1", "w", "sunny")
    assert request.tool_choice.mode == "required"
    assert request.parallel_tool_calls is False
    assert request.stop == ["END"]
