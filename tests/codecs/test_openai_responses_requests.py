"""Responses request bodies: the server side decodes what real clients sent
(recorded), refuses what a stateless, function-tools-only gateway cannot do,
and the client side writes the same conversation back."""

from __future__ import annotations

import json
from typing import Any

import pytest

from _responses_fixtures import (
    EXCHANGES,
    Exchange,
    normal_input,
    normal_settings,
    params,
    refusals,
)
from junction.codecs.base import Target
from junction.codecs.openai_responses import CODEC, decode_request, encode_body
from junction.types import (
    ChatRequest,
    FilePart,
    GatewayError,
    ImagePart,
    Message,
    TextPart,
    ThinkingPart,
    Tool,
    ToolCallPart,
    ToolChoice,
    ToolResultPart,
)

TARGET = Target(provider="openai", base_url="https://api.openai.com/v1", model="gpt-5", api_key="k")
ACCEPTED = [x for x in EXCHANGES if not refusals(x.request)]
REFUSED = [x for x in EXCHANGES if refusals(x.request)]


def _decode(body: dict[str, Any]) -> ChatRequest:
    return decode_request(json.dumps(body).encode())


@pytest.mark.parametrize("ex", params(REFUSED))
def test_stateful_or_builtin_requests_are_refused(ex: Exchange) -> None:
    with pytest.raises(GatewayError) as info:
        _decode(ex.request)
    assert info.value.status == 400
    assert info.value.param in refusals(ex.request)


@pytest.mark.parametrize("ex", params(ACCEPTED))
def test_recorded_request_round_trips(ex: Exchange) -> None:
    request = _decode(ex.request)
    assert request.model == ex.request["model"]
    assert request.stream is bool(ex.request.get("stream"))
    body = encode_body(request, TARGET)
    assert body["store"] is False
    assert body["model"] == "gpt-5"
    assert normal_input(body) == normal_input(ex.request)
    assert normal_settings(body) == normal_settings(ex.request)
    assert not any("id" in item for item in body["input"]), "no item ids with store: false"


def test_recordings_cover_both_outcomes() -> None:
    if not EXCHANGES:
        pytest.skip("no recorded fixtures")
    assert len(ACCEPTED) > 40
    kinds = set().union(*(refusals(x.request) for x in REFUSED))
    assert "previous_response_id" in kinds
    assert any(k and k.startswith("tools[") for k in kinds)


def test_decoded_conversation_shape() -> None:
    body = {
        "model": "gpt-5",
        "instructions": "Be brief.",
        "input": [
            {"role": "user", "content": [{"type": "input_text", "text": "hi"}]},
            {
                "type": "reasoning",
                "id": "rs_1",
                "summary": [{"type": "summary_text", "text": "think"}],
                "encrypted_content": "ENC",
            },
            {
                "type": "function_call",
                "id": "fc_1",
                "call_id": "c1",
                "name": "f",
                "arguments": "{}",
            },
            {"type": "function_call", "call_id": "c2", "name": "g", "arguments": '{"x":1}'},
            {"type": "function_call_output", "call_id": "c1", "output": "one"},
            {"type": "function_call_output", "call_id": "c2", "output": "two"},
            {"role": "assistant", "content": [{"type": "output_text", "text": "done"}]},
        ],
    }
    request = _decode(body)
    assert [m.role for m in request.messages] == [
        "system",
        "user",
        "assistant",
        "tool",
        "tool",
        "assistant",
    ]
    assert request.messages[0].text() == "Be brief."
    turn = request.messages[2]
    assert turn.content == [
        ThinkingPart(text="think", signature="ENC"),
        ToolCallPart(id="c1", name="f", arguments="{}"),
        ToolCallPart(id="c2", name="g", arguments='{"x":1}'),
    ]
    assert request.messages[3].content == [
        ToolResultPart(tool_call_id="c1", content=[TextPart(text="one")])
    ]
    assert request.messages[5].text() == "done"


