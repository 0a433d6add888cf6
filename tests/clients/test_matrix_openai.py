"""The official openai SDK (Python), Chat Completions and Responses, against junction."""

from __future__ import annotations

import json
from typing import Any

import openai
import pytest
from pydantic import BaseModel

from _client_matrix import (
    ECHO,
    ECHO_PROMPT,
    EMBED_INPUTS,
    EMBEDDING_DIMENSIONS,
    EMBEDDING_MODEL,
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


TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "The weather in a city",
        "parameters": WEATHER_PARAMETERS,
    },
}
RESPONSES_TOOL = {"type": "function", **TOOL["function"]}


@pytest.fixture(scope="module")
def client(junction: str) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(base_url=f"{junction}/v1", api_key="sk-junction", max_retries=0)


def user(text: str) -> list[Any]:
    return [{"role": "user", "content": text}]


@cell("openai-py", "chat")
async def test_chat(client: openai.AsyncOpenAI, model: str) -> None:
    r = await client.chat.completions.create(model=model, messages=user(ECHO_PROMPT))
    assert r.choices[0].message.content == ECHO
    assert r.choices[0].finish_reason == "stop"
    assert r.usage is not None
    assert r.usage.completion_tokens > 0


@cell("openai-py", "stream")
async def test_stream(client: openai.AsyncOpenAI, model: str) -> None:
    stream = await client.chat.completions.create(
        model=model, messages=user(ECHO_PROMPT), stream=True, stream_options={"include_usage": True}
    )
    chunks = [chunk async for chunk in stream]
    text = [c.choices[0].delta.content for c in chunks if c.choices and c.choices[0].delta.content]
    assert "".join(text) == ECHO
    assert len(text) > 1
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"
    usage = chunks[-1].usage
    assert usage is not None
    assert usage.completion_tokens > 0


@cell("openai-py", "tools")
async def test_tools(client: openai.AsyncOpenAI, model: str) -> None:
    messages = user(WEATHER_PROMPT)
    first = await client.chat.completions.create(model=model, messages=messages, tools=[TOOL])
    calls = first.choices[0].message.tool_calls or []
    assert [c.function.name for c in calls] == ["get_weather"]  # type: ignore[union-attr]
    call = calls[0]
    city = json.loads(call.function.arguments)["city"]  # type: ignore[union-attr]
    assert city == "Paris"
    messages += [
        first.choices[0].message.model_dump(exclude_none=True),
        {"role": "tool", "tool_call_id": call.id, "content": weather(city)},
    ]
    final = await client.chat.completions.create(model=model, messages=messages, tools=[TOOL])
    assert weather("Paris") in (final.choices[0].message.content or "")


@cell("openai-py", "structured")
async def test_structured(client: openai.AsyncOpenAI, model: str) -> None:
    r = await client.chat.completions.parse(
        model=model, messages=user(STRUCTURED_PROMPT), response_format=City
    )
    assert isinstance(r.choices[0].message.parsed, City)


@cell("openai-py", "embeddings")
async def test_embeddings(client: openai.AsyncOpenAI) -> None:
    r = await client.embeddings.create(model=EMBEDDING_MODEL, input=list(EMBED_INPUTS))
    assert [len(d.embedding) for d in r.data] == [EMBEDDING_DIMENSIONS] * 2


@cell("openai-py", "unknown model")
async def test_unknown_model(client: openai.AsyncOpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as raised:
        await client.chat.completions.create(model=UNKNOWN_MODEL, messages=user("hi"))
    assert raised.value.status_code == 404


@cell("openai-py-responses", "chat")
async def test_responses_chat(client: openai.AsyncOpenAI, model: str) -> None:
    r = await client.responses.create(model=model, input=ECHO_PROMPT)
    assert r.output_text == ECHO
    assert r.status == "completed"
    assert r.usage is not None
    assert r.usage.output_tokens > 0


@cell("openai-py-responses", "stream")
async def test_responses_stream(client: openai.AsyncOpenAI, model: str) -> None:
    stream = await client.responses.create(model=model, input=ECHO_PROMPT, stream=True)
    deltas = [e.delta async for e in stream if e.type == "response.output_text.delta"]
    assert "".join(deltas) == ECHO
    assert len(deltas) > 1


@cell("openai-py-responses", "tools")
async def test_responses_tools(client: openai.AsyncOpenAI, model: str) -> None:
    first = await client.responses.create(
        model=model, input=WEATHER_PROMPT, tools=[RESPONSES_TOOL], store=False
    )
    calls = [item for item in first.output if item.type == "function_call"]
    assert [c.name for c in calls] == ["get_weather"]
    city = json.loads(calls[0].arguments)["city"]
    assert city == "Paris"
    items: list[Any] = [{"role": "user", "content": WEATHER_PROMPT}, *first.output]
    items.append(
        {"type": "function_call_output", "call_id": calls[0].call_id, "output": weather(city)}
    )
    final = await client.responses.create(
        model=model, input=items, tools=[RESPONSES_TOOL], store=False
    )
    assert weather("Paris") in final.output_text


@cell("openai-py-responses", "structured")
async def test_responses_structured(client: openai.AsyncOpenAI, model: str) -> None:
    r = await client.responses.parse(model=model, input=STRUCTURED_PROMPT, text_format=City)
    assert isinstance(r.output_parsed, City)


@cell("openai-py-responses", "unknown model")
async def test_responses_unknown_model(client: openai.AsyncOpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as raised:
        await client.responses.create(model=UNKNOWN_MODEL, input="hi")
    assert raised.value.status_code == 404
