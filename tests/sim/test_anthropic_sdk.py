"""The Anthropic dialect, proven with the official anthropic SDK pointed at the simulator."""

from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING, Any

import anthropic
import jsonschema
import pytest
from anthropic.types import TextBlock, ThinkingBlock, ToolUseBlock

if TYPE_CHECKING:
    from tests.sim.conftest import Sim

WEATHER: Any = {
    "name": "get_weather",
    "description": "Current weather for a city",
    "input_schema": {
        "type": "object",
        "properties": {
            "city": {"type": "string"},
            "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
            "hours": {"type": "array", "items": {"type": "integer", "minimum": 0, "maximum": 23}},
        },
        "required": ["city", "unit", "hours"],
    },
}
SEARCH: Any = {
    "name": "web_search",
    "description": "Search the web",
    "input_schema": {
        "type": "object",
        "properties": {"query": {"type": "string", "maxLength": 50}},
        "required": ["query"],
    },
}


def _client(sim: Sim) -> anthropic.AsyncAnthropic:
    return anthropic.AsyncAnthropic(base_url=sim.url, api_key="sk-ant-test", max_retries=0)


def _user(text: str) -> list[Any]:
    return [{"role": "user", "content": text}]


async def test_create_text(sim: Sim) -> None:
    m = await _client(sim).messages.create(
        model="claude-sim", max_tokens=200, messages=_user("echo: bonjour")
    )
    assert m.type == "message"
    assert m.role == "assistant"
    assert m.model == "claude-sim"
    assert m.stop_reason == "end_turn"
    assert len(m.content) == 1
    block = m.content[0]
    assert isinstance(block, TextBlock)
    assert block.text == "bonjour"
    assert m.usage.input_tokens > 0
    assert m.usage.output_tokens == math.ceil(len("bonjour") / 4)


async def test_system_prompt_accepted(sim: Sim) -> None:
    m = await _client(sim).messages.create(
        model="claude-sim", max_tokens=50, system="Be brief.", messages=_user("hi")
    )
    assert isinstance(m.content[0], TextBlock)


async def test_max_tokens_and_stop_sequence(sim: Sim) -> None:
    client = _client(sim)
    cut = await client.messages.create(
        model="claude-sim", max_tokens=2, messages=_user("echo: abcdefghijkl")
    )
    assert cut.stop_reason == "max_tokens"
    assert isinstance(cut.content[0], TextBlock)
    assert cut.content[0].text == "abcdefgh"
    stopped = await client.messages.create(
        model="claude-sim",
        max_tokens=100,
        stop_sequences=["###"],
        messages=_user("echo: keep this### drop this"),
    )
    assert stopped.stop_reason == "stop_sequence"
    assert stopped.stop_sequence == "###"
    assert isinstance(stopped.content[0], TextBlock)
    assert stopped.content[0].text == "keep this"


async def test_forced_tool_use(sim: Sim) -> None:
    m = await _client(sim).messages.create(
        model="claude-sim",
        max_tokens=200,
        messages=_user("What's the weather in Tokyo?"),
        tools=[SEARCH, WEATHER],
        tool_choice={"type": "tool", "name": "get_weather"},
    )
    assert m.stop_reason == "tool_use"
    uses = [b for b in m.content if isinstance(b, ToolUseBlock)]
    assert len(uses) == 1
    assert uses[0].name == "get_weather"
    jsonschema.validate(uses[0].input, WEATHER["input_schema"])
    assert uses[0].input["city"] == "Tokyo"  # type: ignore[index]


async def test_any_tool_choice_with_query_from_prompt(sim: Sim) -> None:
    m = await _client(sim).messages.create(
        model="claude-sim",
        max_tokens=200,
        messages=_user("best pizza dough recipe"),
        tools=[SEARCH],
        tool_choice={"type": "any"},
    )
    uses = [b for b in m.content if isinstance(b, ToolUseBlock)]
    assert [u.name for u in uses] == ["web_search"]
    jsonschema.validate(uses[0].input, SEARCH["input_schema"])
    assert uses[0].input == {"query": "best pizza dough recipe"}


