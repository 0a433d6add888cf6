"""Golden tests of the OpenAI chat codec on recorded provider traffic.

Expected values come from the recorded JSON (see ``_openai_fixtures``); the
codec's output is reduced to the same plain shape and compared.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from _openai_fixtures import (
    CHAT,
    SKIP_REQUEST,
    SKIP_RESPONSE,
    SKIP_ROUND_TRIP,
    Exchange,
    Expected,
    expected_json,
    expected_stream,
    params,
)
from junction.codecs.base import Quirks, Target
from junction.codecs.openai_chat import CODEC, decode_request
from junction.types import (
    ChatResponse,
    Finish,
    StreamEvent,
    StreamStart,
    TextDelta,
    TextPart,
    ThinkingDelta,
    ToolCallDelta,
    ToolCallPart,
    ToolResultPart,
    UpstreamError,
    UsageReport,
)

REASONING_KEY = {"test_deepseek": "reasoning_content"}


def _target(ex: Exchange, quirks: Quirks | None = None) -> Target:
    if quirks is None:
        quirks = Quirks(reasoning_field=REASONING_KEY.get(ex.folder))
    return Target(
        provider=ex.folder.removeprefix("test_"), base_url="https://x/v1", model="m", quirks=quirks
    )


def _skip(ex: Exchange, table: dict[str, str]) -> None:
    reason = table.get(ex.key)
    if reason:
        pytest.skip(reason)


OK = [x for x in CHAT if x.status == 200]
JSON_OK = [x for x in OK if not x.is_stream]
STREAM_OK = [x for x in OK if x.is_stream]
ERRORS = [x for x in CHAT if x.status >= 400]
REQUESTS = [x for x in CHAT if x.request.get("messages")]


def test_fixture_inventory() -> None:
    if not CHAT:
        pytest.skip("no recorded fixtures")
    folders = {x.folder for x in CHAT}
    assert {"test_openai", "test_groq", "test_deepseek", "test_openrouter"} <= folders
    assert len(STREAM_OK) >= 10
    assert len(ERRORS) >= 5


# --- non-streamed responses -------------------------------------------------------


def _from_response(resp: ChatResponse) -> Expected:
    got = Expected()
    for c in resp.choices:
        m = c.message
        got.text[c.index] = m.text()
        got.reasoning[c.index] = "".join(p.text for p in m.thinking())
        got.calls[c.index] = [(p.id, p.name, p.arguments) for p in m.tool_calls()]
        if c.finish_reason is not None:
            got.finish[c.index] = (c.finish_reason, c.native_finish_reason or "")
    if resp.usage is not None:
        got.prompt_tokens = resp.usage.prompt_tokens
        got.completion_tokens = resp.usage.completion_tokens
        got.cached_tokens = resp.usage.cached_tokens
        got.reasoning_tokens = resp.usage.reasoning_tokens
    return got


def _named_calls(
    calls: dict[int, list[tuple[str | None, str, str]]],
) -> dict[int, list[tuple[str, str]]]:
    """Each choice's tool calls as (name, arguments); choices without calls left out."""
    return {i: [(n, a) for _, n, a in c] for i, c in calls.items() if c}


def _compare(got: Expected, exp: Expected) -> None:
    assert got.text == exp.text
    assert {k: v for k, v in got.reasoning.items() if v} == {
        k: v for k, v in exp.reasoning.items() if v
    }
    # The same calls, in order, on the same choices: none dropped, added or moved.
    assert _named_calls(got.calls) == _named_calls(exp.calls)
    for i, calls in exp.calls.items():
        for (got_id, _, _), (rec_id, _, _) in zip(got.calls.get(i, []), calls, strict=True):
            assert got_id == rec_id if rec_id else got_id  # generated when the vendor sent none
    assert got.finish == exp.finish
    assert (got.prompt_tokens, got.completion_tokens) == (exp.prompt_tokens, exp.completion_tokens)
    assert got.cached_tokens == exp.cached_tokens
    assert got.reasoning_tokens == exp.reasoning_tokens


@pytest.mark.parametrize("ex", params(JSON_OK))
def test_decode_recorded_response(ex: Exchange) -> None:
    _skip(ex, SKIP_RESPONSE)
    resp = CODEC.decode_response(ex.body_bytes(), _target(ex))
    assert resp.id == ex.parsed["id"]
    assert resp.model == ex.parsed["model"]
    assert resp.provider == _target(ex).provider
    _compare(_from_response(resp), expected_json(ex.parsed, REASONING_KEY.get(ex.folder)))


def test_invalid_bodies_raise() -> None:
    bad = [x for x in CHAT if x.key in SKIP_RESPONSE]
    if not bad:
        pytest.skip("no recorded fixtures")
    for ex in bad:
        with pytest.raises(UpstreamError) as info:
            CODEC.decode_response(ex.body_bytes(), _target(ex))
        assert info.value.kind == "provider_unavailable"
        assert info.value.retryable
        assert "invalid response" in info.value.message


# --- streams ------------------------------------------------------------------------


SIZES = (1, 3, 17, 64, 250, 1024, 7)


