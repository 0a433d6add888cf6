"""Client side of the Anthropic codec against recorded provider traffic."""

from __future__ import annotations

import json
from typing import Any

import pytest

from _anthropic_fixtures import (
    EXCHANGES,
    FINISH,
    Exchange,
    expected_parts,
    expected_usage,
    params,
    recorded_message,
    unsupported_blocks,
)
from junction.codecs.anthropic_messages import CODEC
from junction.codecs.base import Target
from junction.types import (
    Finish,
    StreamEvent,
    StreamStart,
    TextDelta,
    TextPart,
    ThinkingDelta,
    ThinkingPart,
    ToolCallDelta,
    ToolCallPart,
    UpstreamError,
    UsageReport,
)

TARGET = Target(provider="anthropic", base_url="https://api.anthropic.com", model="claude-x")

OK = [x for x in EXCHANGES if x.is_messages and x.status == 200]
SUPPORTED = [x for x in OK if not unsupported_blocks(recorded_message(x))]
SERVER_TOOLS = [x for x in OK if unsupported_blocks(recorded_message(x))]
"""Skip list, computed: responses holding blocks junction does not carry
(server_tool_use, web_search/web_fetch/code_execution/advisor/mcp tool results,
compaction). They are decoded in a separate test that checks the dropped blocks
are reported as warnings."""

JSON_OK = [x for x in SUPPORTED if not x.is_stream]
STREAM_OK = [x for x in SUPPORTED if x.is_stream]
ERRORS = [x for x in EXCHANGES if "api.anthropic.com" in x.uri and x.status >= 400]

PIECES = (1, 3, 17, 64, 211, 4096)


def canonical_parts(content: list[Any]) -> list[tuple[Any, ...]]:
    out: list[tuple[Any, ...]] = []
    for p in content:
        if isinstance(p, TextPart):
            out.append(("text", p.text))
        elif isinstance(p, ThinkingPart) and p.redacted:
            out.append(("redacted", p.redacted))
        elif isinstance(p, ThinkingPart):
            out.append(("thinking", p.text, p.signature))
        elif isinstance(p, ToolCallPart):
            out.append(("tool", p.id, p.name, json.loads(p.arguments)))
    return out


