"""Gemini client side, decoding: golden tests over recorded responses and streams."""

from __future__ import annotations

import json
from typing import Any

import pytest

from _gemini_fixtures import exchanges, require_fixtures, skip_reason, sse_chunks
from junction.codecs.base import Quirks, Target
from junction.codecs.gemini import CODEC
from junction.types import (
    ChatResponse,
    Finish,
    StreamEvent,
    StreamStart,
    TextDelta,
    ThinkingDelta,
    ThinkingPart,
    ToolCallDelta,
    UpstreamError,
    UsageReport,
)

TARGET = Target(
    provider="gemini",
    base_url="https://generativelanguage.googleapis.com",
    model="gemini-2.5-flash",
    api_key="k",
    quirks=Quirks(auth="x-goog-api-key"),
)

OK = [e for e in exchanges() if e.status == 200]
UNARY = [e for e in OK if not e.stream]
STREAMS = [e for e in OK if e.stream]

# Gemini FinishReason values that mean "blocked by a filter" (MODEL_ARMOR: Vertex's
# Model Armor screening, see google-genai types.FinishReason).
FILTER = {
    "SAFETY",
    "RECITATION",
    "BLOCKLIST",
    "PROHIBITED_CONTENT",
    "SPII",
    "IMAGE_SAFETY",
    "IMAGE_PROHIBITED_CONTENT",
    "IMAGE_RECITATION",
    "MODEL_ARMOR",
}


# -- expectations read straight from the recorded JSON -----------------------------


class Expect:
    def __init__(self) -> None:
        self.text = ""
        self.thoughts = ""
        self.calls: list[tuple[str, Any]] = []
        self.finish: str | None = None


def expected(docs: list[dict[str, Any]]) -> dict[int, Expect]:
    out: dict[int, Expect] = {}
    for doc in docs:
        for cand in doc.get("candidates", []):
            exp = out.setdefault(cand.get("index", 0), Expect())
            for part in (cand.get("content") or {}).get("parts", []):
                if "functionCall" in part:
                    exp.calls.append(
                        (part["functionCall"]["name"], part["functionCall"].get("args", {}))
                    )
                elif part.get("thought"):
                    exp.thoughts += part.get("text", "")
                elif "text" in part:
                    exp.text += part["text"]
            exp.finish = cand.get("finishReason") or exp.finish
    return out


def normalised(native: str, has_calls: bool) -> str:
    if native == "STOP":
        return "tool_calls" if has_calls else "stop"
    if native == "MAX_TOKENS":
        return "length"
    return "content_filter" if native in FILTER else "error"


def check_usage(usage: Any, meta: dict[str, Any] | None) -> None:
    if not meta:
        return
    prompt = meta.get("promptTokenCount", 0) + meta.get("toolUsePromptTokenCount", 0)
    completion = meta.get("candidatesTokenCount", 0) + meta.get("thoughtsTokenCount", 0)
    assert usage.prompt_tokens == prompt
    assert usage.completion_tokens == completion
    assert usage.reasoning_tokens == meta.get("thoughtsTokenCount", 0)
    assert usage.cached_tokens == meta.get("cachedContentTokenCount", 0)
    if "totalTokenCount" in meta:
        assert usage.total_tokens == meta["totalTokenCount"]


def skip_unsupported(docs: list[dict[str, Any]]) -> None:
    reason = skip_reason(docs)
    if reason:
        pytest.skip(reason)


# -- unary ---------------------------------------------------------------------------


@pytest.mark.parametrize("ex", UNARY, ids=lambda e: e.id)
def test_recorded_response(ex: Any) -> None:
    require_fixtures()
    doc = json.loads(ex.body)
    skip_unsupported([doc])
    resp: ChatResponse = CODEC.decode_response(ex.body, TARGET)
    assert resp.provider == "gemini"
    assert resp.id == doc.get("responseId", "")
    assert resp.model == doc.get("modelVersion", TARGET.model)
    exp = expected([doc])
    if not doc.get("candidates") and (doc.get("promptFeedback") or {}).get("blockReason"):
        assert resp.choices[0].finish_reason == "content_filter"
        assert resp.choices[0].native_finish_reason == doc["promptFeedback"]["blockReason"]
    else:
        assert sorted(c.index for c in resp.choices) == sorted(exp)
    for choice in resp.choices:
        if choice.index not in exp:
            continue
        e = exp[choice.index]
        msg = choice.message
        assert msg.text() == e.text
        assert "".join(p.text for p in msg.thinking()) == e.thoughts
        assert [(c.name, json.loads(c.arguments)) for c in msg.tool_calls()] == e.calls
        assert choice.native_finish_reason == e.finish
        if e.finish:
            assert choice.finish_reason == normalised(e.finish, bool(e.calls))
        assert all(c.id for c in msg.tool_calls())
    if doc.get("usageMetadata"):
        assert resp.usage is not None
        check_usage(resp.usage, doc["usageMetadata"])


