"""Golden tests of the Responses codec's client side on recorded OpenAI traffic.

Expected values come from the recordings (``_responses_fixtures``); the
codec's canonical output is reduced to the same plain shape and compared.
"""

from __future__ import annotations

from typing import Any

import pytest

from _responses_fixtures import (
    ERRORS,
    JSON_OK,
    SKIP_RESPONSE,
    STREAMS,
    Exchange,
    expected_json,
    expected_stream,
    params,
)
from junction.codecs.base import Target
from junction.codecs.openai_responses import CODEC
from junction.types import (
    Finish,
    StreamEvent,
    StreamStart,
    TextDelta,
    TextPart,
    ThinkingDelta,
    ThinkingPart,
    ToolCallDelta,
    UpstreamError,
    Usage,
    UsageReport,
)

TARGET = Target(provider="openai", base_url="https://api.openai.com/v1", model="gpt-5")


def _skip(ex: Exchange) -> None:
    reason = SKIP_RESPONSE.get(ex.name)
    if reason:
        pytest.skip(reason)


# --- whole responses ------------------------------------------------------------------


@pytest.mark.parametrize("ex", params(JSON_OK))
def test_response_matches_recording(ex: Exchange) -> None:
    _skip(ex)
    exp = expected_json(ex.parsed)
    got = CODEC.decode_response(ex.body_bytes(), TARGET)
    assert got.id == ex.parsed["id"]
    assert got.model == ex.parsed["model"]
    assert got.provider == "openai"
    assert len(got.choices) == 1
    choice = got.choices[0]
    message = choice.message
    assert "".join(p.text for p in message.content if isinstance(p, TextPart)) == exp.text
    calls = [(c.id, c.name, c.arguments) for c in message.tool_calls()]
    assert calls == exp.calls
    thinking = message.thinking()
    assert [p.text for p in thinking if p.text] == [t for item in exp.reasoning for t in item if t]
    assert [p.signature for p in thinking if p.signature] == exp.signatures
    assert all(p.provider == "openai" for p in thinking)
    assert (choice.finish_reason, choice.native_finish_reason) == (exp.finish, exp.native)
    _check_usage(got.usage, exp.usage)


def _check_usage(got: Usage | None, recorded: dict[str, Any] | None) -> None:
    if recorded is None:
        assert got is None
        return
    assert got is not None
    u = recorded
    details_in = u.get("input_tokens_details") or {}
    details_out = u.get("output_tokens_details") or {}
    assert isinstance(details_in, dict)
    assert isinstance(details_out, dict)
    assert got.prompt_tokens == u["input_tokens"]
    assert got.completion_tokens == u["output_tokens"]
    assert got.total_tokens == u["total_tokens"]
    assert got.cached_tokens == (details_in.get("cached_tokens") or 0)
    assert got.cache_write_tokens == (details_in.get("cache_write_tokens") or 0)
    assert got.reasoning_tokens == (details_out.get("reasoning_tokens") or 0)


def test_recordings_cover_the_main_shapes() -> None:
    if not JSON_OK:
        pytest.skip("no recorded fixtures")
    shapes = [expected_json(x.parsed) for x in JSON_OK if x.name not in SKIP_RESPONSE]
    assert any(e.calls for e in shapes)
    assert any(e.signatures for e in shapes)
    assert any(any(e.reasoning) for e in shapes)
    assert sum(1 for x in STREAMS) >= 10


# --- streams ----------------------------------------------------------------------------

PIECES = (1, 7, 64, 1 << 20)


def _decode_stream(data: bytes, size: int) -> list[StreamEvent]:
    decoder = CODEC.stream_decoder(TARGET)
    events: list[StreamEvent] = []
    for i in range(0, len(data), size):
        events.extend(decoder.feed(data[i : i + size]))
    events.extend(decoder.close())
    return events


def _join_calls(events: list[StreamEvent]) -> list[tuple[str, str, str]]:
    calls: dict[int, list[str]] = {}
    for e in events:
        if isinstance(e, ToolCallDelta):
            if e.call_index not in calls:
                assert e.id is not None, "the first delta names the call"
                assert e.name is not None
                calls[e.call_index] = [e.id, e.name, ""]
            calls[e.call_index][2] += e.arguments
    return [(c[0], c[1], c[2]) for _, c in sorted(calls.items())]


@pytest.mark.parametrize("size", PIECES)
@pytest.mark.parametrize("ex", params(STREAMS))
def test_stream_matches_recording(ex: Exchange, size: int) -> None:
    _skip(ex)
    assert ex.raw is not None
    exp = expected_stream(ex.raw)
    events = _decode_stream(ex.body_bytes(), size)
    assert isinstance(events[0], StreamStart)
    assert events[0].id == exp.start_id
    text = "".join(e.text for e in events if isinstance(e, TextDelta))
    assert text == exp.text
    thinking = [e for e in events if isinstance(e, ThinkingDelta)]
    assert "".join(e.text for e in thinking) == exp.thinking
    assert [e.signature for e in thinking if e.signature] == exp.signatures
    assert _join_calls(events) == exp.calls
    finishes = [e for e in events if isinstance(e, Finish)]
    assert [(f.reason, f.native) for f in finishes] == [(exp.finish, exp.native)]
    usages = [e for e in events if isinstance(e, UsageReport)]
    assert len(usages) == (1 if exp.usage else 0)
    if usages:
        _check_usage(usages[-1].usage, exp.usage)


@pytest.mark.parametrize("ex", params(STREAMS))
def test_stream_cut_before_the_end_raises(ex: Exchange) -> None:
    assert ex.raw is not None
    data = ex.body_bytes()
    cut = data[: data.rindex(b"response.completed")]
    decoder = CODEC.stream_decoder(TARGET)
    decoder.feed(cut)
    with pytest.raises(UpstreamError) as info:
        decoder.close()
    assert info.value.kind == "provider_unavailable"
    assert info.value.retryable is False


