"""The OpenAI chat codec: server side (ingress decode, response / stream /
error / embeddings encode, validated against the published OpenAPI document)
and the client-side behaviours the recordings do not cover (quirks, error
body shapes, embeddings)."""

from __future__ import annotations

import base64
import json
import struct
import sys
from typing import Any

import pytest

from _openai_fixtures import (
    CHAT,
    SKIP_REQUEST,
    SKIP_RESPONSE,
    expected_stream,
    params,
    sse_json_frames,
)
from _openapi import validator
from junction.codecs.base import Quirks, Target
from junction.codecs.openai_chat import (
    CODEC,
    PARAMS,
    StreamEncoder,
    decode_embeddings_request,
    decode_request,
    encode_embeddings_response,
    encode_error,
    encode_response,
)
from junction.types import (
    AudioPart,
    ChatRequest,
    ChatResponse,
    Choice,
    FilePart,
    Finish,
    GatewayError,
    ImagePart,
    Message,
    Reasoning,
    RouterChoice,
    StreamEvent,
    StreamStart,
    TextDelta,
    TextPart,
    ThinkingDelta,
    ThinkingPart,
    TokenLogprob,
    ToolCallDelta,
    ToolCallPart,
    ToolResultPart,
    UpstreamError,
    Usage,
    UsageReport,
)
from junction.types.chat import OPTIONAL_PARAMS
from junction.types.embeddings import EmbeddingRequest, EmbeddingResponse

TARGET = Target(
    provider="openai", base_url="https://api.openai.com/v1", model="gpt-4o", api_key="k"
)


def _body(**fields: Any) -> bytes:
    base: dict[str, Any] = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}
    base.update(fields)
    return json.dumps(base).encode()


def _error_body(message: str, type_: str, param: str | None, code: str | None) -> bytes:
    error = {"message": message, "type": type_, "param": param, "code": code}
    return json.dumps({"error": error}).encode()


def _validate(name: str, instance: Any) -> None:
    errors = sorted(validator(name).iter_errors(instance), key=lambda e: list(e.path))
    assert not errors, [f"{list(e.path)}: {e.message}" for e in errors[:5]]


# --- decode_request ------------------------------------------------------------------


