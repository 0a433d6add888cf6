"""The OpenAI dialect, proven with the official openai SDK pointed at the simulator."""

from __future__ import annotations

import base64
import json
import math
import struct
from typing import TYPE_CHECKING, Any

import jsonschema
import openai
import pytest

if TYPE_CHECKING:
    from tests.sim.conftest import Sim

WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather for a city",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string", "minLength": 2},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
                "days": {"type": "integer", "minimum": 1, "maximum": 7},
                "coords": {
                    "type": "object",
                    "properties": {"lat": {"type": "number"}, "lon": {"type": "number"}},
                    "required": ["lat", "lon"],
                },
                "tags": {"type": "array", "items": {"type": "string"}, "minItems": 2},
            },
            "required": ["city", "unit", "days", "coords", "tags"],
            "additionalProperties": False,
        },
    },
}
TIME = {
    "type": "function",
    "function": {
        "name": "get_time",
        "description": "Current time in a timezone",
        "parameters": {
            "type": "object",
            "properties": {"timezone": {"type": "string"}},
            "required": ["timezone"],
        },
    },
}


def _client(sim: Sim) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(base_url=sim.url + "/v1", api_key="sk-test", max_retries=0)


def _user(text: str) -> list[Any]:
    return [{"role": "user", "content": text}]


async def test_plain_chat(sim: Sim) -> None:
    r = await _client(sim).chat.completions.create(model="gpt-sim", messages=_user("hello"))
    assert r.object == "chat.completion"
    assert r.model == "gpt-sim"
    assert len(r.choices) == 1
    choice = r.choices[0]
    assert choice.finish_reason == "stop"
    assert choice.message.role == "assistant"
    assert choice.message.content
    assert r.usage is not None
    assert r.usage.prompt_tokens > 0
    assert r.usage.completion_tokens > 0
    assert r.usage.total_tokens == r.usage.prompt_tokens + r.usage.completion_tokens


async def test_echo_is_verbatim(sim: Sim) -> None:
    r = await _client(sim).chat.completions.create(
        model="gpt-sim", messages=_user("echo: The answer is 42, exactly.")
    )
    assert r.choices[0].message.content == "The answer is 42, exactly."


async def test_stream_with_usage_chunk(sim: Sim) -> None:
    stream = await _client(sim).chat.completions.create(
        model="gpt-sim",
        messages=_user("echo: streamed words arrive in order"),
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = [chunk async for chunk in stream]
    assert all(c.object == "chat.completion.chunk" for c in chunks)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "streamed words arrive in order"
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices]
    assert finishes[-1] == "stop"
    # the usage chunk: last, with empty choices; the others carry no usage
    last = chunks[-1]
    assert last.choices == []
    assert last.usage is not None
    assert last.usage.completion_tokens == math.ceil(len(text) / 4)
    assert all(c.usage is None for c in chunks[:-1])


async def test_stream_without_usage_has_no_usage_chunk(sim: Sim) -> None:
    stream = await _client(sim).chat.completions.create(
        model="gpt-sim", messages=_user("hi"), stream=True
    )
    chunks = [chunk async for chunk in stream]
    assert all(c.choices for c in chunks)
    assert all(c.usage is None for c in chunks)


async def test_forced_tool_call_arguments_match_schema(sim: Sim) -> None:
    r = await _client(sim).chat.completions.create(
        model="gpt-sim",
        messages=_user("What is the weather in Paris?"),
        tools=[TIME, WEATHER],
        tool_choice={"type": "function", "function": {"name": "get_weather"}},
    )
    choice = r.choices[0]
    assert choice.finish_reason == "tool_calls"
    calls = choice.message.tool_calls
    assert calls is not None
    assert len(calls) == 1
    assert calls[0].type == "function"
    assert calls[0].function.name == "get_weather"
    args = json.loads(calls[0].function.arguments)
    jsonschema.validate(args, WEATHER["function"]["parameters"])
    assert args["city"] == "Paris"


async def test_required_tool_choice_calls_a_tool(sim: Sim) -> None:
    r = await _client(sim).chat.completions.create(
        model="gpt-sim", messages=_user("hello"), tools=[TIME], tool_choice="required"
    )
    calls = r.choices[0].message.tool_calls
    assert calls is not None
    assert calls[0].function.name == "get_time"
    jsonschema.validate(json.loads(calls[0].function.arguments), TIME["function"]["parameters"])


