"""Vendor quirks as data: each vendor's record changes what the OpenAI chat
codec sends, and nothing else does.

Expected values come from each vendor's published rules (cited per test) and
from recorded exchanges where one exists.
"""

from __future__ import annotations

import re
from typing import Any

import msgspec
import pytest

from _cassettes import RECORDED, load_yaml
from _vendors import body, endpoint, record, target
from junction.codecs.base import Quirks
from junction.codecs.openai_chat import CODEC
from junction.codecs.openai_chat.client import vendor_tool_call_id
from junction.config import parse_config
from junction.gateway.params import fit
from junction.gateway.routes import build_routes
from junction.providers import vendors
from junction.providers.quirks import forwarded_extra, supported_params
from junction.types import (
    ChatRequest,
    GatewayError,
    Message,
    Reasoning,
    TextPart,
    ThinkingPart,
    Tool,
    ToolCallPart,
    ToolChoice,
    ToolResultPart,
)

MISTRAL_ID = re.compile(r"[a-zA-Z0-9]{9}")


def _user(text: str = "hi", name: str | None = None) -> Message:
    return Message(role="user", content=[TextPart(text=text)], name=name)


def _cassette(folder: str, name: str) -> list[dict[str, Any]]:
    loaded: dict[str, Any] = load_yaml(RECORDED / folder / name)
    interactions: list[dict[str, Any]] = loaded["interactions"]
    return interactions


def _tool_history(call_ids: list[str]) -> list[Message]:
    """A user turn, an assistant turn calling tools, their results, and a
    second assistant turn that calls again (ids from other providers)."""
    calls: list[Any] = [ToolCallPart(id=i, name="get_weather", arguments="{}") for i in call_ids]
    results: list[Any] = [
        ToolResultPart(tool_call_id=i, content=[TextPart(text=f"result {n}")])
        for n, i in enumerate(call_ids)
    ]
    return [
        _user("weather?"),
        Message(role="assistant", content=[TextPart(text="Checking."), *calls]),
        Message(role="tool", content=results),
    ]


# --- Mistral: tool-call ids [a-zA-Z0-9]{9} ------------------------------------------
# aggregation.md 2.6: ids must match [a-zA-Z0-9]{9} or Mistral answers 400 (code 3280).


def test_mistral_rewrites_foreign_ids_consistently() -> None:
    foreign = ["call_abc123DEF456ghi789JKL0", "toolu_01A09q90qw90lq917835lq9", "c1"]
    sent = body(ChatRequest(model="m", messages=_tool_history(foreign)), "mistral")
    _, assistant, *tools = sent["messages"]
    ids = [c["id"] for c in assistant["tool_calls"]]
    assert all(MISTRAL_ID.fullmatch(i) for i in ids), ids
    assert len(set(ids)) == 3
    assert [t["tool_call_id"] for t in tools] == ids
    assert [t["content"] for t in tools] == ["result 0", "result 1", "result 2"]
    again = body(ChatRequest(model="m", messages=_tool_history(foreign)), "mistral")
    assert again == sent  # deterministic: the same history always maps the same way


def test_mistral_keeps_its_own_ids_from_a_recorded_exchange() -> None:
    first, second = _cassette("test_mistral", "test_image_as_binary_content_tool_response.yaml")
    response = CODEC.decode_response(
        msgspec.json.encode(first["response"]["parsed_body"]), target("mistral")
    )
    (call,) = response.choices[0].message.tool_calls()
    recorded = second["request"]["parsed_body"]["messages"]
    assert call.id == recorded[1]["tool_calls"][0]["id"] == "FI5qQGzDE"
    history = [
        _user("What fruit?"),
        response.choices[0].message,
        Message(role="tool", content=[ToolResultPart(call.id, [TextPart(text="See file")])]),
    ]
    sent = body(ChatRequest(model="m", messages=history), "mistral")
    assert sent["messages"][1]["tool_calls"][0]["id"] == recorded[1]["tool_calls"][0]["id"]
    assert sent["messages"][2]["tool_call_id"] == recorded[2]["tool_call_id"]