def test_decode_request_parts_and_roles() -> None:
    body = _body(
        messages=[
            {"role": "developer", "content": "be brief"},
            {
                "role": "user",
                "name": "ann",
                "content": [
                    {"type": "text", "text": "look", "cache_control": {"type": "ephemeral"}},
                    {"type": "image_url", "image_url": {"url": "https://x/a.png", "detail": "low"}},
                    {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBO"}},
                    {"type": "input_audio", "input_audio": {"data": "UklG", "format": "wav"}},
                    {
                        "type": "file",
                        "file": {
                            "file_data": "data:application/pdf;base64,JVBE",
                            "filename": "a.pdf",
                        },
                    },
                    {"type": "file", "file": {"file_id": "file-1"}},
                ],
            },
            {
                "role": "assistant",
                "content": "calling",
                "reasoning": "I should call f",
                "tool_calls": [
                    {
                        "id": "c1",
                        "type": "function",
                        "function": {"name": "f", "arguments": '{"a":1}'},
                    }
                ],
            },
            {"role": "tool", "tool_call_id": "c1", "content": [{"type": "text", "text": "42"}]},
        ]
    )
    req = decode_request(body)
    dev, user, asst, tool = req.messages
    assert dev.role == "developer"
    assert dev.content == [TextPart(text="be brief")]
    assert user.name == "ann"
    text, url_img, data_img, audio, pdf, by_id = user.content
    assert isinstance(text, TextPart)
    assert text.cache_control is not None
    assert text.cache_control.type == "ephemeral"
    assert url_img == ImagePart(url="https://x/a.png", detail="low")
    assert data_img == ImagePart(data="iVBO", media_type="image/png")
    assert audio == AudioPart(data="UklG", format="wav")
    assert pdf == FilePart(data="JVBE", media_type="application/pdf", filename="a.pdf")
    assert by_id == FilePart(file_id="file-1")
    assert asst.content == [
        ThinkingPart(text="I should call f"),
        TextPart(text="calling"),
        ToolCallPart(id="c1", name="f", arguments='{"a":1}'),
    ]
    assert tool.role == "tool"
    assert tool.content == [ToolResultPart(tool_call_id="c1", content=[TextPart(text="42")])]


def test_decode_request_parameters() -> None:
    req = decode_request(
        _body(
            max_tokens=10,
            max_completion_tokens=20,
            temperature=0.5,
            top_p=0.9,
            n=2,
            stop="END",
            seed=7,
            logprobs=True,
            top_logprobs=3,
            logit_bias={"50256": -100},
            presence_penalty=0.1,
            frequency_penalty=0.2,
            user="u1",
            metadata={"k": "v"},
            service_tier="flex",
            prompt_cache_key="pck",
            stream=True,
            stream_options={"include_usage": True},
            top_k=40,
            repetition_penalty=1.1,
            parallel_tool_calls=False,
            reasoning_effort="low",
            cache_control={"type": "ephemeral", "ttl": "1h"},
            provider={"only": ["groq"]},
            models=["a", "b"],
            transforms=["middle-out"],
        )
    )
    assert req.max_tokens == 20  # max_completion_tokens wins
    assert (req.temperature, req.top_p, req.n, req.stop, req.seed) == (0.5, 0.9, 2, ["END"], 7)
    assert req.logprobs
    assert req.top_logprobs == 3
    assert req.logit_bias == {"50256": -100.0}
    assert (req.presence_penalty, req.frequency_penalty) == (0.1, 0.2)
    assert (req.user, req.metadata, req.service_tier) == ("u1", {"k": "v"}, "flex")
    assert req.prompt_cache_key == "pck"
    assert req.stream
    assert req.include_usage
    assert (req.top_k, req.repetition_penalty) == (40, 1.1)
    assert req.parallel_tool_calls is False
    assert req.reasoning == Reasoning(enabled=True, effort="low")
    assert req.cache_control is not None
    assert req.cache_control.ttl == "1h"
    assert req.extra == {
        "provider": {"only": ["groq"]},
        "models": ["a", "b"],
        "transforms": ["middle-out"],
    }


def test_decode_request_tools_and_formats() -> None:
    tools = [
        {
            "type": "function",
            "function": {
                "name": "f",
                "description": "d",
                "parameters": {"type": "object", "properties": {"x": {"type": "string"}}},
                "strict": True,
            },
        },
        {"type": "function", "function": {"name": "g"}},
    ]
    schema = {"type": "object", "properties": {"city": {"type": "string"}}}
    req = decode_request(
        _body(
            tools=tools,
            tool_choice={"type": "function", "function": {"name": "f"}},
            response_format={
                "type": "json_schema",
                "json_schema": {"name": "r", "schema": schema, "strict": True, "description": "dd"},
            },
        )
    )
    assert [t.name for t in req.tools] == ["f", "g"]
    assert req.tools[0].parameters == tools[0]["function"]["parameters"]
    assert req.tools[0].strict is True
    assert req.tools[1].parameters == {"type": "object", "properties": {}}
    assert req.tool_choice is not None
    assert (req.tool_choice.mode, req.tool_choice.name) == ("tool", "f")
    fmt = req.response_format
    assert fmt is not None
    assert (fmt.type, fmt.name, fmt.schema, fmt.strict, fmt.description) == (
        "json_schema",
        "r",
        schema,
        True,
        "dd",
    )
    for mode in ("auto", "none", "required"):
        choice = decode_request(_body(tool_choice=mode)).tool_choice
        assert choice is not None
        assert choice.mode == mode
    fmt = decode_request(_body(response_format={"type": "json_object"})).response_format
    assert fmt is not None
    assert fmt.type == "json_object"


def test_decode_request_openrouter_reasoning() -> None:
    req = decode_request(_body(reasoning={"effort": "high", "exclude": True}))
    assert req.reasoning == Reasoning(enabled=True, effort="high", exclude=True)
    req = decode_request(_body(reasoning={"max_tokens": 2000}))
    assert req.reasoning == Reasoning(enabled=True, max_tokens=2000)
    req = decode_request(_body(reasoning={"enabled": False}))
    assert req.reasoning is not None
    assert not req.reasoning.enabled
    req = decode_request(_body(reasoning_effort="none"))
    assert req.reasoning == Reasoning(enabled=False, effort="none")


BAD_REQUESTS = [
    (b'{"model": "x", "messages": [', "not valid JSON", None),
    (b"[1, 2]", "Expected `object`, got `array`", None),
    (
        b'{"model": "x", "messages": "hi"}',
        "Expected `array`, got `str` - at `$.messages`",
        "messages",
    ),
    (b'{"model": "x"}', "no `messages`", "messages"),
    (b'{"messages": [{"role": "user", "content": "hi"}]}', "no `model`", "model"),
    (b'{"model": "x", "messages": []}', "`messages` is empty", "messages"),
    (
        _body(messages=[{"role": "bot", "content": "x"}]),
        "role 'bot' is not valid",
        "messages[0].role",
    ),
    (
        _body(messages=[{"role": "function", "name": "f", "content": "x"}]),
        "legacy 'function' role",
        "messages[0].role",
    ),
    (_body(messages=[{"content": "x"}]), "missing required field `role`", "messages[0]"),
    (_body(messages=[{"role": "user"}]), "needs `content`", "messages[0].content"),
    (
        _body(messages=[{"role": "tool", "content": "x"}]),
        "tool_call_id",
        "messages[0].tool_call_id",
    ),
    (
        _body(messages=[{"role": "user", "content": [{"type": "video_url"}]}]),
        "'video_url' is not supported",
        "messages[0].content[0].type",
    ),
    (
        _body(
            messages=[
                {"role": "system", "content": [{"type": "image_url", "image_url": {"url": "u"}}]}
            ]
        ),
        "not supported in a system message",
        "messages[0].content[0].type",
    ),
    (
        _body(messages=[{"role": "user", "content": [{"type": "text", "text": 5}]}]),
        "got `int` - at `$.messages[0].content[0].text`",
        "messages[0].content[0].text",
    ),
    (_body(temperature="hot"), "got `str` - at `$.temperature`", "temperature"),
    (_body(n=0), "`n` must be at least 1", "n"),
    (_body(tool_choice="sometimes"), "`tool_choice` 'sometimes' is not valid", "tool_choice"),
    (_body(tool_choice={"type": "allowed_tools"}), "not supported", "tool_choice"),
    (
        _body(tools=[{"type": "openrouter:web_search", "parameters": {}}]),
        "Tool type 'openrouter:web_search'",
        "tools[0]",
    ),
    (_body(response_format={"type": "yaml"}), "'yaml' is not valid", "response_format.type"),
    (
        _body(response_format={"type": "json_schema"}),
        "needs `json_schema.schema`",
        "response_format.json_schema",
    ),
    (_body(reasoning_effort="huge"), "'huge' is not valid", "reasoning_effort"),
    (_body(functions=[{"name": "f"}]), "use `tools` instead", "functions"),
]


@pytest.mark.parametrize(("body", "message", "param"), BAD_REQUESTS)
def test_bad_requests_are_clear_400s(body: bytes, message: str, param: str | None) -> None:
    with pytest.raises(GatewayError) as info:
        decode_request(body)
    err = info.value
    assert err.kind == "invalid_request"
    assert err.status == 400
    assert message in err.message
    assert err.param == param


SERVER_TOOL_REQUESTS = [x for x in CHAT if "openrouter:" in json.dumps(x.request.get("tools"))]


@pytest.mark.parametrize("ex", params(SERVER_TOOL_REQUESTS))
def test_recorded_server_tools_are_refused(ex: Any) -> None:
    assert ex.key in SKIP_REQUEST
    with pytest.raises(GatewayError) as info:
        decode_request(json.dumps(ex.request).encode())
    assert info.value.param is not None
    assert info.value.param.startswith("tools[")


# --- encode_response ---------------------------------------------------------------------


def _response(**kw: Any) -> ChatResponse:
    message = Message(
        role="assistant",
        content=[
            ThinkingPart(text="hmm"),
            TextPart(text="Hello"),
            ToolCallPart(id="call_1", name="f", arguments='{"x": 1}'),
        ],
    )
    choice = Choice(
        index=0,
        message=message,
        finish_reason="tool_calls",
        native_finish_reason="tool_use",
        logprobs=[
            TokenLogprob(
                token="He",
                logprob=-0.1,
                bytes=[72, 101],
                top_logprobs=[TokenLogprob(token="Hi", logprob=-2.0)],
            )
        ],
    )
    usage = Usage(
        prompt_tokens=10,
        completion_tokens=5,
        cached_tokens=4,
        cache_write_tokens=2,
        reasoning_tokens=3,
        cost=0.0012,
    )
    fields: dict[str, Any] = {
        "id": "chatcmpl-1",
        "model": "gpt-4o",
        "choices": [choice],
        "usage": usage,
        "created": 1700000000,
        "provider": "openai",
        "system_fingerprint": "fp_1",
    }
    fields.update(kw)
    return ChatResponse(**fields)


def test_encode_response_shape_and_schema() -> None:
    out = json.loads(encode_response(_response()))
    _validate("CreateChatCompletionResponse", out)
    assert out["object"] == "chat.completion"
    assert (out["id"], out["model"], out["created"]) == ("chatcmpl-1", "gpt-4o", 1700000000)
    assert out["provider"] == "openai"
    assert out["system_fingerprint"] == "fp_1"
    (choice,) = out["choices"]
    assert choice["finish_reason"] == "tool_calls"
    assert choice["native_finish_reason"] == "tool_use"
    msg = choice["message"]
    assert msg["role"] == "assistant"
    assert msg["content"] == "Hello"
    assert msg["refusal"] is None
    assert msg["reasoning"] == "hmm"
    assert msg["tool_calls"] == [
        {"id": "call_1", "type": "function", "function": {"name": "f", "arguments": '{"x": 1}'}}
    ]
    assert choice["logprobs"]["content"][0]["token"] == "He"
    assert choice["logprobs"]["content"][0]["top_logprobs"][0]["token"] == "Hi"
    usage = out["usage"]
    assert (usage["prompt_tokens"], usage["completion_tokens"], usage["total_tokens"]) == (
        10,
        5,
        15,
    )
    assert usage["prompt_tokens_details"]["cached_tokens"] == 4
    assert usage["prompt_tokens_details"]["cache_write_tokens"] == 2
    assert usage["completion_tokens_details"]["reasoning_tokens"] == 3
    assert usage["cost"] == 0.0012


def test_encode_response_minimal() -> None:
    resp = ChatResponse(
        id="x",
        model="m",
        choices=[
            Choice(
                index=0, message=Message(role="assistant", content=[ToolCallPart(id="c", name="f")])
            )
        ],
        usage=Usage(prompt_tokens=1),
    )
    out = json.loads(encode_response(resp))
    _validate("CreateChatCompletionResponse", out)
    msg = out["choices"][0]["message"]
    assert msg["content"] is None
    assert "reasoning" not in msg
    assert "provider" not in out
    assert "cost" not in out["usage"]
    assert out["choices"][0]["logprobs"] is None
    assert out["created"] > 1_600_000_000


JSON_OK = [x for x in CHAT if x.status == 200 and x.raw is None and x.key not in SKIP_RESPONSE]


@pytest.mark.parametrize("ex", params(JSON_OK))
def test_recorded_responses_reencode_to_valid_openai(ex: Any) -> None:
    resp = CODEC.decode_response(ex.body_bytes(), Target(provider="p", base_url="u", model="m"))
    out = json.loads(encode_response(resp))
    _validate("CreateChatCompletionResponse", out)
    for mine, rec in zip(out["choices"], ex.parsed["choices"], strict=True):
        rec_calls = rec["message"].get("tool_calls") or []
        assert [c["function"]["name"] for c in mine["message"].get("tool_calls") or []] == [
            c["function"]["name"] for c in rec_calls
        ]
    assert out["usage"]["prompt_tokens"] == ex.parsed["usage"]["prompt_tokens"]


# --- StreamEncoder --------------------------------------------------------------------------


def _events() -> list[StreamEvent]:
    return [
        StreamStart(id="chatcmpl-9", model="gpt-4o", created=1700000000, provider="openai"),
        ThinkingDelta(text="let me think"),
        TextDelta(text="Hel"),
        TextDelta(text="lo"),
        ToolCallDelta(call_index=0, id="call_a", name="get_weather", arguments=""),
        ToolCallDelta(call_index=0, arguments='{"city":'),
        ToolCallDelta(call_index=0, arguments='"Paris"}'),
        ToolCallDelta(call_index=1, id="call_b", name="get_time", arguments="{}"),
        Finish(reason="tool_calls", native="tool_use"),
        UsageReport(usage=Usage(prompt_tokens=12, completion_tokens=9, cached_tokens=2)),
    ]


def _encode_stream(events: list[StreamEvent], include_usage: bool) -> bytes:
    enc = StreamEncoder(include_usage=include_usage)
    return b"".join(enc.encode(e) for e in events) + enc.finish()


def test_stream_encoder_chunks_validate_and_carry_everything() -> None:
    frames = sse_json_frames(_encode_stream(_events(), include_usage=True))
    assert frames[-1] == "[DONE]"
    chunks = frames[:-1]
    for chunk in chunks:
        _validate("CreateChatCompletionStreamResponse", chunk)
        assert (chunk["id"], chunk["object"], chunk["created"], chunk["model"]) == (
            "chatcmpl-9",
            "chat.completion.chunk",
            1700000000,
            "gpt-4o",
        )
    deltas = [c["choices"][0]["delta"] for c in chunks if c["choices"]]
    assert deltas[0]["role"] == "assistant"
    assert all("role" not in d for d in deltas[1:])
    assert deltas[0]["reasoning"] == "let me think"
    assert "".join(d.get("content") or "" for d in deltas) == "Hello"
    calls = [tc for d in deltas for tc in d.get("tool_calls", [])]
    assert calls[0] == {
        "index": 0,
        "id": "call_a",
        "type": "function",
        "function": {"name": "get_weather", "arguments": ""},
    }
    assert (
        "".join(tc["function"].get("arguments", "") for tc in calls if tc["index"] == 0)
        == '{"city":"Paris"}'
    )
    assert all("id" not in tc for tc in calls[1:3])
    assert calls[3]["id"] == "call_b"
    assert calls[3]["function"]["name"] == "get_time"
    finish = chunks[-2]["choices"][0]
    assert finish["delta"] == {}
    assert (finish["finish_reason"], finish["native_finish_reason"]) == ("tool_calls", "tool_use")
    last = chunks[-1]
    assert last["choices"] == []
    assert last["usage"]["prompt_tokens"] == 12
    assert last["usage"]["total_tokens"] == 21
    assert last["usage"]["prompt_tokens_details"]["cached_tokens"] == 2


def test_stream_encoder_without_usage() -> None:
    frames = sse_json_frames(_encode_stream(_events(), include_usage=False))
    assert frames[-1] == "[DONE]"
    assert all(f["choices"] for f in frames[:-1])
    assert all("usage" not in f for f in frames[:-1])


def test_stream_encoder_role_on_finish_only_stream_and_per_choice() -> None:
    events: list[StreamEvent] = [
        StreamStart(id="c", model="m"),
        TextDelta(text="a", index=0),
        TextDelta(text="b", index=1),
        Finish(reason="stop", index=1),
        Finish(reason="length", index=0),
    ]
    frames = sse_json_frames(_encode_stream(events, include_usage=True))
    first = {f["choices"][0]["index"]: f["choices"][0]["delta"] for f in reversed(frames[:-1])}
    assert first[0]["role"] == "assistant"
    assert first[1]["role"] == "assistant"
    assert frames[-1] == "[DONE]"
    for chunk in frames[:-1]:
        _validate("CreateChatCompletionStreamResponse", chunk)


def test_stream_encoder_error_is_openrouter_mid_stream_form() -> None:
    enc = StreamEncoder(include_usage=True)
    enc.encode(StreamStart(id="gen-1", model="m", created=5))
    enc.encode(TextDelta(text="partial"))
    err = UpstreamError("overloaded", "upstream overloaded", provider="p", code="overloaded")
    frames = sse_json_frames(enc.error(err) + enc.finish())
    chunk, done = frames
    assert done == "[DONE]"
    assert chunk["id"] == "gen-1"
    assert chunk["object"] == "chat.completion.chunk"
    assert chunk["error"] == {
        "message": "upstream overloaded",
        "type": "server_error",
        "param": None,
        "code": "overloaded",
    }
    assert chunk["choices"] == [{"index": 0, "delta": {"content": ""}, "finish_reason": "error"}]


def test_stream_encoder_text_frames_are_exact_bytes() -> None:
    """Text frames after a choice's first are written from a per-choice
    template: the bytes must be what the encoder writes for any frame, for
    text JSON must escape, per choice, and anew after a second start."""
    enc = StreamEncoder(include_usage=False)
    head = b'data: {"id":"c","created":5,"model":"m","choices":[{"index":'
    tail = b'},"finish_reason":null}],"object":"chat.completion.chunk","provider":"p"}\n\n'
    events: list[StreamEvent] = [
        StreamStart(id="c", model="m", created=5, provider="p"),
        TextDelta(text="a"),
        TextDelta(text='q"\\\n\x00\u00e9\U0001f600'),
        TextDelta(text="x", index=1),
        TextDelta(text="y", index=1),
        TextDelta(text="b"),
    ]
    assert [enc.encode(e) for e in events] == [
        b"",
        head + b'0,"delta":{"role":"assistant","content":"a"' + tail,
        head + b'0,"delta":{"content":"q\\"\\\\\\n\\u0000\xc3\xa9\xf0\x9f\x98\x80"' + tail,
        head + b'1,"delta":{"role":"assistant","content":"x"' + tail,
        head + b'1,"delta":{"content":"y"' + tail,
        head + b'0,"delta":{"content":"b"' + tail,
    ]
    router = RouterChoice(name="junction/auto", model="small", score=0.25)
    enc.encode(StreamStart(id="d", model="n", created=6, router=router))
    after = [json.loads(enc.encode(TextDelta(text=t))[6:]) for t in ("c", "d")]
    assert [(f["id"], f["model"], f["created"]) for f in after] == [("d", "n", 6)] * 2
    assert "provider" not in after[0]
    assert after[0]["router"]["model"] == "small"
    assert "router" not in after[1]
    assert [f["choices"][0]["delta"] for f in after] == [{"content": "c"}, {"content": "d"}]


def test_stream_encoder_text_frames_with_the_template_mark_in_the_model() -> None:
    mark = "\x00junction-text\x00"
    enc = StreamEncoder(include_usage=False)
    enc.encode(StreamStart(id=mark, model=mark, created=5))
    frames = [json.loads(enc.encode(TextDelta(text=t))[6:]) for t in ("a", "b", "c")]
    assert [(f["id"], f["model"]) for f in frames] == [(mark, mark)] * 3
    assert [f["choices"][0]["delta"].get("content") for f in frames] == ["a", "b", "c"]


STREAM_OK = [x for x in CHAT if x.status == 200 and x.is_stream]


@pytest.mark.parametrize("ex", params(STREAM_OK))
def test_recorded_streams_reencode_to_valid_chunks(ex: Any) -> None:
    exp = expected_stream(ex.raw)
    if exp.error is not None:
        pytest.skip("the recording ends in a provider error (covered by the decode tests)")
    decoder = CODEC.stream_decoder(Target(provider="p", base_url="u", model="m"))
    events = decoder.feed(ex.body_bytes()) + decoder.close()
    frames = sse_json_frames(_encode_stream(events, include_usage=True))
    assert frames[-1] == "[DONE]"
    text = ""
    for chunk in frames[:-1]:
        _validate("CreateChatCompletionStreamResponse", chunk)
        for c in chunk["choices"]:
            text += c["delta"].get("content") or ""
    assert text == "".join(exp.text.values())
    if exp.prompt_tokens is not None:
        assert frames[-2]["usage"]["prompt_tokens"] == exp.prompt_tokens


# --- encode_error ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "type_"),
    [
        ("invalid_request", "invalid_request_error"),
        ("authentication", "authentication_error"),
        ("permission_denied", "permission_error"),
        ("not_found", "not_found_error"),
        ("rate_limit", "rate_limit_error"),
        ("server", "server_error"),
        ("context_length_exceeded", "invalid_request_error"),
    ],
)
def test_encode_error(kind: Any, type_: str) -> None:
    out = json.loads(encode_error(GatewayError(kind, "what went wrong", param="messages")))
    _validate("ErrorResponse", out)
    assert out == {
        "error": {"message": "what went wrong", "type": type_, "param": "messages", "code": kind}
    }
    coded = json.loads(encode_error(GatewayError(kind, "m", code="model_not_found")))
    assert coded["error"]["code"] == "model_not_found"
    assert coded["error"]["param"] is None