def test_parameters_are_mapped() -> None:
    body = {
        "model": "m",
        "input": "hello",
        "stream": True,
        "store": True,
        "include": ["reasoning.encrypted_content"],
        "truncation": "auto",
        "max_output_tokens": 50,
        "temperature": 0.5,
        "top_p": 0.9,
        "parallel_tool_calls": False,
        "tools": [
            {
                "type": "function",
                "name": "f",
                "description": "d",
                "parameters": {"type": "object"},
                "strict": True,
            }
        ],
        "tool_choice": {"type": "function", "name": "f"},
        "text": {
            "format": {
                "type": "json_schema",
                "name": "out",
                "schema": {"type": "object"},
                "strict": True,
            }
        },
        "reasoning": {"effort": "high", "summary": "auto"},
        "metadata": {"k": "v"},
        "user": "u1",
        "service_tier": "flex",
        "prompt_cache_key": "pck",
        "safety_identifier": "s1",
    }
    r = _decode(body)
    assert r.messages == [Message(role="user", content=[TextPart(text="hello")])]
    assert (r.stream, r.include_usage) == (True, True)
    assert (r.max_tokens, r.temperature, r.top_p, r.parallel_tool_calls) == (50, 0.5, 0.9, False)
    assert r.tools == [Tool(name="f", description="d", parameters={"type": "object"}, strict=True)]
    assert r.tool_choice == ToolChoice(mode="tool", name="f")
    assert r.response_format is not None
    assert (r.response_format.type, r.response_format.name, r.response_format.strict) == (
        "json_schema",
        "out",
        True,
    )
    assert r.reasoning is not None
    assert (r.reasoning.effort, r.reasoning.summary, r.reasoning.enabled) == ("high", "auto", True)
    assert (r.metadata, r.user, r.service_tier, r.prompt_cache_key) == (
        {"k": "v"},
        "u1",
        "flex",
        "pck",
    )
    assert r.extra == {"safety_identifier": "s1"}


def test_media_parts() -> None:
    body = {
        "model": "m",
        "input": [
            {
                "role": "user",
                "content": [
                    {"type": "input_image", "image_url": "https://x/cat.png", "detail": "low"},
                    {
                        "type": "input_image",
                        "image_url": "data:image/png;base64,QUJD",
                        "detail": "auto",
                    },
                    {"type": "input_image", "file_id": "file-1", "detail": "auto"},
                    {
                        "type": "input_file",
                        "file_data": "data:application/pdf;base64,UERG",
                        "filename": "a.pdf",
                    },
                    {"type": "input_file", "file_url": "https://x/b.pdf"},
                ],
            }
        ],
    }
    parts = _decode(body).messages[0].content
    assert parts == [
        ImagePart(url="https://x/cat.png", detail="low"),
        ImagePart(data="QUJD", media_type="image/png", detail="auto"),
        FilePart(file_id="file-1", media_type="image/*"),
        FilePart(data="UERG", media_type="application/pdf", filename="a.pdf"),
        FilePart(url="https://x/b.pdf"),
    ]
    sent = encode_body(_decode(body), TARGET)["input"][0]["content"]
    assert sent == body["input"][0]["content"]  # type: ignore[index]


BAD: list[tuple[dict[str, Any], str | None, str]] = [
    ({"input": "hi"}, "model", "model"),
    ({"model": "m"}, "input", "input"),
    ({"model": "m", "input": []}, "input", "empty"),
    (
        {"model": "m", "input": "hi", "previous_response_id": "resp_1"},
        "previous_response_id",
        "no conversation state",
    ),
    ({"model": "m", "input": "hi", "conversation": "conv_1"}, "conversation", "state"),
    ({"model": "m", "input": "hi", "background": True}, "background", "background"),
    ({"model": "m", "input": "hi", "prompt": {"id": "pmpt_1"}}, "prompt", "prompt"),
    (
        {"model": "m", "input": "hi", "tools": [{"type": "web_search"}]},
        "tools[0].type",
        "web_search",
    ),
    ({"model": "m", "input": "hi", "tools": [{"type": "function"}]}, "tools[0].name", "name"),
    ({"model": "m", "input": "hi", "tool_choice": "any"}, "tool_choice", "tool_choice"),
    (
        {"model": "m", "input": "hi", "tool_choice": {"type": "web_search_preview"}},
        "tool_choice",
        "function",
    ),
    ({"model": "m", "input": "hi", "text": {"format": {"type": "xml"}}}, "text.format.type", "xml"),
    (
        {"model": "m", "input": "hi", "text": {"format": {"type": "json_schema"}}},
        "text.format.schema",
        "schema",
    ),
    ({"model": "m", "input": "hi", "reasoning": {"effort": "huge"}}, "reasoning.effort", "huge"),
    ({"model": "m", "input": "hi", "truncation": "sometimes"}, "truncation", "truncation"),
    ({"model": "m", "input": "hi", "max_output_tokens": 0}, "max_output_tokens", "least"),
    (
        {"model": "m", "input": [{"type": "item_reference", "id": "msg_1"}]},
        "input[0].type",
        "stored",
    ),
    (
        {"model": "m", "input": [{"type": "web_search_call", "id": "ws_1"}]},
        "input[0].type",
        "web_search_call",
    ),
    ({"model": "m", "input": [{"role": "critic", "content": "x"}]}, "input[0].role", "critic"),
    ({"model": "m", "input": [{"role": "user"}]}, "input[0].content", "content"),
    ({"model": "m", "input": [{"content": "x"}]}, "input[0].type", "type"),
    (
        {
            "model": "m",
            "input": [{"role": "system", "content": [{"type": "input_image", "image_url": "u"}]}],
        },
        "input[0].content[0].type",
        "input_image",
    ),
    (
        {"model": "m", "input": [{"role": "user", "content": [{"type": "input_image"}]}]},
        "input[0].content[0]",
        "image",
    ),
    (
        {"model": "m", "input": [{"role": "user", "content": [{"type": "input_file"}]}]},
        "input[0].content[0]",
        "file",
    ),
    ({"model": "m", "input": [{"type": "function_call", "call_id": "c"}]}, "input[0].name", "name"),
    (
        {"model": "m", "input": [{"type": "function_call_output", "output": "x"}]},
        "input[0].call_id",
        "call_id",
    ),
    (
        {"model": "m", "input": [{"type": "function_call_output", "call_id": "c"}]},
        "input[0].output",
        "output",
    ),
    ({"model": "m", "input": "hi", "temperature": "hot"}, "temperature", "temperature"),
    ({"model": "m", "input": 5}, "input", "input"),
]


