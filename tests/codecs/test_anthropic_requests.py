"""encode_request from canonical requests, and decode_request on bad input.

Expected bodies follow the published Anthropic Messages request format."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from junction.codecs.anthropic_messages import (
    CODEC,
    DEFAULT_MAX_TOKENS,
    PARAMS,
    decode_request,
)
from junction.codecs.base import Quirks, Target
from junction.types import (
    AudioPart,
    CacheControl,
    ChatRequest,
    FilePart,
    GatewayError,
    ImagePart,
    Message,
    Reasoning,
    ResponseFormat,
    TextPart,
    ThinkingPart,
    Tool,
    ToolCallPart,
    ToolChoice,
    ToolResultPart,
)
from junction.types.chat import OPTIONAL_PARAMS

TARGET = Target(
    provider="anthropic",
    base_url="https://api.anthropic.com/",
    model="claude-sonnet-4-5",
    api_key="sk-ant-test",
    headers={"anthropic-beta": "x-2025"},
)


def user(text: str) -> Message:
    return Message(role="user", content=[TextPart(text=text)])


def body_of(request: ChatRequest, target: Target = TARGET) -> dict[str, Any]:
    return json.loads(CODEC.encode_request(request, target).body)


def test_url_headers_and_defaults() -> None:
    http = CODEC.encode_request(ChatRequest(model="alias", messages=[user("hi")]), TARGET)
    assert http.method == "POST"
    assert http.url == "https://api.anthropic.com/v1/messages"
    assert http.headers == {
        "content-type": "application/json",
        "anthropic-version": "2023-06-01",
        "x-api-key": "sk-ant-test",
        "anthropic-beta": "x-2025",
    }
    assert http.stream is False
    assert json.loads(http.body) == {
        "model": "claude-sonnet-4-5",
        "messages": [{"role": "user", "content": [{"type": "text", "text": "hi"}]}],
        "max_tokens": DEFAULT_MAX_TOKENS,
    }


def test_base_url_with_v1_api_version_and_other_auth() -> None:
    target = Target(
        provider="proxy",
        base_url="https://proxy.example/anthropic/v1",
        model="m",
        api_key="k",
        api_version="2024-01-01",
        quirks=Quirks(auth="api-key"),
    )
    http = CODEC.encode_request(ChatRequest(model="m", messages=[user("x")], stream=True), target)
    assert http.url == "https://proxy.example/anthropic/v1/messages"
    assert http.headers["anthropic-version"] == "2024-01-01"
    assert http.headers["api-key"] == "k"
    assert "x-api-key" not in http.headers
    assert http.stream is True
    assert json.loads(http.body)["stream"] is True


def test_system_lifting_tool_results_and_merging() -> None:
    request = ChatRequest(
        model="m",
        messages=[
            Message(role="system", content=[TextPart(text="Be brief.")]),
            user("weather in Paris and Rome?"),
            Message(
                role="assistant",
                content=[
                    TextPart(text="Checking."),
                    ToolCallPart(id="t1", name="w", arguments='{"city": "Paris"}'),
                    ToolCallPart(id="t2", name="w", arguments=""),
                ],
            ),
            Message(
                role="tool",
                content=[ToolResultPart(tool_call_id="t1", content=[TextPart(text="sunny")])],
            ),
            Message(
                role="tool",
                content=[
                    ToolResultPart(
                        tool_call_id="t2",
                        content=[TextPart(text="a"), TextPart(text="b")],
                        is_error=True,
                    )
                ],
            ),
            Message(
                role="developer",
                content=[TextPart(text="Use metric.", cache_control=CacheControl(ttl="1h"))],
            ),
            user("thanks"),
        ],
    )
    body = body_of(request)
    assert body["system"] == [
        {"type": "text", "text": "Be brief."},
        {
            "type": "text",
            "text": "Use metric.",
            "cache_control": {"type": "ephemeral", "ttl": "1h"},
        },
    ]
    assert body["messages"] == [
        {"role": "user", "content": [{"type": "text", "text": "weather in Paris and Rome?"}]},
        {
            "role": "assistant",
            "content": [
                {"type": "text", "text": "Checking."},
                {"type": "tool_use", "id": "t1", "name": "w", "input": {"city": "Paris"}},
                {"type": "tool_use", "id": "t2", "name": "w", "input": {}},
            ],
        },
        {
            "role": "user",
            "content": [
                {"type": "tool_result", "tool_use_id": "t1", "content": "sunny"},
                {
                    "type": "tool_result",
                    "tool_use_id": "t2",
                    "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}],
                    "is_error": True,
                },
                {"type": "text", "text": "thanks"},
            ],
        },
    ]


def test_single_system_block_is_a_string() -> None:
    body = body_of(
        ChatRequest(
            model="m", messages=[Message(role="system", content=[TextPart(text="S")]), user("u")]
        )
    )
    assert body["system"] == "S"


def test_tools_choice_and_parallel() -> None:
    tool = Tool(
        name="w",
        description="weather",
        parameters={"type": "object", "properties": {"c": {"type": "string"}}},
        strict=True,
        cache_control=CacheControl(),
    )
    base = ChatRequest(model="m", messages=[user("x")], tools=[tool])
    body = body_of(base)
    assert body["tools"] == [
        {
            "name": "w",
            "description": "weather",
            "input_schema": {"type": "object", "properties": {"c": {"type": "string"}}},
            "cache_control": {"type": "ephemeral"},
            "strict": True,
        }
    ]
    assert "tool_choice" not in body
    cases = [
        (ToolChoice(mode="auto"), None, {"type": "auto"}),
        (ToolChoice(mode="required"), None, {"type": "any"}),
        (ToolChoice(mode="none"), None, {"type": "none"}),
        (ToolChoice(mode="tool", name="w"), None, {"type": "tool", "name": "w"}),
        (None, False, {"type": "auto", "disable_parallel_tool_use": True}),
        (ToolChoice(mode="required"), False, {"type": "any", "disable_parallel_tool_use": True}),
        (ToolChoice(mode="none"), False, {"type": "none"}),
    ]
    for choice, parallel, want in cases:
        base.tool_choice, base.parallel_tool_calls = choice, parallel
        assert body_of(base)["tool_choice"] == want


@pytest.mark.parametrize(
    ("reasoning", "max_tokens", "budget", "sent_max"),
    [
        (Reasoning(max_tokens=2000), 8000, 2000, 8000),
        (Reasoning(effort="low"), None, 1024, DEFAULT_MAX_TOKENS),
        (Reasoning(effort="medium"), 10000, 4096, 10000),
        (Reasoning(effort="high"), 1000, 16384, 17384),
        (Reasoning(), None, 4096, 8192),
        (Reasoning(max_tokens=100), 5000, 1024, 5000),
    ],
)
def test_reasoning_budget(
    reasoning: Reasoning, max_tokens: int | None, budget: int, sent_max: int
) -> None:
    body = body_of(
        ChatRequest(model="m", messages=[user("x")], reasoning=reasoning, max_tokens=max_tokens)
    )
    assert body["thinking"] == {"type": "enabled", "budget_tokens": budget}
    assert body["max_tokens"] == sent_max
    assert body["thinking"]["budget_tokens"] < body["max_tokens"]


@pytest.mark.parametrize("reasoning", [Reasoning(enabled=False), Reasoning(effort="none")])
def test_reasoning_off(reasoning: Reasoning) -> None:
    assert "thinking" not in body_of(
        ChatRequest(model="m", messages=[user("x")], reasoning=reasoning)
    )


def test_sampling_stop_user_and_formats() -> None:
    schema = {"type": "object", "properties": {"a": {"type": "integer"}}}
    request = ChatRequest(
        model="m",
        messages=[user("x")],
        temperature=0.2,
        top_p=0.9,
        top_k=5,
        stop=["END"],
        user="u-1",
        seed=7,
        response_format=ResponseFormat(type="json_schema", name="n", schema=schema),
        cache_control=CacheControl(ttl="5m"),
    )
    body = body_of(request)
    assert body["temperature"] == 0.2
    assert body["top_p"] == 0.9
    assert body["top_k"] == 5
    assert body["stop_sequences"] == ["END"]
    assert body["metadata"] == {"user_id": "u-1"}
    assert body["output_config"] == {"format": {"type": "json_schema", "schema": schema}}
    assert body["cache_control"] == {"type": "ephemeral", "ttl": "5m"}
    assert "seed" not in body
    request.response_format = ResponseFormat(type="json_object")
    body = body_of(request)
    assert "output_config" not in body
    assert body["system"] == "Respond with a single JSON object only."


def test_images_and_documents() -> None:
    pdf = base64.b64encode(b"%PDF-1.4").decode()
    text = base64.b64encode("héllo".encode()).decode()
    request = ChatRequest(
        model="m",
        messages=[
            Message(
                role="user",
                content=[
                    ImagePart(url="https://x/cat.png"),
                    ImagePart(url="data:image/jpeg;base64,AAAA"),
                    ImagePart(data="BBBB", media_type="image/png", cache_control=CacheControl()),
                    FilePart(data=pdf, media_type="application/pdf", filename="a.pdf"),
                    FilePart(data=text, media_type="text/plain"),
                    FilePart(url="https://x/doc.pdf"),
                    FilePart(file_id="file_1"),
                ],
            )
        ],
    )
    assert body_of(request)["messages"][0]["content"] == [
        {"type": "image", "source": {"type": "url", "url": "https://x/cat.png"}},
        {"type": "image", "source": {"type": "base64", "media_type": "image/jpeg", "data": "AAAA"}},
        {
            "type": "image",
            "source": {"type": "base64", "media_type": "image/png", "data": "BBBB"},
            "cache_control": {"type": "ephemeral"},
        },
        {
            "type": "document",
            "source": {"type": "base64", "media_type": "application/pdf", "data": pdf},
            "title": "a.pdf",
        },
        {
            "type": "document",
            "source": {"type": "text", "media_type": "text/plain", "data": "héllo"},
        },
        {"type": "document", "source": {"type": "url", "url": "https://x/doc.pdf"}},
        {"type": "document", "source": {"type": "file", "file_id": "file_1"}},
    ]


def test_thinking_parts_go_back_only_to_their_provider() -> None:
    request = ChatRequest(
        model="m",
        messages=[
            user("x"),
            Message(
                role="assistant",
                content=[
                    ThinkingPart(text="mine", signature="s1", provider="anthropic"),
                    ThinkingPart(redacted="r1"),
                    ThinkingPart(text="theirs", signature="enc", provider="openai"),
                    ThinkingPart(text="unsigned"),
                    TextPart(text="answer"),
                ],
            ),
        ],
    )
    assert body_of(request)["messages"][1]["content"] == [
        {"type": "thinking", "thinking": "mine", "signature": "s1"},
        {"type": "redacted_thinking", "data": "r1"},
        {"type": "text", "text": "answer"},
    ]


def test_invalid_tool_arguments_are_refused() -> None:
    request = ChatRequest(
        model="m",
        messages=[
            user("x"),
            Message(role="assistant", content=[ToolCallPart(id="t", name="f", arguments='{"a": ')]),
        ],
    )
    with pytest.raises(GatewayError) as info:
        CODEC.encode_request(request, TARGET)
    assert info.value.kind == "invalid_request"
    assert info.value.param == "messages[1].content[0].arguments"
    assert "JSON object" in info.value.message


def test_audio_is_refused() -> None:
    request = ChatRequest(
        model="m", messages=[Message(role="user", content=[AudioPart(data="x", format="wav")])]
    )
    with pytest.raises(GatewayError) as info:
        CODEC.encode_request(request, TARGET)
    assert info.value.param == "messages[0].content[0]"


def test_params_table_names_canonical_params_only() -> None:
    assert set(PARAMS) <= set(OPTIONAL_PARAMS)
    assert set(PARAMS.values()) <= {"native", "translated"}
    for unsupported in (
        "n",
        "logprobs",
        "seed",
        "frequency_penalty",
        "presence_penalty",
        "metadata",
    ):
        assert unsupported not in PARAMS


# --- decode_request --------------------------------------------------------------------


def raw(**body: Any) -> bytes:
    base: dict[str, Any] = {
        "model": "m",
        "max_tokens": 10,
        "messages": [{"role": "user", "content": "hi"}],
    }
    base.update(body)
    return json.dumps({k: v for k, v in base.items() if v is not None}).encode()


def test_decode_request_maps_fields_and_keeps_unknown_in_extra() -> None:
    request = decode_request(
        raw(
            system="S",
            stream=True,
            temperature=0.5,
            top_k=3,
            stop_sequences=["X"],
            metadata={"user_id": "u"},
            thinking={"type": "enabled", "budget_tokens": 2048},
            output_config={
                "format": {"type": "json_schema", "schema": {"type": "object"}},
                "task_budget": 1,
            },
            service_tier="auto",
        )
    )
    assert request.messages[0] == Message(role="system", content=[TextPart(text="S")])
    assert request.messages[1] == user("hi")
    assert request.stream is True
    assert (request.temperature, request.top_k, request.stop, request.user) == (0.5, 3, ["X"], "u")
    assert request.reasoning == Reasoning(max_tokens=2048)
    assert request.response_format == ResponseFormat(type="json_schema", schema={"type": "object"})
    assert request.extra == {"service_tier": "auto", "output_config": {"task_budget": 1}}


def test_decode_thinking_disabled_and_adaptive_effort() -> None:
    assert decode_request(raw(thinking={"type": "disabled"})).reasoning == Reasoning(enabled=False)
    request = decode_request(raw(thinking={"type": "adaptive"}, output_config={"effort": "high"}))
    assert request.reasoning == Reasoning(effort="high")


@pytest.mark.parametrize(
    ("body", "param", "words"),
    [
        (b"{nope", None, "not valid JSON"),
        (b"[1]", None, "JSON object"),
        (json.dumps({"model": "m", "messages": []}).encode(), "max_tokens", "max_tokens"),
        (raw(max_tokens="ten"), "max_tokens", "Expected `int`"),
        (raw(messages=[{"role": "system", "content": "x"}]), "messages[0].role", "Invalid"),
        (
            raw(messages=[{"role": "user", "content": [{"type": "server_tool_use", "id": "x"}]}]),
            "messages[0].content[0].type",
            "server_tool_use",
        ),
        (
            raw(messages=[{"role": "user", "content": [{"type": "text"}]}]),
            "messages[0].content[0]",
            "text",
        ),
        (
            raw(tools=[{"type": "web_search_20250305", "name": "web_search"}]),
            "tools[0].type",
            "server tool",
        ),
        (raw(tools=[{"name": "f"}]), "tools[0]", "input_schema"),
        (raw(tool_choice={"type": "tool"}), "tool_choice.name", "name"),
        (raw(thinking={"type": "enabled"}), "thinking.budget_tokens", "budget_tokens"),
        (raw(output_config={"effort": "turbo"}), "output_config.effort", "turbo"),
    ],
)
def test_decode_request_bad_input(body: bytes, param: str | None, words: str) -> None:
    with pytest.raises(GatewayError) as info:
        decode_request(body)
    assert info.value.kind == "invalid_request"
    assert info.value.status == 400
    assert info.value.param == param
    assert words in info.value.message