def test_function_call_signature_and_generated_id() -> None:
    body = json.dumps(
        {
            "candidates": [
                {
                    "content": {
                        "role": "model",
                        "parts": [
                            {"text": "thinking", "thought": True, "thoughtSignature": "T1"},
                            {
                                "functionCall": {"name": "f", "args": {"a": 1}},
                                "thoughtSignature": "S1",
                            },
                            {"functionCall": {"name": "g", "args": {}, "id": "given"}},
                        ],
                    },
                    "finishReason": "STOP",
                    "index": 0,
                }
            ],
            "responseId": "R",
        }
    ).encode()
    choice = CODEC.decode_response(body, TARGET).choices[0]
    thought = choice.message.thinking()[0]
    assert (thought.text, thought.signature, thought.provider) == ("thinking", "T1", "gemini")
    calls = choice.message.tool_calls()
    assert [c.id for c in calls] == ["call_R_0_0", "given"]
    assert calls[0].signature == "S1"
    assert choice.finish_reason == "tool_calls"


def test_text_signature_becomes_empty_thinking_part() -> None:
    part = {"text": "Paris", "thoughtSignature": "SIG"}
    body = json.dumps(
        {"candidates": [{"content": {"role": "model", "parts": [part]}, "finishReason": "STOP"}]}
    ).encode()
    parts = CODEC.decode_response(body, TARGET).choices[0].message.content
    assert isinstance(parts[0], ThinkingPart)
    assert parts[0].signature == "SIG"
    assert parts[0].text == ""
    assert CODEC.decode_response(body, TARGET).choices[0].message.text() == "Paris"


@pytest.mark.parametrize(
    ("native", "reason"),
    [
        ("MAX_TOKENS", "length"),
        ("SAFETY", "content_filter"),
        ("RECITATION", "content_filter"),
        ("PROHIBITED_CONTENT", "content_filter"),
        ("MALFORMED_FUNCTION_CALL", "error"),
        ("OTHER", "error"),
    ],
)
def test_finish_reason_mapping(native: str, reason: str) -> None:
    body = json.dumps({"candidates": [{"finishReason": native, "index": 0}]}).encode()
    choice = CODEC.decode_response(body, TARGET).choices[0]
    assert (choice.finish_reason, choice.native_finish_reason) == (reason, native)


def test_unreadable_body_is_upstream_error() -> None:
    with pytest.raises(UpstreamError) as info:
        CODEC.decode_response(b"<html>oops</html>", TARGET)
    assert info.value.retryable


# -- streams -----------------------------------------------------------------------------


def run_stream(body: bytes, size: int) -> list[StreamEvent]:
    decoder = CODEC.stream_decoder(TARGET)
    events: list[StreamEvent] = []
    for start in range(0, len(body), size):
        events += decoder.feed(body[start : start + size])
    return events + decoder.close()


@pytest.mark.parametrize("size", [1, 7, 64, 1 << 20])
@pytest.mark.parametrize("ex", STREAMS, ids=lambda e: e.id)
def test_recorded_stream(ex: Any, size: int) -> None:
    require_fixtures()
    docs = sse_chunks(ex.body)
    skip_unsupported(docs)
    events = run_stream(ex.body, size)
    assert isinstance(events[0], StreamStart)
    assert sum(isinstance(e, StreamStart) for e in events) == 1
    assert events[0].id == docs[0].get("responseId", "")
    for index, exp in expected(docs).items():
        text = "".join(e.text for e in events if isinstance(e, TextDelta) and e.index == index)
        thoughts = "".join(
            e.text for e in events if isinstance(e, ThinkingDelta) and e.index == index
        )
        calls = [e for e in events if isinstance(e, ToolCallDelta) and e.index == index]
        finishes = [e for e in events if isinstance(e, Finish) and e.index == index]
        assert text == exp.text
        assert thoughts == exp.thoughts
        assert [(c.name, json.loads(c.arguments)) for c in calls] == exp.calls
        assert [c.call_index for c in calls] == list(range(len(calls)))
        assert len(finishes) == 1
        assert finishes[0].native == exp.finish
        assert finishes[0].reason == normalised(exp.finish or "", bool(exp.calls))
    reports = [e for e in events if isinstance(e, UsageReport)]
    meta = [d["usageMetadata"] for d in docs if "usageMetadata" in d]
    if meta:
        assert reports
        check_usage(reports[-1].usage, meta[-1])
        assert events.index(reports[-1]) > max(
            i for i, e in enumerate(events) if isinstance(e, Finish)
        )