@pytest.mark.parametrize(("body", "param", "words"), BAD, ids=[f"{b[1]}-{b[2]}" for b in BAD])
def test_bad_input_is_a_clear_400(body: dict[str, Any], param: str | None, words: str) -> None:
    with pytest.raises(GatewayError) as info:
        _decode(body)
    assert info.value.kind == "invalid_request"
    assert info.value.status == 400
    assert info.value.param == param
    assert words in info.value.message


def test_not_json_is_a_400() -> None:
    with pytest.raises(GatewayError) as info:
        decode_request(b"{not json")
    assert info.value.status == 400
    assert "JSON" in info.value.message


# --- client side encoding ----------------------------------------------------------------


def test_http_request() -> None:
    request = ChatRequest(model="x", messages=[Message("user", [TextPart("hi")])], stream=True)
    http = CODEC.encode_request(request, TARGET)
    assert http.url == "https://api.openai.com/v1/responses"
    assert http.headers["authorization"] == "Bearer k"
    assert http.headers["accept"] == "text/event-stream"
    assert http.stream is True
    body = json.loads(http.body)
    assert body == {
        "model": "gpt-5",
        "input": [{"role": "user", "content": "hi"}],
        "store": False,
        "stream": True,
    }


def test_egress_reasoning_and_tools() -> None:
    request = ChatRequest(
        model="x",
        messages=[
            Message("system", [TextPart("sys")]),
            Message("developer", [TextPart("dev")]),
            Message("user", [TextPart("q")]),
            Message(
                "assistant",
                [
                    ThinkingPart(text="mine", signature="ENC", provider="openai"),
                    ThinkingPart(text="theirs", signature="SIG", provider="anthropic"),
                    ThinkingPart(text="unsigned"),
                    TextPart("calling"),
                    ToolCallPart(id="c1", name="f", arguments="{}"),
                ],
            ),
            Message("tool", [ToolResultPart(tool_call_id="c1", content=[TextPart("r")])]),
        ],
        tools=[Tool(name="f")],
        reasoning=None,
    )
    body = encode_body(request, TARGET)
    assert body["instructions"] == "sys"
    assert body["input"] == [
        {"role": "developer", "content": "dev"},
        {"role": "user", "content": "q"},
        {
            "type": "reasoning",
            "summary": [{"type": "summary_text", "text": "mine"}],
            "encrypted_content": "ENC",
        },
        {"role": "assistant", "content": "calling"},
        {"type": "function_call", "call_id": "c1", "name": "f", "arguments": "{}"},
        {"type": "function_call_output", "call_id": "c1", "output": "r"},
    ]
    assert body["tools"] == [
        {
            "type": "function",
            "name": "f",
            "description": None,
            "parameters": {"type": "object", "properties": {}},
            "strict": False,
        }
    ]
    assert "include" not in body


def test_egress_reasoning_asks_for_encrypted_content() -> None:
    from junction.types import Reasoning

    base = ChatRequest(model="x", messages=[Message("user", [TextPart("q")])])
    for reasoning, sent in [
        (Reasoning(effort="max"), {"effort": "xhigh"}),
        (Reasoning(max_tokens=1000), {"effort": "low"}),
        (Reasoning(max_tokens=20000, summary="auto"), {"effort": "high", "summary": "auto"}),
    ]:
        base.reasoning = reasoning
        body = encode_body(base, TARGET)
        assert body["reasoning"] == sent
        assert body["include"] == ["reasoning.encrypted_content"]
    base.reasoning = Reasoning(enabled=False)
    body = encode_body(base, TARGET)
    assert body["reasoning"] == {"effort": "none"}
    assert "include" not in body


def test_audio_cannot_be_sent() -> None:
    from junction.types import AudioPart

    request = ChatRequest(
        model="x", messages=[Message("user", [AudioPart(data="AA", format="wav")])]
    )
    with pytest.raises(GatewayError) as info:
        encode_body(request, TARGET)
    assert info.value.param == "messages[0].content[0]"