def _pieces(data: bytes) -> list[bytes]:
    out, pos, k = [], 0, 0
    while pos < len(data):
        size = SIZES[k % len(SIZES)]
        out.append(data[pos : pos + size])
        pos, k = pos + size, k + 1
    return out


def _run(ex: Exchange, pieces: list[bytes]) -> list[StreamEvent]:
    decoder = CODEC.stream_decoder(_target(ex))
    events: list[StreamEvent] = []
    for piece in pieces:
        events.extend(decoder.feed(piece))
    events.extend(decoder.close())
    return events


def _from_events(events: list[StreamEvent]) -> Expected:
    got = Expected()
    ids: dict[tuple[int, int], str | None] = {}
    for e in events:
        if isinstance(e, TextDelta):
            got.text[e.index] = got.text.get(e.index, "") + e.text
        elif isinstance(e, ThinkingDelta):
            got.reasoning[e.index] = got.reasoning.get(e.index, "") + e.text
        elif isinstance(e, ToolCallDelta):
            calls = got.calls.setdefault(e.index, [])
            if (e.index, e.call_index) not in ids:
                ids[(e.index, e.call_index)] = e.id
                calls.append((e.id, e.name or "", ""))
            cid, name, args = calls[e.call_index]
            calls[e.call_index] = (cid, name, args + e.arguments)
        elif isinstance(e, Finish):
            assert e.index not in got.finish, "one Finish per choice"
            got.finish[e.index] = (e.reason, e.native or "")
        elif isinstance(e, UsageReport):
            got.prompt_tokens = e.usage.prompt_tokens
            got.completion_tokens = e.usage.completion_tokens
            got.cached_tokens = e.usage.cached_tokens
            got.reasoning_tokens = e.usage.reasoning_tokens
    for i in got.calls.keys() | got.text.keys() | got.reasoning.keys():
        got.text.setdefault(i, "")
    return got


@pytest.mark.parametrize("ex", params(STREAM_OK))
def test_decode_recorded_stream(ex: Exchange) -> None:
    _skip(ex, SKIP_RESPONSE)
    assert ex.raw is not None
    exp = expected_stream(ex.raw, REASONING_KEY.get(ex.folder))
    if exp.error is not None:
        with pytest.raises(UpstreamError) as info:
            _run(ex, _pieces(ex.body_bytes()))
        assert exp.error in info.value.message
        return
    events = _run(ex, _pieces(ex.body_bytes()))
    assert isinstance(events[0], StreamStart)
    assert sum(isinstance(e, StreamStart) for e in events) == 1
    for i in exp.text.keys() | exp.calls.keys():
        exp.text.setdefault(i, "")
    _compare(_from_events(events), exp)


@pytest.mark.parametrize("ex", params(STREAM_OK))
def test_stream_byte_by_byte_equals_whole(ex: Exchange) -> None:
    _skip(ex, SKIP_RESPONSE)
    data = ex.body_bytes()
    pieces = [data[i : i + 1] for i in range(len(data))]
    if expected_stream(ex.body_bytes().decode()).error is not None:
        with pytest.raises(UpstreamError) as whole:
            _run(ex, [data])
        with pytest.raises(UpstreamError) as single:
            _run(ex, pieces)
        assert single.value.message == whole.value.message
        return
    assert _run(ex, pieces) == _run(ex, [data])


@pytest.mark.parametrize("ex", params(STREAM_OK[:3]))
def test_stream_cut_before_finish_raises(ex: Exchange) -> None:
    _skip(ex, SKIP_RESPONSE)
    data = ex.body_bytes()
    first = data.index(b"data: {")
    cut = data[: data.index(b"\n\n", first) + 2]
    decoder = CODEC.stream_decoder(_target(ex))
    decoder.feed(cut)
    with pytest.raises(UpstreamError) as info:
        decoder.close()
    assert info.value.kind == "provider_unavailable"
    assert not info.value.retryable


# --- error responses ------------------------------------------------------------------


KIND_BY_STATUS = {400: "invalid_request", 404: "not_found", 429: "rate_limit"}


@pytest.mark.parametrize("ex", params(ERRORS))
def test_decode_recorded_error(ex: Exchange) -> None:
    _skip(ex, SKIP_RESPONSE)
    err = CODEC.decode_error(ex.status, ex.flat_headers(), ex.body_bytes(), _target(ex))
    recorded = ex.parsed["error"]
    assert err.upstream_status == ex.status
    assert err.kind == KIND_BY_STATUS[ex.status]
    assert err.status == ex.status
    assert recorded["message"] in err.message
    raw = (recorded.get("metadata") or {}).get("raw")
    if raw:
        assert raw in err.message
    if recorded.get("param"):
        assert err.param == recorded["param"]
    if recorded.get("code") is not None:
        assert err.code == str(recorded["code"])
    assert err.retryable == (ex.status == 429)


# --- requests ---------------------------------------------------------------------------


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    return "".join(p.get("text", "") for p in content or [] if p.get("type") == "text")