def test_stream_cut_before_finish_raises() -> None:
    decoder = CODEC.stream_decoder(TARGET)
    events = decoder.feed(b'data: {"candidates":[{"content":{"parts":[{"text":"Hi"}]}}]}\n\n')
    assert [type(e) for e in events] == [StreamStart, TextDelta]
    with pytest.raises(UpstreamError) as info:
        decoder.close()
    assert info.value.kind == "provider_unavailable"
    assert not info.value.retryable


def test_stream_error_chunk_raises() -> None:
    decoder = CODEC.stream_decoder(TARGET)
    error = {"code": 503, "message": "The model is overloaded.", "status": "UNAVAILABLE"}
    chunk = b"data: " + json.dumps({"error": error}).encode() + b"\n\n"
    with pytest.raises(UpstreamError) as info:
        decoder.feed(chunk)
    assert info.value.upstream_status == 503
    assert "overloaded" in info.value.message
    assert info.value.retryable


def test_stream_text_signature_and_thought_signature() -> None:
    body = (
        b'data: {"candidates":[{"content":{"role":"model","parts":[{"text":"hm",'
        b'"thought":true,"thoughtSignature":"A"}]}}],"responseId":"r"}\n\n'
        b'data: {"candidates":[{"content":{"role":"model","parts":[{"text":"Hi",'
        b'"thoughtSignature":"B"}]},"finishReason":"STOP"}],"usageMetadata":'
        b'{"promptTokenCount":3,"candidatesTokenCount":1,"thoughtsTokenCount":2,'
        b'"totalTokenCount":6}}\n\n'
    )
    events = run_stream(body, 5)
    thinking = [e for e in events if isinstance(e, ThinkingDelta)]
    assert [(t.text, t.signature) for t in thinking] == [("hm", "A"), ("", "B")]
    assert isinstance(events[-1], UsageReport)
    assert events[-1].usage.completion_tokens == 3


# -- errors --------------------------------------------------------------------------------


def test_decode_error_google_shape_with_retry_delay() -> None:
    body = json.dumps(
        {
            "error": {
                "code": 429,
                "message": "You exceeded your current quota.",
                "status": "RESOURCE_EXHAUSTED",
                "details": [
                    {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "37s"}
                ],
            }
        }
    ).encode()
    err = CODEC.decode_error(429, {}, body, TARGET)
    assert err.kind == "rate_limit"
    assert err.retryable
    assert err.code == "RESOURCE_EXHAUSTED"
    assert "You exceeded your current quota." in err.message
    assert err.retry_after == 37.0


def test_decode_error_list_body_and_header() -> None:
    error = {"code": 400, "message": "Invalid JSON payload", "status": "INVALID_ARGUMENT"}
    body = json.dumps([{"error": error}]).encode()
    err = CODEC.decode_error(400, {"Retry-After": "3"}, body, TARGET)
    assert err.kind == "invalid_request"
    assert not err.retryable
    assert "Invalid JSON payload" in err.message
    assert err.retry_after == 3.0


def test_decode_error_non_json() -> None:
    err = CODEC.decode_error(503, {}, b"upstream connect error", TARGET)
    assert err.kind == "overloaded"
    assert err.retryable
    assert "upstream connect error" in err.message


def test_decode_error_context_length() -> None:
    message = (
        "The input token count (2000000) exceeds the maximum number of tokens allowed (1048576)."
    )
    error = {"code": 400, "message": message, "status": "INVALID_ARGUMENT"}
    body = json.dumps({"error": error}).encode()
    assert CODEC.decode_error(400, {}, body, TARGET).kind == "context_length_exceeded"