# --- embeddings ------------------------------------------------------------------------------


def test_decode_embeddings_request_inputs() -> None:
    one = decode_embeddings_request(b'{"model": "e", "input": "hello"}')
    assert (one.model, one.input, one.encoding_format) == ("e", ["hello"], "float")
    many = decode_embeddings_request(
        json.dumps(
            {
                "model": "e",
                "input": ["a", "b"],
                "dimensions": 256,
                "encoding_format": "base64",
                "user": "u",
            }
        ).encode()
    )
    assert (many.input, many.dimensions, many.encoding_format, many.user) == (
        ["a", "b"],
        256,
        "base64",
        "u",
    )
    assert decode_embeddings_request(b'{"model": "e", "input": [1, 2, 3]}').input == [[1, 2, 3]]
    assert decode_embeddings_request(b'{"model": "e", "input": [[1], [2, 3]]}').input == [
        [1],
        [2, 3],
    ]


@pytest.mark.parametrize(
    ("body", "param"),
    [
        (b'{"input": "x"}', "model"),
        (b'{"model": "e"}', "input"),
        (b'{"model": "e", "input": []}', "input"),
        (b'{"model": "e", "input": ["a", 1]}', "input"),
        (b'{"model": "e", "input": 5}', "input"),
        (b'{"model": "e", "input": "x", "encoding_format": "int8"}', "encoding_format"),
        (b'{"model": "e", "input": "x", "dimensions": 0}', "dimensions"),
        (b"{", None),
    ],
)
def test_bad_embeddings_requests(body: bytes, param: str | None) -> None:
    with pytest.raises(GatewayError) as info:
        decode_embeddings_request(body)
    assert info.value.kind == "invalid_request"
    assert info.value.param == param