@pytest.mark.parametrize("ex", params(REQUESTS))
def test_decode_recorded_request(ex: Exchange) -> None:
    _skip(ex, SKIP_REQUEST)
    body = ex.request
    req = decode_request(json.dumps(body).encode())
    assert req.model == body["model"]
    assert req.stream == bool(body.get("stream"))
    assert len(req.messages) == len(body["messages"])
    for mine, rec in zip(req.messages, body["messages"], strict=True):
        assert mine.role == rec["role"]
        if rec["role"] == "tool":
            (result,) = mine.content
            assert isinstance(result, ToolResultPart)
            assert result.tool_call_id == rec["tool_call_id"]
            assert "".join(p.text for p in result.content if isinstance(p, TextPart)) == _text(
                rec["content"]
            )
            continue
        assert mine.text() == _text(rec.get("content"))
        calls = [(c.id, c.name, c.arguments) for c in mine.content if isinstance(c, ToolCallPart)]
        assert calls == [
            (c["id"], c["function"]["name"], c["function"]["arguments"])
            for c in rec.get("tool_calls") or []
        ]
    assert [t.name for t in req.tools] == [t["function"]["name"] for t in body.get("tools") or []]
    assert [t.parameters for t in req.tools] == [
        t["function"]["parameters"] for t in body.get("tools") or []
    ]
    for name in ("temperature", "top_p", "frequency_penalty", "presence_penalty", "user"):
        assert getattr(req, name) == body.get(name)
    max_tokens = body.get("max_completion_tokens", body.get("max_tokens"))
    assert req.max_tokens == max_tokens
    if isinstance(body.get("tool_choice"), str):
        assert req.tool_choice is not None
        assert req.tool_choice.mode == body["tool_choice"]


_OPENAI_FIELDS = {
    "model",
    "messages",
    "stream",
    "stream_options",
    "max_tokens",
    "max_completion_tokens",
    "temperature",
    "top_p",
    "frequency_penalty",
    "presence_penalty",
    "seed",
    "stop",
    "n",
    "logprobs",
    "top_logprobs",
    "logit_bias",
    "tools",
    "tool_choice",
    "parallel_tool_calls",
    "response_format",
    "reasoning_effort",
    "user",
    "metadata",
    "service_tier",
    "prompt_cache_key",
}


def _quirks_for(body: dict[str, Any]) -> Quirks:
    history = [m for m in body["messages"] if m["role"] == "assistant"]
    field = next((k for m in history for k in ("reasoning_content", "reasoning") if k in m), None)
    return Quirks(
        max_tokens_field="max_completion_tokens"
        if "max_completion_tokens" in body
        else "max_tokens",
        stream_usage=bool((body.get("stream_options") or {}).get("include_usage")),
        pass_extra=frozenset(set(body) - _OPENAI_FIELDS),
        reasoning_field=field,
    )


def _normal_message(m: dict[str, Any]) -> dict[str, Any]:
    # Equivalent spellings: null / "" reasoning, [] tool_calls and absent fields.
    out = {k: v for k, v in m.items() if v is not None and k != "prefix"}
    for key in ("reasoning", "reasoning_content", "tool_calls"):
        if not out.get(key, True):
            del out[key]
    content = out.get("content")
    if isinstance(content, list) and all(
        p.get("type") == "text" and "cache_control" not in p for p in content
    ):
        out["content"] = "".join(p["text"] for p in content)
    if out.get("tool_calls"):  # "index" is a stream-chunk field some clients echo back
        out["tool_calls"] = [
            {k: v for k, v in c.items() if k != "index"} for c in out["tool_calls"]
        ]
    if out["role"] == "assistant":
        out.setdefault("content", None)
        if out.get("tool_calls") and out["content"] == "":
            out["content"] = None
    return out


def _normal_body(body: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in body.items() if v is not None}
    if out.get("stream") is False:
        del out["stream"]
    if out.get("n") == 1:
        del out["n"]
    out["messages"] = [_normal_message(m) for m in out["messages"]]
    if "tools" in out:
        out["tools"] = [{"type": "function", **t} for t in out["tools"]]
    reasoning = out.get("reasoning")
    if isinstance(reasoning, dict) and "effort" in reasoning and reasoning.get("enabled"):
        out["reasoning"] = {k: v for k, v in reasoning.items() if k != "enabled"}
    return out


@pytest.mark.parametrize("ex", params(REQUESTS))
def test_recorded_request_round_trips(ex: Exchange) -> None:
    _skip(ex, SKIP_REQUEST)
    body = ex.request
    _skip(ex, SKIP_ROUND_TRIP)
    req = decode_request(json.dumps(body).encode())
    target = Target(
        provider="p",
        base_url="https://api.example.com/v1",
        model=body["model"],
        api_key="k",
        quirks=_quirks_for(body),
    )
    http = CODEC.encode_request(req, target)
    assert http.url == "https://api.example.com/v1/chat/completions"
    assert http.headers["authorization"] == "Bearer k"
    assert http.stream == bool(body.get("stream"))
    assert _normal_body(json.loads(http.body)) == _normal_body(body)