def merge_texts(parts: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    out: list[tuple[Any, ...]] = []
    for p in parts:
        if out and p[0] == "text" and out[-1][0] == "text":
            out[-1] = ("text", out[-1][1] + p[1])
        else:
            out.append(p)
    return out


def feed_in_pieces(raw: bytes, seed: int) -> list[StreamEvent]:
    decoder = CODEC.stream_decoder(TARGET)
    events: list[StreamEvent] = []
    pos, k = 0, seed
    while pos < len(raw):
        size = PIECES[k % len(PIECES)]
        events.extend(decoder.feed(raw[pos : pos + size]))
        pos += size
        k += 1
    events.extend(decoder.close())
    return events


def accumulate(events: list[StreamEvent]) -> list[tuple[Any, ...]]:
    """Canonical events back into content, by the stream contract (a change
    of kind closes a block; a signature ends a thinking block)."""
    parts: list[list[Any]] = []
    calls: dict[int, list[Any]] = {}
    for ev in events:
        last = parts[-1] if parts else None
        if isinstance(ev, TextDelta):
            if last and last[0] == "text":
                last[1] += ev.text
            else:
                parts.append(["text", ev.text])
        elif isinstance(ev, ThinkingDelta) and ev.redacted is not None:
            parts.append(["redacted", ev.redacted])
        elif isinstance(ev, ThinkingDelta):
            if not (last and last[0] == "thinking" and last[2] is None):
                parts.append(["thinking", "", None])
            parts[-1][1] += ev.text
            if ev.signature:
                parts[-1][2] = ev.signature
        elif isinstance(ev, ToolCallDelta):
            if ev.call_index not in calls:
                calls[ev.call_index] = ["tool", ev.id, ev.name, ""]
                parts.append(calls[ev.call_index])
            calls[ev.call_index][3] += ev.arguments
    out = []
    for p in parts:
        if p[0] == "tool":
            out.append(("tool", p[1], p[2], json.loads(p[3])))
        else:
            out.append(tuple(p))
    return out


@pytest.mark.parametrize("x", params(JSON_OK))
def test_decode_recorded_response(x: Exchange) -> None:
    recorded = x.parsed
    response = CODEC.decode_response(x.body_bytes(), TARGET)
    choice = response.choices[0]
    assert response.id == recorded["id"]
    assert response.model == recorded["model"]
    assert response.provider == "anthropic"
    assert canonical_parts(choice.message.content) == expected_parts(recorded)
    assert choice.native_finish_reason == recorded["stop_reason"]
    assert choice.finish_reason == FINISH[recorded["stop_reason"]]
    assert choice.stop_sequence == recorded.get("stop_sequence")
    assert response.usage is not None
    got = response.usage
    want = expected_usage(recorded)
    assert {k: getattr(got, k) for k in want} == want
    details = recorded["usage"].get("output_tokens_details") or {}
    assert got.reasoning_tokens == details.get("thinking_tokens", 0)
    assert response.warnings == []


@pytest.mark.parametrize("x", params(STREAM_OK))
@pytest.mark.parametrize("seed", [0, 2, 5])
def test_decode_recorded_stream(x: Exchange, seed: int) -> None:
    assert x.raw is not None
    recorded = recorded_message(x)
    events = feed_in_pieces(x.raw, seed)
    assert isinstance(events[0], StreamStart)
    assert events[0].id == recorded["id"]
    assert events[0].model == recorded["model"]
    assert accumulate(events) == expected_parts(recorded)
    finishes = [e for e in events if isinstance(e, Finish)]
    assert len(finishes) == 1
    assert finishes[0].native == recorded["stop_reason"]
    assert finishes[0].reason == FINISH[recorded["stop_reason"]]
    usage = [e for e in events if isinstance(e, UsageReport)][-1].usage
    want = expected_usage(recorded)
    assert {k: getattr(usage, k) for k in want} == want


@pytest.mark.parametrize("x", params(SERVER_TOOLS))
def test_server_tool_blocks_are_dropped_with_a_warning(x: Exchange) -> None:
    recorded = recorded_message(x)
    if x.is_stream:
        assert x.raw is not None
        # With the server-tool blocks gone, text blocks on either side of them
        # meet; the canonical stream has no text-block boundary, so they join.
        assert accumulate(feed_in_pieces(x.raw, 1)) == merge_texts(expected_parts(recorded))
        return
    response = CODEC.decode_response(x.body_bytes(), TARGET)
    assert canonical_parts(response.choices[0].message.content) == expected_parts(recorded)
    dropped = [b["type"] for b in recorded["content"] if b["type"] in unsupported_blocks(recorded)]
    assert len(response.warnings) == len(dropped)
    assert all(repr(t) in msg for t, msg in zip(dropped, response.warnings, strict=True))


@pytest.mark.parametrize("x", params(ERRORS))
def test_decode_recorded_error(x: Exchange) -> None:
    headers = {k: v[0] for k, v in x.headers.items()}
    err = CODEC.decode_error(x.status, headers, x.body_bytes(), TARGET)
    assert isinstance(err, UpstreamError)
    assert x.parsed["error"]["message"] in err.message
    assert err.code == x.parsed["error"]["type"]
    assert err.upstream_status == x.status
    assert err.status == x.status  # 4xx reach the client as they are
    assert err.retryable is False
    assert err.provider == "anthropic"


def test_decode_error_overloaded_and_retry_after() -> None:
    body = b'{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}'
    err = CODEC.decode_error(529, {"Retry-After": "7"}, body, TARGET)
    assert err.kind == "overloaded"
    assert err.status == 503
    assert err.retryable is True
    assert err.retry_after == 7.0
    assert "Overloaded" in err.message


def test_decode_error_tolerates_html() -> None:
    err = CODEC.decode_error(413, {}, b"<html>Request Entity Too Large</html>", TARGET)
    assert err.kind == "request_too_large"
    assert "Request Entity Too Large" in err.message


def test_decode_error_rate_limit_retry_after_ms() -> None:
    body = b'{"type":"error","error":{"type":"rate_limit_error","message":"slow down"}}'
    err = CODEC.decode_error(429, {"retry-after-ms": "1500"}, body, TARGET)
    assert (err.kind, err.status, err.retryable, err.retry_after) == ("rate_limit", 429, True, 1.5)


START = (
    b'event: message_start\ndata: {"type":"message_start","message":{"id":"msg_1","model":"m",'
    b'"role":"assistant","content":[],"usage":{"input_tokens":5,"output_tokens":1}}}\n\n'
)


def test_stream_error_event_raises_retryable_overloaded() -> None:
    decoder = CODEC.stream_decoder(TARGET)
    assert isinstance(decoder.feed(START)[0], StreamStart)
    frame = (
        b'event: error\ndata: {"type":"error","error":{"type":"overloaded_error",'
        b'"message":"Overloaded"}}\n\n'
    )
    with pytest.raises(UpstreamError) as info:
        decoder.feed(frame)
    assert info.value.kind == "overloaded"
    assert info.value.retryable is True
    assert "Overloaded" in info.value.message


def test_stream_cut_before_message_stop_raises_on_close() -> None:
    decoder = CODEC.stream_decoder(TARGET)
    decoder.feed(START)
    with pytest.raises(UpstreamError) as info:
        decoder.close()
    assert info.value.kind == "provider_unavailable"
    assert info.value.retryable is False


def test_stream_tool_call_indexes_count_tool_use_blocks_only() -> None:
    frames = [
        START,
        b'data: {"type":"content_block_start","index":0,'
        b'"content_block":{"type":"text","text":""}}\n\n',
        b'data: {"type":"content_block_delta","index":0,'
        b'"delta":{"type":"text_delta","text":"hi"}}\n\n',
        b'data: {"type":"content_block_stop","index":0}\n\n',
        b'data: {"type":"content_block_start","index":1,"content_block":{"type":"tool_use",'
        b'"id":"toolu_a","name":"f","input":{}}}\n\n',
        b'data: {"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta",'
        b'"partial_json":"{\\"a\\": 1}"}}\n\n',
        b'data: {"type":"content_block_stop","index":1}\n\n',
        b'data: {"type":"content_block_start","index":2,"content_block":{"type":"tool_use",'
        b'"id":"toolu_b","name":"g","input":{}}}\n\n',
        b'data: {"type":"content_block_stop","index":2}\n\n',
        b'data: {"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},'
        b'"usage":{"output_tokens":9}}\n\n',
        b'data: {"type":"message_stop"}\n\n',
    ]
    decoder = CODEC.stream_decoder(TARGET)
    events = [e for f in frames for e in decoder.feed(f)] + decoder.close()
    calls = [e for e in events if isinstance(e, ToolCallDelta)]
    assert [(c.call_index, c.id, c.name, c.arguments) for c in calls] == [
        (0, "toolu_a", "f", ""),
        (0, None, None, '{"a": 1}'),
        (1, "toolu_b", "g", ""),
        (1, None, None, "{}"),
    ]
    usage = [e for e in events if isinstance(e, UsageReport)][-1].usage
    assert (usage.prompt_tokens, usage.completion_tokens) == (5, 9)


def test_decode_response_error_object_with_200() -> None:
    body = b'{"type":"error","error":{"type":"api_error","message":"boom"}}'
    with pytest.raises(UpstreamError) as info:
        CODEC.decode_response(body, TARGET)
    assert info.value.retryable is True
    assert "boom" in info.value.message


def test_decode_response_garbage() -> None:
    with pytest.raises(UpstreamError):
        CODEC.decode_response(b"not json", TARGET)