async def test_parallel_tool_calls(sim: Sim) -> None:
    r = await _client(sim).chat.completions.create(
        model="gpt-sim",
        messages=_user("Use get_weather for Rome and get_time for Europe/Rome"),
        tools=[WEATHER, TIME],
    )
    calls = r.choices[0].message.tool_calls
    assert calls is not None
    assert [c.function.name for c in calls] == ["get_weather", "get_time"]
    assert len({c.id for c in calls}) == 2
    jsonschema.validate(json.loads(calls[0].function.arguments), WEATHER["function"]["parameters"])


async def test_parallel_tool_calls_false_calls_one(sim: Sim) -> None:
    r = await _client(sim).chat.completions.create(
        model="gpt-sim",
        messages=_user("Use get_weather for Rome and get_time for Europe/Rome"),
        tools=[WEATHER, TIME],
        parallel_tool_calls=False,
    )
    calls = r.choices[0].message.tool_calls
    assert calls is not None
    assert len(calls) == 1


async def test_auto_tool_call_only_when_asked(sim: Sim) -> None:
    client = _client(sim)
    asked = await client.chat.completions.create(
        model="gpt-sim", messages=_user("Please call the tool for me"), tools=[TIME]
    )
    assert asked.choices[0].finish_reason == "tool_calls"
    not_asked = await client.chat.completions.create(
        model="gpt-sim", messages=_user("Tell me a story"), tools=[TIME]
    )
    assert not_asked.choices[0].finish_reason == "stop"
    assert not_asked.choices[0].message.tool_calls is None


async def test_tool_result_is_answered_in_text(sim: Sim) -> None:
    messages: list[Any] = [
        {"role": "user", "content": "weather in Oslo? use get_weather"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city":"Oslo"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": "sunny, 21 degrees"},
    ]
    r = await _client(sim).chat.completions.create(
        model="gpt-sim", messages=messages, tools=[WEATHER]
    )
    assert r.choices[0].finish_reason == "stop"
    assert "sunny, 21 degrees" in (r.choices[0].message.content or "")


async def test_streamed_tool_call_reassembles(sim: Sim) -> None:
    stream = await _client(sim).chat.completions.create(
        model="gpt-sim",
        messages=_user("weather in Lima"),
        tools=[WEATHER],
        tool_choice="required",
        stream=True,
    )
    name, args, finish = "", "", None
    async for chunk in stream:
        for choice in chunk.choices:
            for call in choice.delta.tool_calls or []:
                assert call.index == 0
                name += call.function.name or "" if call.function else ""
                args += call.function.arguments or "" if call.function else ""
            finish = choice.finish_reason or finish
    assert name == "get_weather"
    assert finish == "tool_calls"
    jsonschema.validate(json.loads(args), WEATHER["function"]["parameters"])


async def test_json_schema_output(sim: Sim) -> None:
    schema = {
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "age": {"type": "integer", "minimum": 18, "maximum": 99},
            "email": {"type": "string", "format": "email"},
            "kind": {"enum": ["a", "b"]},
            "scores": {"type": "array", "items": {"type": "number", "exclusiveMinimum": 0}},
            "address": {"$ref": "#/$defs/address"},
            "nickname": {"anyOf": [{"type": "string"}, {"type": "null"}]},
        },
        "required": ["name", "age", "email", "kind", "scores", "address", "nickname"],
        "additionalProperties": False,
        "$defs": {
            "address": {
                "type": "object",
                "properties": {"street": {"type": "string"}, "zip": {"type": "string"}},
                "required": ["street", "zip"],
                "additionalProperties": False,
            }
        },
    }
    r = await _client(sim).chat.completions.create(
        model="gpt-sim",
        messages=_user("make a person"),
        response_format={
            "type": "json_schema",
            "json_schema": {"name": "person", "schema": schema, "strict": True},
        },
    )
    value = json.loads(r.choices[0].message.content or "")
    jsonschema.validate(value, schema, format_checker=jsonschema.FormatChecker())


async def test_json_object_output(sim: Sim) -> None:
    r = await _client(sim).chat.completions.create(
        model="gpt-sim", messages=_user("json please"), response_format={"type": "json_object"}
    )
    assert isinstance(json.loads(r.choices[0].message.content or ""), dict)