VECTORS = [[0.5, -1.25, 3.0], [0.0, 2.5, -0.125]]  # exactly representable in float32


def test_encode_embeddings_response_float_and_base64() -> None:
    resp = EmbeddingResponse(model="e", data=VECTORS, usage=Usage(prompt_tokens=7))
    out = json.loads(encode_embeddings_response(resp, "float"))
    _validate("CreateEmbeddingResponse", out)
    assert out["object"] == "list"
    assert out["model"] == "e"
    assert [d["embedding"] for d in out["data"]] == VECTORS
    assert [(d["object"], d["index"]) for d in out["data"]] == [("embedding", 0), ("embedding", 1)]
    assert out["usage"] == {"prompt_tokens": 7, "total_tokens": 7}
    packed = json.loads(encode_embeddings_response(resp, "base64"))
    for d, vector in zip(packed["data"], VECTORS, strict=True):
        raw = base64.b64decode(d["embedding"])
        assert list(struct.unpack("<3f", raw)) == vector
    assert sys.byteorder in ("little", "big")


def test_client_embeddings_round_trip() -> None:
    http = CODEC.encode_embeddings(
        EmbeddingRequest(model="alias", input=["a"], dimensions=8, encoding_format="base64"), TARGET
    )
    assert http.url == "https://api.openai.com/v1/embeddings"
    assert json.loads(http.body) == {
        "model": "gpt-4o",
        "input": ["a"],
        "dimensions": 8,
        "encoding_format": "base64",
    }
    b64 = base64.b64encode(struct.pack("<3f", *VECTORS[0])).decode()
    body = {
        "object": "list",
        "model": "text-embedding-3-small",
        "data": [
            {"object": "embedding", "index": 1, "embedding": VECTORS[1]},
            {"object": "embedding", "index": 0, "embedding": b64},
        ],
        "usage": {"prompt_tokens": 3, "total_tokens": 3},
    }
    resp = CODEC.decode_embeddings(json.dumps(body).encode(), TARGET)
    assert resp.data == VECTORS
    assert resp.usage.prompt_tokens == 3
    assert resp.provider == "openai"