async def test_tool_result_round_trip(sim: Sim) -> None:
    messages: list[Any] = [
        {"role": "user", "content": "use get_weather for Lisbon"},
        {
            "role": "assistant",
            "content": [{"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {}}],
        },
        {
            "role": "user",
            "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": "foggy, 14C"}],
        },
    ]
    m = await _client(sim).messages.create(
        model="claude-sim", max_tokens=200, messages=messages, tools=[WEATHER]
    )
    assert m.stop_reason == "end_turn"
    assert isinstance(m.content[0], TextBlock)
    assert "foggy, 14C" in m.content[0].text


async def test_stream_text(sim: Sim) -> None:
    async with _client(sim).messages.stream(
        model="claude-sim", max_tokens=100, messages=_user("echo: a streamed reply in parts")
    ) as stream:
        pieces = [text async for text in stream.text_stream]
        final = await stream.get_final_message()
    assert len(pieces) > 1
    assert "".join(pieces) == "a streamed reply in parts"
    assert final.stop_reason == "end_turn"
    assert final.usage.input_tokens > 0
    assert final.usage.output_tokens == math.ceil(len("a streamed reply in parts") / 4)


async def test_stream_tool_use_with_input_json_delta(sim: Sim) -> None:
    partials: list[str] = []
    async with _client(sim).messages.stream(
        model="claude-sim",
        max_tokens=200,
        messages=_user("please call get_weather for Berlin"),
        tools=[WEATHER],
    ) as stream:
        async for event in stream:
            if event.type == "content_block_delta" and event.delta.type == "input_json_delta":
                partials.append(event.delta.partial_json)
        final = await stream.get_final_message()
    assert len(partials) > 1
    assert final.stop_reason == "tool_use"
    uses = [b for b in final.content if isinstance(b, ToolUseBlock)]
    assert len(uses) == 1
    assert json.loads("".join(partials)) == uses[0].input
    jsonschema.validate(uses[0].input, WEATHER["input_schema"])
    assert uses[0].input["city"] == "Berlin"  # type: ignore[index]


async def test_thinking_create_and_stream(sim: Sim) -> None:
    client = _client(sim)
    thinking: Any = {"type": "enabled", "budget_tokens": 1024}
    m = await client.messages.create(
        model="claude-sim", max_tokens=2048, thinking=thinking, messages=_user("why?")
    )
    assert isinstance(m.content[0], ThinkingBlock)
    assert m.content[0].thinking
    assert m.content[0].signature
    assert isinstance(m.content[1], TextBlock)
    async with client.messages.stream(
        model="claude-sim", max_tokens=2048, thinking=thinking, messages=_user("why?")
    ) as stream:
        kinds = [event.type async for event in stream]
        final = await stream.get_final_message()
    assert "thinking" in kinds
    assert "signature" in kinds
    block = final.content[0]
    assert isinstance(block, ThinkingBlock)
    # same request, same answer: the streamed thinking equals the non-streamed one
    assert block.thinking == m.content[0].thinking
    assert block.signature == m.content[0].signature


async def test_invalid_request_is_400_in_anthropic_shape(sim: Sim) -> None:
    with pytest.raises(anthropic.BadRequestError) as info:
        await _client(sim).messages.create(
            model="claude-sim",
            max_tokens=10,
            messages="not a list",  # type: ignore[arg-type]
        )
    body = info.value.body
    assert isinstance(body, dict)
    assert body["type"] == "error"
    assert body["error"]["type"] == "invalid_request_error"


async def test_models_list_in_anthropic_shape(make_sim: Any) -> None:
    sim = await make_sim({"models": {"claude-a": {}}})
    page = await _client(sim).models.list()
    assert [m.id for m in page.data] == ["claude-a"]
    assert page.data[0].type == "model"