async def test_reasoning_tokens_reported(sim: Sim) -> None:
    r = await _client(sim).chat.completions.create(
        model="o-sim", messages=_user("think hard"), reasoning_effort="high"
    )
    assert r.usage is not None
    details = r.usage.completion_tokens_details
    assert details is not None
    assert details.reasoning_tokens is not None
    assert details.reasoning_tokens > 0
    assert r.usage.completion_tokens > details.reasoning_tokens


async def test_max_tokens_cut_off(sim: Sim) -> None:
    r = await _client(sim).chat.completions.create(
        model="gpt-sim",
        messages=_user("echo: one two three four five six seven eight nine ten"),
        max_tokens=3,
    )
    choice = r.choices[0]
    assert choice.finish_reason == "length"
    # 3 tokens of 4 characters each
    assert choice.message.content == "one two thre"
    assert r.usage is not None
    assert r.usage.completion_tokens == 3


async def test_max_completion_tokens_cut_off(sim: Sim) -> None:
    r = await _client(sim).chat.completions.create(
        model="gpt-sim", messages=_user("tell me everything"), max_completion_tokens=2
    )
    assert r.choices[0].finish_reason == "length"
    assert len(r.choices[0].message.content or "") <= 8


async def test_stop_sequence(sim: Sim) -> None:
    r = await _client(sim).chat.completions.create(
        model="gpt-sim", messages=_user("echo: alpha beta END gamma"), stop=["END", "beta"]
    )
    assert r.choices[0].finish_reason == "stop"
    assert r.choices[0].message.content == "alpha "


async def test_n_choices(sim: Sim) -> None:
    r = await _client(sim).chat.completions.create(
        model="gpt-sim", messages=_user("give me options"), n=2
    )
    assert [c.index for c in r.choices] == [0, 1]
    assert all(c.message.content for c in r.choices)


async def test_n_choices_stream(sim: Sim) -> None:
    stream = await _client(sim).chat.completions.create(
        model="gpt-sim", messages=_user("echo: same"), n=2, stream=True
    )
    texts = {0: "", 1: ""}
    async for chunk in stream:
        for choice in chunk.choices:
            texts[choice.index] += choice.delta.content or ""
    assert texts == {0: "same", 1: "same"}


async def test_determinism(sim: Sim) -> None:
    client = _client(sim)
    a = await client.chat.completions.create(model="gpt-sim", messages=_user("same question"))
    b = await client.chat.completions.create(model="gpt-sim", messages=_user("same question"))
    c = await client.chat.completions.create(model="gpt-sim", messages=_user("other question"))
    assert a.choices[0].message.content == b.choices[0].message.content
    assert a.choices[0].message.content != c.choices[0].message.content


async def test_embeddings_float(sim: Sim) -> None:
    r = await _client(sim).embeddings.create(
        model="emb-sim", input=["a red apple", "a red apple", "quantum physics"], dimensions=32
    )
    assert [d.index for d in r.data] == [0, 1, 2]
    vectors = [d.embedding for d in r.data]
    assert all(len(v) == 32 for v in vectors)
    for v in vectors:
        assert math.isclose(math.fsum(x * x for x in v), 1.0, rel_tol=1e-6)
    assert vectors[0] == vectors[1]
    assert vectors[0] != vectors[2]
    assert r.usage.prompt_tokens > 0


async def test_embeddings_base64(sim: Sim) -> None:
    client = _client(sim)
    floats = await client.embeddings.create(model="emb-sim", input="hello world", dimensions=16)
    # the SDK decodes base64 itself when it asked for it; ask raw to see the wire value
    raw = await client.embeddings.with_raw_response.create(
        model="emb-sim", input="hello world", dimensions=16, encoding_format="base64"
    )
    wire = json.loads(raw.http_response.text)["data"][0]["embedding"]
    assert isinstance(wire, str)
    decoded = struct.unpack("<16f", base64.b64decode(wire))
    expected = floats.data[0].embedding
    assert all(
        math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-7)
        for a, b in zip(decoded, expected, strict=True)
    )


async def test_models_list(make_sim: Any) -> None:
    sim = await make_sim({"models": {"*": {}, "gpt-a": {}, "gpt-b": {"ttft_ms": 1}}})
    page = await _client(sim).models.list()
    assert [m.id for m in page.data] == ["gpt-a", "gpt-b"]


async def test_invalid_request_is_400_in_openai_shape(sim: Sim) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        await _client(sim).chat.completions.create(model="gpt-sim", messages="nope")  # type: ignore[arg-type]
    body = info.value.body
    assert isinstance(body, dict)
    assert body.get("message")
