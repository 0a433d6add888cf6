"""Client side of the Bedrock Converse codec against recorded provider traffic."""

from __future__ import annotations

import json
import struct
import zlib
from typing import Any

import pytest

from _bedrock_fixtures import (
    CONVERSE,
    FINISH,
    Exchange,
    expected_parts,
    expected_usage,
    params,
    recorded_response,
    unsupported_blocks,
)
from junction.codecs.base import Target
from junction.codecs.bedrock_converse import CODEC
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

TARGET = Target(
    provider="bedrock",
    base_url="https://bedrock-runtime.us-east-1.amazonaws.com",
    model="us.amazon.nova-micro-v1:0",
)

OK = [x for x in CONVERSE if x.status == 200]
SUPPORTED = [x for x in OK if not unsupported_blocks(recorded_response(x))]
SERVER_TOOLS = [x for x in OK if unsupported_blocks(recorded_response(x))]
"""Skip list, computed: responses holding blocks junction does not carry
(Nova's code interpreter: toolUse of type server_tool_use and its toolResult).
They are decoded in their own test, which checks the dropped blocks are
reported as warnings (plain responses) or skipped (streams)."""

JSON_OK = [x for x in SUPPORTED if not x.is_stream]
STREAM_OK = [x for x in SUPPORTED if x.is_stream]
ERRORS = [x for x in CONVERSE if x.status >= 400]
PIECES = (1, 3, 17, 64, 211, 100_000)


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


def test_fixtures_cover_the_cases() -> None:
    if not CONVERSE:
        pytest.skip("recorded fixtures are missing (restore with scripts/sync-fixtures)")
    assert len(JSON_OK) >= 60
    assert len(STREAM_OK) >= 7
    assert ERRORS
    assert SERVER_TOOLS


@pytest.mark.parametrize("x", params(JSON_OK))
def test_decode_response(x: Exchange) -> None:
    recorded = recorded_response(x)
    response = CODEC.decode_response(x.body_bytes(), TARGET)
    choice = response.choices[0]
    assert canonical_parts(choice.message.content) == expected_parts(recorded)
    assert choice.finish_reason == FINISH[recorded["stopReason"]]
    assert choice.native_finish_reason == recorded["stopReason"]
    assert response.usage is not None
    usage = expected_usage(recorded)
    for name, value in usage.items():
        assert getattr(response.usage, name) == value, name
    # The recording's own total confirms inputTokens excludes cached tokens.
    assert response.usage.total_tokens == recorded["usage"]["totalTokens"]
    assert response.provider == "bedrock"
    assert not response.warnings
    for part in choice.message.content:
        if isinstance(part, ThinkingPart):
            assert part.provider == "bedrock"


def accumulate(events: list[StreamEvent]) -> dict[str, Any]:
    parts: list[tuple[Any, ...]] = []
    calls: dict[int, list[Any]] = {}
    finish: Finish | None = None
    usage = None
    for e in events:
        if isinstance(e, TextDelta):
            if parts and parts[-1][0] == "text":
                parts[-1] = ("text", parts[-1][1] + e.text)
            else:
                parts.append(("text", e.text))
        elif isinstance(e, ThinkingDelta) and e.redacted is not None:
            parts.append(("redacted", e.redacted))
        elif isinstance(e, ThinkingDelta):
            if parts and parts[-1][0] == "thinking" and parts[-1][2] is None:
                parts[-1] = ("thinking", parts[-1][1] + e.text, e.signature)
            else:
                parts.append(("thinking", e.text, e.signature))
        elif isinstance(e, ToolCallDelta):
            if e.call_index not in calls:
                calls[e.call_index] = ["tool", e.id, e.name, ""]
                parts.append(("call", e.call_index))
            calls[e.call_index][3] += e.arguments
        elif isinstance(e, Finish):
            finish = e
        elif isinstance(e, UsageReport):
            usage = e.usage
    out = []
    for p in parts:
        if p[0] == "call":
            kind, cid, name, args = calls[p[1]]
            out.append((kind, cid, name, json.loads(args)))
        else:
            out.append(p)
    return {"parts": out, "finish": finish, "usage": usage}


def run_stream(raw: bytes, size: int, target: Target = TARGET) -> list[StreamEvent]:
    decoder = CODEC.stream_decoder(target)
    events: list[StreamEvent] = []
    for i in range(0, len(raw), size):
        events.extend(decoder.feed(raw[i : i + size]))
    events.extend(decoder.close())
    return events


@pytest.mark.parametrize("size", PIECES)
@pytest.mark.parametrize("x", params(STREAM_OK))
def test_decode_stream(x: Exchange, size: int) -> None:
    assert x.raw is not None
    recorded = recorded_response(x)
    events = run_stream(x.raw, size)
    assert isinstance(events[0], StreamStart)
    got = accumulate(events)
    assert got["parts"] == expected_parts(recorded)
    assert got["finish"].reason == FINISH[recorded["stopReason"]]
    assert got["finish"].native == recorded["stopReason"]
    usage = expected_usage(recorded)
    for name, value in usage.items():
        assert getattr(got["usage"], name) == value, name
    # Finish precedes the final usage report, as messageStop precedes metadata.
    kinds = [type(e).__name__ for e in events]
    assert kinds[-2:] == ["Finish", "UsageReport"]


