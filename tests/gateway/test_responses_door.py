"""The OpenAI Responses door, through the official ``openai`` SDK's
``responses`` API, for every egress dialect behind it."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import openai
import pytest

from _openapi import validator
from conftest import DIALECTS, Stack

WEATHER: dict[str, Any] = {
    "type": "function",
    "name": "get_weather",
    "description": "Current weather for a city",
    "parameters": {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
        "additionalProperties": False,
    },
    "strict": True,
}

pytestmark = pytest.mark.parametrize("dialect", DIALECTS)


def client(gw: Stack) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(base_url=f"{gw.url}/v1", api_key="k", max_retries=0)


async def test_plain_response(gw: Stack, dialect: str) -> None:
    raw = await client(gw).responses.with_raw_response.create(
        model=f"sim/{dialect}", instructions="Be brief.", input="echo: through responses"
    )
    validator("Response").validate(json.loads(raw.text))
    response = raw.parse()
    assert response.status == "completed"
    assert response.output_text == "through responses"
    assert response.model == f"sim/{dialect}"
    assert response.usage is not None
    assert response.usage.input_tokens > 0


async def test_stream_events(gw: Stack, dialect: str) -> None:
    c = client(gw)
    plain = await c.responses.create(model=f"sim/{dialect}", input="tell me")
    stream = await c.responses.create(model=f"sim/{dialect}", input="tell me", stream=True)
    kinds: list[str] = []
    numbers: list[int] = []
    text = ""
    async for event in stream:
        kinds.append(event.type)
        numbers.append(event.sequence_number)
        if event.type == "response.output_text.delta":
            text += event.delta
    assert kinds[0] == "response.created"
    assert kinds[-1] == "response.completed"
    assert "response.output_text.delta" in kinds
    assert numbers == list(range(len(numbers)))
    assert text == plain.output_text


async def test_function_call_round_trip(gw: Stack, dialect: str) -> None:
    c = client(gw)
    first = await c.responses.create(
        model=f"sim/{dialect}",
        input="What is the weather in Quito?",
        tools=[WEATHER],  # type: ignore[list-item]
        tool_choice={"type": "function", "name": "get_weather"},
    )
    calls = [item for item in first.output if item.type == "function_call"]
    assert len(calls) == 1
    call = calls[0]
    assert call.name == "get_weather"
    jsonschema.validate(json.loads(call.arguments), WEATHER["parameters"])
    second = await c.responses.create(
        model=f"sim/{dialect}",
        input=[
            {"role": "user", "content": "What is the weather in Quito?"},
            {
                "type": "function_call",
                "call_id": call.call_id,
                "name": call.name,
                "arguments": call.arguments,
            },
            {"type": "function_call_output", "call_id": call.call_id, "output": "14C, drizzle"},
        ],
        tools=[WEATHER],  # type: ignore[list-item]
    )
    assert "14C, drizzle" in second.output_text


async def test_json_schema_output(gw: Stack, dialect: str) -> None:
    schema = {
        "type": "object",
        "properties": {"city": {"type": "string"}, "rank": {"type": "integer"}},
        "required": ["city", "rank"],
        "additionalProperties": False,
    }
    response = await client(gw).responses.create(
        model=f"sim/{dialect}",
        input="Name a city.",
        text={"format": {"type": "json_schema", "name": "city", "schema": schema, "strict": True}},
    )
    jsonschema.validate(json.loads(response.output_text), schema)


async def test_max_output_tokens_is_incomplete(gw: Stack, dialect: str) -> None:
    response = await client(gw).responses.create(
        model=f"sim/{dialect}", input="a long essay", max_output_tokens=16
    )
    # The simulator writes 24 tokens by default: 16 cuts the answer.
    assert response.status == "incomplete"
    assert response.incomplete_details is not None
    assert response.incomplete_details.reason == "max_output_tokens"


async def test_stored_state_is_refused_clearly(gw: Stack, dialect: str) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        await client(gw).responses.create(
            model=f"sim/{dialect}", input="and then?", previous_response_id="resp_123"
        )
    assert "previous_response_id" in caught.value.message


async def test_errors_in_the_responses_shape(gw: Stack, dialect: str) -> None:
    await gw.sim_fail(f"single-{dialect}", "rate_limit", 2)  # the attempt and its retry
    with pytest.raises(openai.RateLimitError) as caught:
        await client(gw).responses.create(model=f"test/single-{dialect}", input="hi")
    assert f"{dialect}-single" in caught.value.message