# --- client: encode_request quirks ---------------------------------------------------------------


def _encode(req: ChatRequest, **quirks: Any) -> dict[str, Any]:
    target = Target(
        provider="v",
        base_url="https://v.example/v1/",
        model="up-model",
        api_key="k",
        quirks=Quirks(**quirks),
    )
    http = CODEC.encode_request(req, target)
    assert http.url == "https://v.example/v1/chat/completions"
    body: dict[str, Any] = json.loads(http.body)
    return body


def _history() -> list[Message]:
    return [
        Message(
            role="user",
            content=[TextPart(text="hi"), ImagePart(data="AAAA", media_type="image/png")],
        ),
        Message(
            role="assistant",
            content=[
                ThinkingPart(text="secret", signature="sig"),
                TextPart(text="ok"),
                ToolCallPart(id="c1", name="shot"),
            ],
        ),
        Message(
            role="tool",
            content=[
                ToolResultPart(
                    tool_call_id="c1",
                    content=[TextPart(text="see image"), ImagePart(url="https://x/i.png")],
                )
            ],
        ),
    ]


def test_encode_request_messages() -> None:
    body = _encode(ChatRequest(model="alias", messages=_history()))
    assert body["model"] == "up-model"
    user, asst, tool, attach = body["messages"]
    assert user["content"][1] == {
        "type": "image_url",
        "image_url": {"url": "data:image/png;base64,AAAA"},
    }
    assert asst == {
        "role": "assistant",
        "content": "ok",
        "tool_calls": [
            {"id": "c1", "type": "function", "function": {"name": "shot", "arguments": "{}"}}
        ],
    }
    assert tool == {"role": "tool", "tool_call_id": "c1", "content": "see image"}
    assert attach["role"] == "user"
    assert attach["content"][1] == {"type": "image_url", "image_url": {"url": "https://x/i.png"}}
    back = _encode(ChatRequest(model="a", messages=_history()), reasoning_field="reasoning_content")
    assert back["messages"][1]["reasoning_content"] == "secret"