def test_failed_event_raises_with_the_providers_message() -> None:
    data = (
        b"event: response.created\n"
        b'data: {"type":"response.created","sequence_number":0,"response":{"id":"resp_1",'
        b'"model":"gpt-5","created_at":1,"status":"in_progress","output":[]}}\n\n'
        b"event: response.failed\n"
        b'data: {"type":"response.failed","sequence_number":1,"response":{"id":"resp_1",'
        b'"status":"failed","error":{"code":"rate_limit_exceeded","message":"slow down"}}}\n\n'
    )
    decoder = CODEC.stream_decoder(TARGET)
    with pytest.raises(UpstreamError) as info:
        decoder.feed(data)
    assert info.value.kind == "rate_limit"
    assert info.value.retryable is True
    assert "slow down" in info.value.message


def test_error_event_raises() -> None:
    data = (
        b"event: error\n"
        b'data: {"type":"error","code":"server_error","message":"boom","param":null,'
        b'"sequence_number":3}\n\n'
    )
    with pytest.raises(UpstreamError) as info:
        CODEC.stream_decoder(TARGET).feed(data)
    assert "boom" in info.value.message
    assert info.value.upstream_status == 500


def test_arguments_only_in_done_event_are_not_lost() -> None:
    frames = [
        '{"type":"response.created","sequence_number":0,"response":{"id":"r","model":"m",'
        '"created_at":1,"status":"in_progress","output":[]}}',
        '{"type":"response.output_item.added","sequence_number":1,"output_index":0,'
        '"item":{"type":"function_call","id":"fc_1","call_id":"call_1","name":"f","arguments":""}}',
        '{"type":"response.function_call_arguments.done","sequence_number":2,"output_index":0,'
        '"item_id":"fc_1","name":"f","arguments":"{\\"a\\":1}"}',
        '{"type":"response.completed","sequence_number":3,"response":{"id":"r","model":"m",'
        '"created_at":1,"status":"completed","output":[]}}',
    ]
    data = "".join(f"data: {f}\n\n" for f in frames).encode()
    events = _decode_stream(data, 5)
    assert _join_calls(events) == [("call_1", "f", '{"a":1}')]
    assert [e.reason for e in events if isinstance(e, Finish)] == ["tool_calls"]


def test_incomplete_response_is_length() -> None:
    body = (
        b'{"id":"resp_1","object":"response","created_at":1,"model":"m","status":"incomplete",'
        b'"incomplete_details":{"reason":"max_output_tokens"},"output":[{"type":"message",'
        b'"id":"msg_1","role":"assistant","status":"incomplete","content":[{"type":"output_text",'
        b'"text":"Once upon","annotations":[]}]}],"usage":{"input_tokens":5,"output_tokens":2,'
        b'"total_tokens":7}}'
    )
    got = CODEC.decode_response(body, TARGET)
    assert got.choices[0].finish_reason == "length"
    assert got.choices[0].native_finish_reason == "max_output_tokens"
    assert got.choices[0].message.text() == "Once upon"


def test_content_filter_and_refusal() -> None:
    body = (
        b'{"id":"resp_1","created_at":1,"model":"m","status":"incomplete",'
        b'"incomplete_details":{"reason":"content_filter"},"output":[{"type":"message",'
        b'"id":"msg_1","role":"assistant","content":[{"type":"refusal","refusal":"No."}]}]}'
    )
    got = CODEC.decode_response(body, TARGET)
    assert got.choices[0].finish_reason == "content_filter"
    assert got.choices[0].message.refusal == "No."


@pytest.mark.parametrize(
    "body", [b"not json", b'{"id": "x"}', b'{"status": "queued", "output": []}']
)
def test_invalid_bodies_raise(body: bytes) -> None:
    with pytest.raises(UpstreamError) as info:
        CODEC.decode_response(body, TARGET)
    assert info.value.kind == "provider_unavailable"


def test_failed_body_raises_upstream_error() -> None:
    body = b'{"id":"r","status":"failed","error":{"code":"server_error","message":"it broke"}}'
    with pytest.raises(UpstreamError) as info:
        CODEC.decode_response(body, TARGET)
    assert "it broke" in info.value.message


# --- errors ------------------------------------------------------------------------------


@pytest.mark.parametrize("ex", params(ERRORS))
def test_recorded_errors(ex: Exchange) -> None:
    err = CODEC.decode_error(ex.status, {}, ex.body_bytes(), TARGET)
    recorded = ex.parsed["error"]
    assert recorded["message"] in err.message
    assert err.upstream_status == ex.status
    assert err.param == recorded.get("param")
    assert err.retryable is (ex.status >= 500 or ex.status == 429)


def test_error_retry_after_and_non_json() -> None:
    err = CODEC.decode_error(429, {"retry-after": "3"}, b"<html>Too Many</html>", TARGET)
    assert err.kind == "rate_limit"
    assert err.retry_after == 3.0
    assert "Too Many" in err.message


def test_thinking_parts_carry_the_encrypted_content() -> None:
    body = (
        b'{"id":"r","created_at":1,"model":"m","status":"completed","output":[{"type":"reasoning",'
        b'"id":"rs_1","summary":[{"type":"summary_text","text":"A"},{"type":"summary_text",'
        b'"text":"B"}],"encrypted_content":"ENC"}]}'
    )
    parts = CODEC.decode_response(body, TARGET).choices[0].message.content
    assert parts == [
        ThinkingPart(text="A", provider="openai"),
        ThinkingPart(text="B", signature="ENC", provider="openai"),
    ]