def test_other_vendors_keep_ids_as_they_are() -> None:
    ids = ["call_abc123DEF456ghi789JKL0"]
    sent = body(ChatRequest(model="m", messages=_tool_history(ids)), "openai")
    assert sent["messages"][1]["tool_calls"][0]["id"] == ids[0]
    assert sent["messages"][2]["tool_call_id"] == ids[0]


def test_vendor_tool_call_id_rule() -> None:
    assert vendor_tool_call_id("FI5qQGzDE", 9) == "FI5qQGzDE"
    for original in ("call_1", "FI5qQGzD!", "FI5qQGzDEx", "é" * 9, ""):
        rewritten = vendor_tool_call_id(original, 9)
        assert MISTRAL_ID.fullmatch(rewritten), (original, rewritten)
        assert rewritten != original
    assert vendor_tool_call_id("call_1", 9) != vendor_tool_call_id("call_2", 9)
    assert len(vendor_tool_call_id("call_1", 16)) == 16


# --- DeepSeek: reasoning_content sent back (send_reasoning_back) --------------------


def test_deepseek_sends_reasoning_back_as_recorded() -> None:
    # The recorded DeepSeek tool loop: the follow-up request carries the first
    # answer's reasoning_content, and DeepSeek answered 200.
    first, second, *_ = _cassette(
        "test_deepseek", "test_deepseek_deferred_capability_with_thinking.yaml"
    )
    assert second["response"]["status"]["code"] == 200
    answer = CODEC.decode_response(
        msgspec.json.encode(first["response"]["parsed_body"]), target("deepseek")
    )
    message = answer.choices[0].message
    thinking = message.thinking()
    recorded = next(
        m for m in second["request"]["parsed_body"]["messages"] if m["role"] == "assistant"
    )
    assert thinking
    assert thinking[0].text == recorded["reasoning_content"]
    (call,) = message.tool_calls()
    history = [
        _user(),
        message,
        Message(role="tool", content=[ToolResultPart(call.id, [TextPart(text="ok")])]),
    ]
    sent = body(ChatRequest(model="deepseek-reasoner", messages=history), "deepseek")
    assert sent["messages"][1]["reasoning_content"] == recorded["reasoning_content"]
    assert sent["messages"][1]["tool_calls"][0]["id"] == recorded["tool_calls"][0]["id"]


def _thinking_history() -> list[Message]:
    return [
        _user("2+2?"),
        Message(role="assistant", content=[ThinkingPart(text="add them"), TextPart(text="4")]),
        _user("and 3+3?"),
    ]


@pytest.mark.parametrize(
    ("send_back", "expected"), [(True, {"reasoning_content": "add them"}), (False, {})]
)
def test_send_reasoning_back_flag(send_back: bool, expected: dict[str, str]) -> None:
    t = target("deepseek")
    t = msgspec.structs.replace(
        t, quirks=msgspec.structs.replace(t.quirks, send_reasoning_back=send_back)
    )
    http = CODEC.encode_request(ChatRequest(model="m", messages=_thinking_history()), t)
    assistant = msgspec.json.decode(http.body)["messages"][1]
    assert assistant == {"role": "assistant", "content": "4", **expected}


def test_deepseek_default_is_to_send_back() -> None:
    quirks = record("deepseek").quirks
    assert quirks.reasoning_field == "reasoning_content"
    assert quirks.send_reasoning_back is True


def test_reasoning_is_not_sent_to_vendors_without_a_field() -> None:
    sent = body(ChatRequest(model="m", messages=_thinking_history()), "openai")
    assert sent["messages"][1] == {"role": "assistant", "content": "4"}


# --- Groq: refused parameters, temperature floor, messages[].name ------------------
# https://console.groq.com/docs/openai: logprobs, logit_bias, top_logprobs and
# messages[].name give 400; n must be 1; temperature 0 is converted to 1e-8.


def _groq_endpoint() -> Any:
    """The endpoint the gateway builds from a config naming Groq."""
    config = parse_config(
        "models:\n  g:\n    deployments:\n"
        "      - {provider: groq, model: llama-3.3-70b-versatile, api_key: k}\n",
        {},
    )
    (ep,) = build_routes(config)["g"].endpoints
    return ep


