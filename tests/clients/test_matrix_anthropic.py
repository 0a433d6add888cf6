"""The official anthropic SDK (Python) against junction's Anthropic door."""

from __future__ import annotations

from typing import Any

import anthropic
import pytest
from pydantic import BaseModel

from _client_matrix import (
    ECHO,
    ECHO_PROMPT,
    STRUCTURED_PROMPT,
    UNKNOWN_MODEL,
    WEATHER_PARAMETERS,
    WEATHER_PROMPT,
    cell,
    weather,
)


class City(BaseModel):
    city: str
    country: str


TOOL: Any = {
    "name": "get_weather",
    "description": "The weather in a city",
    "input_schema": WEATHER_PARAMETERS,
}


@pytest.fixture(scope="module")
def client(junction: str) -> anthropic.AsyncAnthropic:
    return anthropic.AsyncAnthropic(base_url=junction, api_key="sk-junction", max_retries=0)


def user(text: str) -> list[Any]:
    return [{"role": "user", "content": text}]


@cell("anthropic-py", "chat")
async def test_chat(client: anthropic.AsyncAnthropic, model: str) -> None:
    r = await client.messages.create(model=model, max_tokens=256, messages=user(ECHO_PROMPT))
    assert [b.text for b in r.content if b.type == "text"] == [ECHO]
    assert r.stop_reason == "end_turn"
    assert r.usage.output_tokens > 0


@cell("anthropic-py", "stream")
async def test_stream(client: anthropic.AsyncAnthropic, model: str) -> None:
    async with client.messages.stream(
        model=model, max_tokens=256, messages=user(ECHO_PROMPT)
    ) as stream:
        pieces = [text async for text in stream.text_stream]
        final = await stream.get_final_message()
    assert "".join(pieces) == ECHO
    assert len([p for p in pieces if p]) > 1
    assert final.stop_reason == "end_turn"
    assert final.usage.output_tokens > 0


@cell("anthropic-py", "tools")
async def test_tools(client: anthropic.AsyncAnthropic, model: str) -> None:
    messages = user(WEATHER_PROMPT)
    first = await client.messages.create(
        model=model, max_tokens=256, messages=messages, tools=[TOOL]
    )
    calls = [b for b in first.content if b.type == "tool_use"]
    assert [c.name for c in calls] == ["get_weather"]
    city = calls[0].input["city"]  # type: ignore[index]
    assert city == "Paris"
    assert first.stop_reason == "tool_use"
    messages += [
        {"role": "assistant", "content": [b.model_dump(exclude_none=True) for b in first.content]},
        {
            "role": "user",
            "content": [
                {"type": "tool_result", "tool_use_id": calls[0].id, "content": weather(city)}
            ],
        },
    ]
    final = await client.messages.create(
        model=model, max_tokens=256, messages=messages, tools=[TOOL]
    )
    text = "".join(b.text for b in final.content if b.type == "text")
    assert weather("Paris") in text


@cell("anthropic-py", "structured")
async def test_structured(client: anthropic.AsyncAnthropic, model: str) -> None:
    r = await client.messages.parse(
        model=model, max_tokens=256, messages=user(STRUCTURED_PROMPT), output_format=City
    )
    assert isinstance(r.parsed_output, City)


@cell("anthropic-py", "embeddings")
def test_embeddings_not_offered(client: anthropic.AsyncAnthropic) -> None:
    assert not hasattr(client, "embeddings")
    assert not any("embed" in name for name in dir(anthropic.resources))


@cell("anthropic-py", "unknown model")
async def test_unknown_model(client: anthropic.AsyncAnthropic) -> None:
    with pytest.raises(anthropic.NotFoundError) as raised:
        await client.messages.create(model=UNKNOWN_MODEL, max_tokens=16, messages=user("hi"))
    assert raised.value.status_code == 404
    assert raised.value.body["error"]["type"] == "not_found_error"  # type: ignore[index]