def test_encode_request_quirks() -> None:
    req = ChatRequest(
        model="a",
        messages=[Message(role="user", content=[TextPart(text="hi")])],
        stream=True,
        max_tokens=50,
        top_k=5,
        repetition_penalty=1.2,
        reasoning=Reasoning(effort="max"),
        extra={"provider": {"sort": "price"}, "other": 1},
    )
    plain = _encode(req)
    assert plain["max_tokens"] == 50
    assert plain["stream"] is True
    assert plain["stream_options"] == {"include_usage": True}
    assert plain["reasoning_effort"] == "xhigh"
    assert not {"top_k", "repetition_penalty", "provider", "other", "reasoning"} & set(plain)
    vendor = _encode(
        req,
        max_tokens_field="max_completion_tokens",
        stream_usage=False,
        pass_extra=frozenset({"provider", "top_k", "reasoning"}),
    )
    assert vendor["max_completion_tokens"] == 50
    assert "max_tokens" not in vendor
    assert "stream_options" not in vendor
    assert vendor["provider"] == {"sort": "price"}
    assert vendor["top_k"] == 5
    assert "other" not in vendor
    assert "repetition_penalty" not in vendor
    assert vendor["reasoning"] == {"effort": "max"}
    assert "reasoning_effort" not in vendor