def test_groq_logprobs_dropped_with_a_warning() -> None:
    request = ChatRequest(
        model="g", messages=[_user()], logprobs=True, top_logprobs=3, temperature=0.5
    )
    fitted, warnings = fit(request, _groq_endpoint(), drop=True)
    assert fitted.logprobs is False
    assert fitted.top_logprobs is None
    assert fitted.temperature == 0.5
    assert len(warnings) == 2
    assert any("logprobs" in w and "dropped" in w for w in warnings)
    assert any("top_logprobs" in w for w in warnings)
    sent = body(fitted, "groq")
    assert "logprobs" not in sent
    assert "top_logprobs" not in sent


def test_groq_logprobs_refused_when_drop_params_is_false() -> None:
    request = ChatRequest(model="g", messages=[_user()], logprobs=True)
    with pytest.raises(GatewayError) as caught:
        fit(request, _groq_endpoint(), drop=False)
    err = caught.value
    assert err.status == 400
    assert err.kind == "unsupported_parameter"
    assert err.param == "logprobs"
    assert "logprobs" in err.message


@pytest.mark.parametrize("param", ["logit_bias", "n"])
def test_groq_other_refusals(param: str) -> None:
    value: dict[str, Any] = {"logit_bias": {"50256": -100.0}, "n": 2}
    request = ChatRequest(model="g", messages=[_user()], **{param: value[param]})
    with pytest.raises(GatewayError) as caught:
        fit(request, _groq_endpoint(), drop=False)
    assert caught.value.param == param
    fitted, _ = fit(request, _groq_endpoint(), drop=True)
    assert param not in body(fitted, "groq")


def test_groq_temperature_zero_becomes_1e_8() -> None:
    assert body(ChatRequest(model="g", messages=[_user()], temperature=0), "groq")[
        "temperature"
    ] == pytest.approx(1e-8)
    assert body(ChatRequest(model="g", messages=[_user()], temperature=0.7), "groq")[
        "temperature"
    ] == pytest.approx(0.7)
    assert (
        body(ChatRequest(model="g", messages=[_user()], temperature=0), "openai")["temperature"]
        == 0
    )


def test_groq_leaves_out_message_names() -> None:
    history = [
        Message(role="system", content=[TextPart(text="be brief")], name="policy"),
        _user(name="alice"),
        Message(role="assistant", content=[TextPart(text="hello")], name="bot"),
    ]
    assert all(
        "name" not in m for m in body(ChatRequest(model="g", messages=history), "groq")["messages"]
    )
    openai_names = [
        m.get("name") for m in body(ChatRequest(model="g", messages=history), "openai")["messages"]
    ]
    assert openai_names == ["policy", "alice", "bot"]


# --- OpenRouter: its own routing fields pass through, and only to it ----------------
# https://openrouter.ai/docs/api-reference/overview (request schema).

ROUTING = {
    "provider": {"order": ["Anthropic"], "allow_fallbacks": False},
    "models": ["anthropic/claude-sonnet-4.5", "openai/gpt-4o"],
    "route": "fallback",
    "transforms": ["middle-out"],
    "plugins": [{"id": "web"}],
    "session_id": "s-42",
    "usage": {"include": True},
}


def _routed() -> ChatRequest:
    return ChatRequest(
        model="m",
        messages=[_user()],
        reasoning=Reasoning(effort="high", max_tokens=2000),
        extra={**ROUTING, "not_a_field": 1, "drop_params": True},
    )


def test_openrouter_forwards_exactly_its_fields() -> None:
    sent = body(_routed(), "openrouter")
    for name, value in ROUTING.items():
        assert sent[name] == value
    assert sent["reasoning"] == {"effort": "high", "max_tokens": 2000}
    assert "reasoning_effort" not in sent
    assert "not_a_field" not in sent
    assert "drop_params" not in sent
    assert forwarded_extra(record("openrouter")) == frozenset(ROUTING)


def test_no_other_vendor_forwards_openrouter_fields() -> None:
    others = [v.name for v in vendors() if v.dialect == "openai_chat" and v.name != "openrouter"]
    assert {"groq", "mistral", "vllm", "azure-deployments"} <= set(others)
    for name in others:
        sent = body(_routed(), name)
        assert not set(ROUTING) & set(sent), name
        assert "reasoning" not in sent, name
        assert sent["reasoning_effort"] == "high", name


