"""The OpenAI Responses dialect, proven with the official openai SDK pointed at the simulator."""

from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING, Any

import jsonschema
import openai
import pytest

if TYPE_CHECKING:
    from tests.sim.conftest import Sim

WEATHER: Any = {
    "type": "function",
    "name": "get_weather",
    "description": "Current weather for a city",
    "parameters": {
        "type": "object",
        "properties": {
            "city": {"type": "string", "minLength": 2},
            "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
        },
        "required": ["city", "unit"],
        "additionalProperties": False,
    },
    "strict": True,
}
TIME: Any = {
    "type": "function",
    "name": "get_time",
    "parameters": {
        "type": "object",
        "properties": {"timezone": {"type": "string"}},
        "required": ["timezone"],
    },
    "strict": False,
}


def _client(sim: Sim) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(base_url=sim.url + "/v1", api_key="sk-test", max_retries=0)


async def test_plain_text(sim: Sim) -> None:
    r = await _client(sim).responses.create(
        model="gpt-sim", input="echo: The answer is 42.", instructions="Be exact."
    )
    assert r.object == "response"
    assert r.id.startswith("resp_")
    assert r.status == "completed"
    assert r.output_text == "The answer is 42."
    assert r.output[0].type == "message"
    assert r.usage is not None
    assert r.usage.output_tokens == math.ceil(len("The answer is 42.") / 4)
    assert r.usage.total_tokens == r.usage.input_tokens + r.usage.output_tokens
    assert r.usage.input_tokens > 0


async def test_input_items_and_tool_round_trip(sim: Sim) -> None:
    client = _client(sim)
    first = await client.responses.create(
        model="gpt-sim",
        input=[{"role": "user", "content": "What is the weather in Paris? use get_weather"}],
        tools=[WEATHER],
        tool_choice={"type": "function", "name": "get_weather"},
    )
    calls = [o for o in first.output if o.type == "function_call"]
    assert len(calls) == 1
    call = calls[0]
    assert call.name == "get_weather"
    args = json.loads(call.arguments)
    jsonschema.validate(args, WEATHER["parameters"])
    assert args["city"] == "Paris"
    second = await client.responses.create(
        model="gpt-sim",
        input=[
            {"role": "user", "content": "What is the weather in Paris? use get_weather"},
            {
                "type": "function_call",
                "call_id": call.call_id,
                "name": call.name,
                "arguments": call.arguments,
            },
            {
                "type": "function_call_output",
                "call_id": call.call_id,
                "output": "sunny, 21 degrees",
            },
        ],
        tools=[WEATHER],
    )
    assert "sunny, 21 degrees" in second.output_text


async def test_parallel_calls_and_settings_echo(sim: Sim) -> None:
    r = await _client(sim).responses.create(
        model="gpt-sim",
        input="Use get_weather for Rome and get_time for Europe/Rome",
        tools=[WEATHER, TIME],
    )
    names = [o.name for o in r.output if o.type == "function_call"]
    assert names == ["get_weather", "get_time"]
    single = await _client(sim).responses.create(
        model="gpt-sim",
        input="Use get_weather for Rome and get_time for Europe/Rome",
        tools=[WEATHER, TIME],
        parallel_tool_calls=False,
    )
    assert len([o for o in single.output if o.type == "function_call"]) == 1


async def test_json_schema_format(sim: Sim) -> None:
    schema = {
        "type": "object",
        "properties": {"city": {"type": "string"}, "population": {"type": "integer"}},
        "required": ["city", "population"],
        "additionalProperties": False,
    }
    r = await _client(sim).responses.create(
        model="gpt-sim",
        input="Largest city in Japan?",
        text={"format": {"type": "json_schema", "name": "city", "schema": schema, "strict": True}},
    )
    jsonschema.validate(json.loads(r.output_text), schema)