def test_encode_request_auth_schemes() -> None:
    req = ChatRequest(model="a", messages=[Message(role="user", content=[TextPart(text="x")])])
    azure = Target(
        provider="az",
        base_url="https://az/v1",
        model="m",
        api_key="k",
        quirks=Quirks(auth="api-key"),
        headers={"x-extra": "1"},
    )
    http = CODEC.encode_request(req, azure)
    assert http.headers["api-key"] == "k"
    assert "authorization" not in http.headers
    assert http.headers["x-extra"] == "1"
    assert http.method == "POST"
    assert not http.stream
    local = Target(provider="ollama", base_url="http://localhost:11434/v1", model="m")
    assert "authorization" not in CODEC.encode_request(req, local).headers


def test_params_table() -> None:
    assert set(PARAMS) <= set(OPTIONAL_PARAMS)
    assert "top_k" not in PARAMS
    assert "repetition_penalty" not in PARAMS
    assert PARAMS["reasoning"] == "translated"
    assert set(PARAMS.values()) <= {"native", "translated"}


# --- client: responses, streams and errors not in the recordings ------------------------------


@pytest.mark.parametrize(
    ("native", "reason"),
    [
        ("stop", "stop"),
        ("length", "length"),
        ("tool_calls", "tool_calls"),
        ("content_filter", "content_filter"),
        ("function_call", "tool_calls"),
        ("eos", "stop"),
        ("model_length", "length"),
        ("insufficient_system_resource", "error"),
        ("error", "error"),
        ("something_new", "stop"),
    ],
)
def test_finish_reasons_normalised(native: str, reason: str) -> None:
    body = {
        "id": "x",
        "model": "m",
        "created": 1,
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": "t"}, "finish_reason": native}
        ],
    }
    resp = CODEC.decode_response(json.dumps(body).encode(), TARGET)
    assert resp.choices[0].finish_reason == reason
    assert resp.choices[0].native_finish_reason == native
    chunk = {
        "id": "x",
        "model": "m",
        "choices": [{"index": 0, "delta": {}, "finish_reason": native}],
    }
    decoder = CODEC.stream_decoder(TARGET)
    events = decoder.feed(f"data: {json.dumps(chunk)}\n\n".encode()) + decoder.close()
    assert events[-1] == Finish(reason=reason, native=native)  # type: ignore[arg-type]