# --- vLLM and Ollama ----------------------------------------------------------------
# vLLM: extra sampling parameters (top_k, repetition_penalty, min_p...) and
# parallel_tool_calls ignored (docs.vllm.ai, OpenAI-compatible server).
# Ollama: /v1 shim, reasoning in `reasoning`, stream_options.include_usage
# supported (docs.ollama.com/api/openai-compatibility).


def _sampled(parallel: bool = True) -> ChatRequest:
    return ChatRequest(
        model="m",
        messages=[_user()],
        top_k=40,
        repetition_penalty=1.1,
        parallel_tool_calls=parallel,
        tools=[Tool(name="get_weather")],
        extra={"min_p": 0.05, "guided_choice": ["a", "b"], "provider": {"order": ["x"]}},
    )


def test_vllm_takes_its_sampling_parameters() -> None:
    fitted, warnings = fit(_sampled(), endpoint("vllm"), drop=True)
    assert warnings == ["vllm-dep does not support parallel_tool_calls; it was dropped"]
    sent = body(fitted, "vllm")
    assert sent["top_k"] == 40
    assert sent["repetition_penalty"] == pytest.approx(1.1)
    assert sent["min_p"] == pytest.approx(0.05)
    assert sent["guided_choice"] == ["a", "b"]
    assert "parallel_tool_calls" not in sent
    assert "provider" not in sent
    assert sent["tools"][0]["function"]["name"] == "get_weather"


def test_vllm_body_never_carries_parallel_tool_calls() -> None:
    # ChatRequest.given() does not count `false` as set, so the gateway does
    # not drop it: the codec leaves out what the vendor record refuses.
    assert "parallel_tool_calls" not in body(_sampled(parallel=False), "vllm")
    assert body(_sampled(parallel=False), "openai")["parallel_tool_calls"] is False


def test_vllm_parameters_are_supported_only_there() -> None:
    assert {"top_k", "repetition_penalty"} <= supported_params(record("vllm"))
    assert "parallel_tool_calls" not in supported_params(record("vllm"))
    assert not {"top_k", "repetition_penalty"} & supported_params(record("openai"))
    fitted, warnings = fit(_sampled(), endpoint("openai"), drop=True)
    assert {w.split(" does not support ")[1].split(";")[0] for w in warnings} == {
        "top_k",
        "repetition_penalty",
    }
    sent = body(fitted, "openai")
    assert sent["parallel_tool_calls"] is True
    assert not {"top_k", "repetition_penalty", "min_p", "guided_choice"} & set(sent)


def test_ollama_stream_asks_for_usage_and_reasoning_round_trips() -> None:
    streamed = ChatRequest(model="m", messages=_thinking_history(), stream=True)
    sent = body(streamed, "ollama")
    assert sent["stream_options"] == {"include_usage": True}
    assert sent["messages"][1]["reasoning"] == "add them"
    reply = {
        "id": "chatcmpl-1",
        "model": "qwen3",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "6", "reasoning": "3+3"},
                "finish_reason": "stop",
            }
        ],
    }
    decoded = CODEC.decode_response(msgspec.json.encode(reply), target("ollama"))
    assert decoded.choices[0].message.thinking()[0].text == "3+3"
    assert "authorization" not in CODEC.encode_request(streamed, target("ollama")).headers


def test_ollama_refusals() -> None:
    supported = supported_params(record("ollama"))
    assert not {"parallel_tool_calls", "logprobs", "top_logprobs", "logit_bias"} & supported
    assert {"tools", "tool_choice", "response_format", "seed", "stop"} <= supported


def test_refused_parameters_are_never_on_the_wire() -> None:
    quirks = Quirks(
        max_tokens_field="max_completion_tokens",
        unsupported=frozenset({"max_tokens", "tools", "reasoning", "seed"}),
    )
    request = ChatRequest(
        model="m",
        messages=[_user()],
        max_tokens=10,
        seed=1,
        temperature=0.2,
        tools=[Tool(name="f")],
        tool_choice=ToolChoice(mode="required"),
        reasoning=Reasoning(effort="low"),
    )
    t = msgspec.structs.replace(target("openai"), quirks=quirks)
    sent = msgspec.json.decode(CODEC.encode_request(request, t).body)
    assert set(sent) == {"model", "messages", "temperature"}