@pytest.mark.parametrize("x", params(SERVER_TOOLS))
def test_server_tool_blocks_are_dropped(x: Exchange) -> None:
    recorded = recorded_response(x)
    if x.is_stream:
        assert x.raw is not None
        got = accumulate(run_stream(x.raw, 50))
        parts = got["parts"]
    else:
        response = CODEC.decode_response(x.body_bytes(), TARGET)
        parts = canonical_parts(response.choices[0].message.content)
        dropped = unsupported_blocks(recorded)
        assert len(response.warnings) >= len(dropped)
        assert all("dropped Bedrock content block" in w for w in response.warnings)
    # What junction keeps is exactly the client-tool and text content.
    assert parts == expected_parts(recorded)
    assert [p for p in parts if p[0] == "tool"]  # final_result stays a tool call


@pytest.mark.parametrize("x", params(STREAM_OK))
def test_stream_cut_before_metadata_raises(x: Exchange) -> None:
    assert x.raw is not None
    decoder = CODEC.stream_decoder(TARGET)
    decoder.feed(x.raw[: len(x.raw) - 40])
    with pytest.raises(UpstreamError) as info:
        decoder.close()
    assert info.value.kind == "provider_unavailable"
    assert not info.value.retryable


@pytest.mark.parametrize("x", params(STREAM_OK[:1]))
def test_corrupted_frame_is_refused(x: Exchange) -> None:
    assert x.raw is not None
    broken = bytearray(x.raw)
    broken[20] ^= 0xFF  # inside the first message: its CRC no longer matches
    with pytest.raises(UpstreamError) as info:
        CODEC.stream_decoder(TARGET).feed(bytes(broken))
    assert "event-stream" in info.value.message


@pytest.mark.parametrize("x", params(ERRORS))
def test_decode_recorded_error(x: Exchange) -> None:
    body = x.response_json()
    err = CODEC.decode_error(x.status, {}, x.body_bytes(), TARGET)
    assert body["message"] in err.message
    assert err.upstream_status == x.status
    assert err.status == 400
    assert not err.retryable


# --- errors by exception type (AWS's x-amzn-errortype header) -----------------------


def _exception_frame(name: str, message: str) -> bytes:
    """An in-stream exception written by hand from the framing spec."""
    headers = b""
    for k, v in ((":exception-type", name), (":message-type", "exception")):
        headers += bytes([len(k)]) + k.encode() + bytes([7]) + struct.pack(">H", len(v))
        headers += v.encode()
    payload = json.dumps({"message": message}).encode()
    total = 12 + len(headers) + len(payload) + 4
    prelude = struct.pack(">II", total, len(headers))
    prelude += struct.pack(">I", zlib.crc32(prelude))
    body = prelude + headers + payload
    return body + struct.pack(">I", zlib.crc32(body))


@pytest.mark.parametrize(
    ("name", "status", "retryable"),
    [
        ("throttlingException", 429, True),
        ("serviceUnavailableException", 503, True),
        ("internalServerException", 502, True),
        ("validationException", 400, False),
        ("modelStreamErrorException", 502, True),
    ],
)
def test_in_stream_exception(name: str, status: int, retryable: bool) -> None:
    decoder = CODEC.stream_decoder(TARGET)
    frame = _exception_frame(name, "something went wrong")
    assert decoder.feed(frame[:10]) == []  # half a frame: nothing yet
    with pytest.raises(UpstreamError) as info:
        decoder.feed(frame[10:])
    assert info.value.status == status
    assert info.value.retryable is retryable
    assert "something went wrong" in info.value.message


@pytest.mark.parametrize(
    ("header", "status", "kind", "client_status"),
    [
        ("ThrottlingException:http://internal.amazon.com/coral/com.amazon.bedrock/", 429,
         "rate_limit", 429),
        ("ValidationException", 400, "invalid_request", 400),
        ("AccessDeniedException", 403, "permission_denied", 403),
        ("UnrecognizedClientException", 403, "authentication", 401),
        ("ResourceNotFoundException", 404, "not_found", 404),
        ("ServiceUnavailableException", 503, "overloaded", 503),
        ("ModelTimeoutException", 408, "timeout", 408),
        ("ModelErrorException", 424, "provider_unavailable", 502),
    ],
)  # fmt: skip
def test_decode_error_by_type(header: str, status: int, kind: str, client_status: int) -> None:
    body = b'{"message": "the provider said no"}'
    err = CODEC.decode_error(status, {"X-Amzn-ErrorType": header, "retry-after": "2"}, body, TARGET)
    assert err.kind == kind
    assert err.status == client_status
    assert err.code == header.split(":")[0]
    assert "the provider said no" in err.message
    assert err.retry_after == 2.0


def test_decode_error_tolerates_a_non_json_body() -> None:
    err = CODEC.decode_error(502, {}, b"<html>Bad Gateway</html>", TARGET)
    assert "Bad Gateway" in err.message
    assert err.retryable


def test_context_too_long_is_its_own_kind() -> None:
    body = b'{"message": "Input is too long for requested model."}'
    err = CODEC.decode_error(400, {"x-amzn-errortype": "ValidationException"}, body, TARGET)
    assert err.kind == "context_length_exceeded"