def test_decode_usage_details_and_cost() -> None:
    body = {
        "id": "x",
        "model": "m",
        "choices": [{"index": 0, "message": {"content": "t"}, "finish_reason": "stop"}],
        "usage": {
            "prompt_tokens": 100,
            "completion_tokens": 20,
            "total_tokens": 120,
            "prompt_tokens_details": {"cached_tokens": 60, "cache_write_tokens": 30},
            "completion_tokens_details": {"reasoning_tokens": 15},
            "cost": 0.5,
        },
    }
    usage = CODEC.decode_response(json.dumps(body).encode(), TARGET).usage
    assert usage == Usage(
        prompt_tokens=100,
        completion_tokens=20,
        cached_tokens=60,
        cache_write_tokens=30,
        reasoning_tokens=15,
        cost=0.5,
    )


def test_stream_error_chunk_and_missing_tool_ids() -> None:
    decoder = CODEC.stream_decoder(TARGET)
    first = {
        "id": "x",
        "model": "m",
        "choices": [
            {
                "index": 0,
                "delta": {
                    "tool_calls": [{"index": 0, "function": {"name": "f", "arguments": "{"}}]
                },
            }
        ],
    }
    events = decoder.feed(f"data: {json.dumps(first)}\n\n".encode())
    call = events[1]
    assert isinstance(call, ToolCallDelta)
    assert call.id
    assert call.name == "f"
    assert call.arguments == "{"
    bad = {"id": "x", "error": {"code": 502, "message": "upstream died"}, "choices": []}
    with pytest.raises(UpstreamError) as info:
        decoder.feed(f"data: {json.dumps(bad)}\n\n".encode())
    assert "upstream died" in info.value.message
    assert info.value.upstream_status == 502


@pytest.mark.parametrize(
    ("body", "status", "kind", "text"),
    [
        (
            b'[{"error": {"code": 400, "message": "bad thing", "status": "INVALID_ARGUMENT"}}]',
            400,
            "invalid_request",
            "bad thing",
        ),
        (b'{"error": "plain string error"}', 500, "server", "plain string error"),
        (b'"just a string"', 403, "permission_denied", "just a string"),
        (
            b"<html><body><h1>502 Bad Gateway</h1></body></html>",
            502,
            "provider_unavailable",
            "502 Bad Gateway",
        ),
        (b"", 503, "overloaded", "HTTP 503"),
        (
            json.dumps(
                {
                    "object": "error",
                    "message": "Mistral style",
                    "type": "invalid_request_error",
                    "code": "3280",
                }
            ).encode(),
            422,
            "invalid_request",
            "Mistral style",
        ),
        (b'{"detail": "Not authenticated"}', 401, "authentication", "Not authenticated"),
        (
            _error_body("too long", "invalid_request_error", "messages", "context_length_exceeded"),
            400,
            "context_length_exceeded",
            "too long",
        ),
    ],
)
def test_decode_error_shapes(body: bytes, status: int, kind: str, text: str) -> None:
    err = CODEC.decode_error(status, {}, body, TARGET)
    assert err.kind == kind
    assert err.upstream_status == status
    assert text in err.message
    assert err.provider == "openai"


def test_decode_error_retry_after() -> None:
    body = _error_body("slow down", "rate_limit_error", None, "rate_limit_exceeded")
    err = CODEC.decode_error(429, {"Retry-After": "7"}, body, TARGET)
    assert err.retry_after == 7.0
    assert err.retryable
    assert err.code == "rate_limit_exceeded"
    err = CODEC.decode_error(429, {"retry-after-ms": "1500", "retry-after": "9"}, body, TARGET)
    assert err.retry_after == 1.5
    assert CODEC.decode_error(429, {"retry-after": "soon"}, body, TARGET).retry_after is None
    far = CODEC.decode_error(429, {"retry-after": "Wed, 21 Oct 2099 07:28:00 GMT"}, body, TARGET)
    assert far.retry_after is not None
    assert far.retry_after > 1e8