async def test_reasoning_items(sim: Sim) -> None:
    r = await _client(sim).responses.create(
        model="gpt-sim", input="echo: done", reasoning={"effort": "low", "summary": "auto"}
    )
    kinds = [o.type for o in r.output]
    assert kinds == ["reasoning", "message"]
    reasoning = r.output[0]
    assert reasoning.type == "reasoning"
    assert reasoning.summary
    assert reasoning.summary[0].text.startswith("Thinking:")
    assert reasoning.encrypted_content
    assert r.usage is not None
    assert r.usage.output_tokens_details.reasoning_tokens > 0


async def test_max_output_tokens_is_incomplete(sim: Sim) -> None:
    r = await _client(sim).responses.create(
        model="gpt-sim", input="Tell me a long story", max_output_tokens=2
    )
    assert r.status == "incomplete"
    assert r.incomplete_details is not None
    assert r.incomplete_details.reason == "max_output_tokens"
    assert len(r.output_text) <= 8


async def test_stream_with_create(sim: Sim) -> None:
    stream = await _client(sim).responses.create(
        model="gpt-sim", input="echo: streamed words arrive in order", stream=True
    )
    events = [e async for e in stream]
    assert [e.sequence_number for e in events] == list(range(len(events)))
    assert events[0].type == "response.created"
    assert events[1].type == "response.in_progress"
    text = "".join(e.delta for e in events if e.type == "response.output_text.delta")
    assert text == "streamed words arrive in order"
    last = events[-1]
    assert last.type == "response.completed"
    assert last.response.output_text == text
    assert last.response.usage is not None
    assert last.response.usage.output_tokens == math.ceil(len(text) / 4)


async def test_stream_helper_with_tool_call(sim: Sim) -> None:
    client = _client(sim)
    async with client.responses.stream(
        model="gpt-sim",
        input="What time is it in Tokyo? call the tool",
        tools=[TIME],
        tool_choice="required",
    ) as stream:
        argument_deltas = [
            e.delta async for e in stream if e.type == "response.function_call_arguments.delta"
        ]
        final = await stream.get_final_response()
    calls = [o for o in final.output if o.type == "function_call"]
    assert len(calls) == 1
    assert calls[0].name == "get_time"
    assert "".join(argument_deltas) == calls[0].arguments
    jsonschema.validate(json.loads(calls[0].arguments), TIME["parameters"])


async def test_stream_helper_text(sim: Sim) -> None:
    async with _client(sim).responses.stream(model="gpt-sim", input="echo: hi there") as stream:
        deltas = [e.delta async for e in stream if e.type == "response.output_text.delta"]
        final = await stream.get_final_response()
    assert "".join(deltas) == "hi there" == final.output_text


async def test_stateful_requests_are_refused(sim: Sim) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        await _client(sim).responses.create(
            model="gpt-sim", input="hi", previous_response_id="resp_123"
        )
    assert "previous_response_id" in str(info.value)
    with pytest.raises(openai.BadRequestError) as tools:
        await _client(sim).responses.create(
            model="gpt-sim", input="hi", tools=[{"type": "web_search"}]
        )
    assert "web_search" in str(tools.value)


async def test_faults_reach_the_sdk(sim: Sim) -> None:
    await sim.fail("rate_limit", model="gpt-sim")
    with pytest.raises(openai.RateLimitError):
        await _client(sim).responses.create(model="gpt-sim", input="hi")
    stats = await sim.stats()
    assert "openai_responses" in json.dumps(stats)


async def test_stream_cut_is_an_error_for_the_sdk(sim: Sim) -> None:
    await sim.fail("stream_cut", model="gpt-sim")
    stream = await _client(sim).responses.create(
        model="gpt-sim", input="Tell me a story", stream=True
    )
    seen: list[str] = []

    async def read() -> None:
        async for event in stream:
            seen.append(event.type)

    with pytest.raises(openai.APIConnectionError):
        await read()
    assert "response.completed" not in seen
