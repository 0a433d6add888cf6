"""The conformance suite: one list of scenarios, run through the official
``openai`` SDK against junction, for every egress dialect behind it.

Each scenario checks what the client gets (typed SDK objects, validated
against OpenAI's published schema where raw JSON is at hand) and, where it
matters, what the upstream received in its own wire format (the
simulator's request log).
"""

from __future__ import annotations

import base64
import json
from typing import Any

import jsonschema
import openai
import pytest

from _openapi import validator
from conftest import DIALECTS, UPSTREAM, Stack

WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather for a city",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string"},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
            },
            "required": ["city", "unit"],
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
PIXEL = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQ"
    "AAAABJRU5ErkJggg=="
)

pytestmark = pytest.mark.parametrize("dialect", DIALECTS)


def client(gw: Stack) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(base_url=f"{gw.url}/v1", api_key="client-key", max_retries=0)


def model(dialect: str) -> str:
    return f"sim/{dialect}"


async def last_upstream(gw: Stack, dialect: str) -> dict[str, Any]:
    for entry in reversed(await gw.sim_requests()):
        if entry["model"] == UPSTREAM[dialect] or dialect in entry.get("dialect", ""):
            return entry
    raise AssertionError("the simulator saw no request")


async def test_plain_chat(gw: Stack, dialect: str) -> None:
    raw = await client(gw).chat.completions.with_raw_response.create(
        model=model(dialect), messages=[{"role": "user", "content": "Say something."}]
    )
    body = json.loads(raw.text)
    validator("CreateChatCompletionResponse").validate(body)
    completion = raw.parse()
    assert completion.model == model(dialect)
    assert completion.choices[0].message.content
    assert completion.choices[0].finish_reason == "stop"
    assert completion.usage is not None
    assert completion.usage.prompt_tokens > 0
    assert completion.usage.completion_tokens > 0
    assert body["provider"] == f"sim-{dialect}"


async def test_multi_turn_passes_every_turn(gw: Stack, dialect: str) -> None:
    completion = await client(gw).chat.completions.create(
        model=model(dialect),
        messages=[
            {"role": "user", "content": "echo: first"},
            {"role": "assistant", "content": "first"},
            {"role": "user", "content": "echo: second turn"},
        ],
    )
    assert completion.choices[0].message.content == "second turn"
    sent = json.dumps((await last_upstream(gw, dialect))["body"])
    assert "first" in sent
    assert "second turn" in sent


async def test_system_prompt_reaches_upstream_in_its_dialect(gw: Stack, dialect: str) -> None:
    await client(gw).chat.completions.create(
        model=model(dialect),
        messages=[
            {"role": "system", "content": "You are terse."},
            {"role": "user", "content": "hi"},
        ],
    )
    body = (await last_upstream(gw, dialect))["body"]
    if dialect == "openai":
        assert body["messages"][0] == {"role": "system", "content": "You are terse."}
    elif dialect == "anthropic":
        system = body["system"]
        text = system if isinstance(system, str) else system[0]["text"]
        assert text == "You are terse."
        assert all(m["role"] != "system" for m in body["messages"])
    elif dialect == "gemini":
        assert body["systemInstruction"]["parts"][0]["text"] == "You are terse."
    elif dialect == "bedrock":
        assert body["system"] == [{"text": "You are terse."}]
    else:
        assert body["instructions"] == "You are terse."


async def test_streaming_with_usage(gw: Stack, dialect: str) -> None:
    messages = [{"role": "user", "content": "Tell me about routers."}]
    plain = await client(gw).chat.completions.create(model=model(dialect), messages=messages)
    chunks = []
    stream = await client(gw).chat.completions.create(
        model=model(dialect),
        messages=messages,
        stream=True,
        stream_options={"include_usage": True},
    )
    async for chunk in stream:
        validator("CreateChatCompletionStreamResponse").validate(
            chunk.model_dump(mode="json", exclude_unset=True)
        )
        chunks.append(chunk)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    # The simulator is deterministic: streaming must carry the same answer.
    assert text == plain.choices[0].message.content
    assert len([c for c in chunks if c.choices]) > 1
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices]
    assert finishes[-1] == "stop"
    assert chunks[-1].choices == []
    assert chunks[-1].usage is not None
    assert plain.usage is not None
    assert chunks[-1].usage.completion_tokens == plain.usage.completion_tokens
    assert all(c.usage is None for c in chunks[:-1])


async def test_tool_call_and_result_round_trip(gw: Stack, dialect: str) -> None:
    c = client(gw)
    messages: list[Any] = [{"role": "user", "content": "What's the weather in Paris?"}]
    first = await c.chat.completions.create(
        model=model(dialect),
        messages=messages,
        tools=[WEATHER],
        tool_choice={"type": "function", "function": {"name": "get_weather"}},
    )
    choice = first.choices[0]
    assert choice.finish_reason == "tool_calls"
    calls = choice.message.tool_calls or []
    assert len(calls) == 1
    call = calls[0]
    assert call.type == "function"
    assert call.function.name == "get_weather"
    args = json.loads(call.function.arguments)
    jsonschema.validate(args, WEATHER["function"]["parameters"])  # type: ignore[arg-type]
    messages += [
        choice.message.model_dump(exclude_none=True),
        {"role": "tool", "tool_call_id": call.id, "content": '{"temp_c": 18, "sky": "clear"}'},
    ]
    second = await c.chat.completions.create(
        model=model(dialect), messages=messages, tools=[WEATHER]
    )
    assert second.choices[0].finish_reason == "stop"
    assert "18" in (second.choices[0].message.content or "")
    body = json.dumps((await last_upstream(gw, dialect))["body"])
    assert '"temp_c' in body or "temp_c" in body


async def test_parallel_tool_calls(gw: Stack, dialect: str) -> None:
    completion = await client(gw).chat.completions.create(
        model=model(dialect),
        messages=[{"role": "user", "content": "Use get_weather for Oslo and get_time for CET."}],
        tools=[WEATHER, TIME],
    )
    calls = completion.choices[0].message.tool_calls or []
    assert sorted(c.function.name for c in calls) == ["get_time", "get_weather"]
    assert len({c.id for c in calls}) == 2
    for c in calls:
        schema = (WEATHER if c.function.name == "get_weather" else TIME)["function"]
        jsonschema.validate(json.loads(c.function.arguments), schema["parameters"])  # type: ignore[index]


async def test_streamed_tool_call(gw: Stack, dialect: str) -> None:
    stream = await client(gw).chat.completions.create(
        model=model(dialect),
        messages=[{"role": "user", "content": "weather in Rome?"}],
        tools=[WEATHER],
        tool_choice="required",
        stream=True,
    )
    name, args, finish = "", "", None
    async for chunk in stream:
        validator("CreateChatCompletionStreamResponse").validate(
            chunk.model_dump(mode="json", exclude_unset=True)
        )
        for choice in chunk.choices:
            for tc in choice.delta.tool_calls or []:
                name += tc.function.name or "" if tc.function else ""
                args += tc.function.arguments or "" if tc.function else ""
            finish = choice.finish_reason or finish
    assert name == "get_weather"
    jsonschema.validate(json.loads(args), WEATHER["function"]["parameters"])  # type: ignore[arg-type]
    assert finish == "tool_calls"


async def test_json_schema_output(gw: Stack, dialect: str) -> None:
    schema = {
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "age": {"type": "integer", "minimum": 0},
            "tags": {"type": "array", "items": {"type": "string"}},
        },
        "required": ["name", "age", "tags"],
        "additionalProperties": False,
    }
    completion = await client(gw).chat.completions.create(
        model=model(dialect),
        messages=[{"role": "user", "content": "Describe a person."}],
        response_format={
            "type": "json_schema",
            "json_schema": {"name": "person", "schema": schema, "strict": True},
        },
    )
    jsonschema.validate(json.loads(completion.choices[0].message.content or ""), schema)


async def test_image_input(gw: Stack, dialect: str) -> None:
    await client(gw).chat.completions.create(
        model=model(dialect),
        messages=[
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "What is in this picture?"},
                    {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PIXEL}"}},
                ],
            }
        ],
    )
    body = (await last_upstream(gw, dialect))["body"]
    if dialect == "openai":
        parts = body["messages"][0]["content"]
        assert parts[1]["image_url"]["url"] == f"data:image/png;base64,{PIXEL}"
    elif dialect == "anthropic":
        image = body["messages"][0]["content"][1]
        assert image["source"] == {"type": "base64", "media_type": "image/png", "data": PIXEL}
    elif dialect == "gemini":
        inline = body["contents"][0]["parts"][1]["inlineData"]
        assert inline["mimeType"] == "image/png"
        assert base64.b64decode(inline["data"]) == base64.b64decode(PIXEL)
    elif dialect == "bedrock":
        image = body["messages"][0]["content"][1]["image"]
        assert image["format"] == "png"
        assert base64.b64decode(image["source"]["bytes"]) == base64.b64decode(PIXEL)
    else:
        part = body["input"][0]["content"][1]
        assert part["type"] == "input_image"
        assert part["image_url"] == f"data:image/png;base64,{PIXEL}"


async def test_stop_sequence(gw: Stack, dialect: str) -> None:
    if dialect == "responses":
        pytest.skip("the Responses API has no stop parameter (dropped with a warning)")
    completion = await client(gw).chat.completions.create(
        model=model(dialect),
        messages=[{"role": "user", "content": "echo: alpha beta HALT gamma"}],
        stop=["HALT"],
    )
    assert completion.choices[0].message.content == "alpha beta "
    assert completion.choices[0].finish_reason == "stop"
    body = (await last_upstream(gw, dialect))["body"]
    sent = {
        "openai": lambda b: b["stop"],
        "anthropic": lambda b: b["stop_sequences"],
        "gemini": lambda b: b["generationConfig"]["stopSequences"],
        "bedrock": lambda b: b["inferenceConfig"]["stopSequences"],
    }[dialect](body)
    assert sent == ["HALT"]


async def test_max_tokens_cut_off(gw: Stack, dialect: str) -> None:
    completion = await client(gw).chat.completions.create(
        model=model(dialect),
        messages=[{"role": "user", "content": "Write a long essay."}],
        max_tokens=3,
    )
    assert completion.choices[0].finish_reason == "length"
    assert completion.usage is not None
    assert completion.usage.completion_tokens <= 3


async def test_upstream_429_then_success_on_next_deployment(gw: Stack, dialect: str) -> None:
    await gw.sim_fail(f"primary-{dialect}", "rate_limit", 1)
    raw = await client(gw).chat.completions.with_raw_response.create(
        model=f"test/pair-{dialect}", messages=[{"role": "user", "content": "echo: ok"}]
    )
    assert json.loads(raw.text)["provider"] == f"{dialect}-backup"
    assert raw.parse().choices[0].message.content == "ok"
    stats = await gw.sim_stats()
    assert stats["by_model"][f"primary-{dialect}"] == 1
    assert stats["by_model"][f"backup-{dialect}"] == 1


async def test_upstream_500_fails_over(gw: Stack, dialect: str) -> None:
    await gw.sim_model(f"primary-{dialect}", {"faults": {"server_error": 1.0}})
    for _ in range(3):
        completion = await client(gw).chat.completions.create(
            model=f"test/pair-{dialect}", messages=[{"role": "user", "content": "echo: fine"}]
        )
        assert completion.choices[0].message.content == "fine"
    stream = await client(gw).chat.completions.create(
        model=f"test/pair-{dialect}",
        messages=[{"role": "user", "content": "echo: streamed fine"}],
        stream=True,
    )
    text = "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])
    assert text == "streamed fine"


@pytest.mark.parametrize(
    ("fault", "status", "error_class"),
    [
        ("rate_limit", 429, openai.RateLimitError),
        ("server_error", 502, openai.InternalServerError),
        ("unavailable", 503, openai.InternalServerError),
        ("reset", 502, openai.InternalServerError),
        ("malformed", 502, openai.InternalServerError),
        ("bad_request", 400, openai.BadRequestError),
        ("auth_error", 401, openai.AuthenticationError),
        ("not_found", 404, openai.NotFoundError),
    ],
)
async def test_error_mapping(
    gw: Stack, dialect: str, fault: str, status: int, error_class: type[openai.APIStatusError]
) -> None:
    # The attempt and its one retry (routing.retry) both fail.
    await gw.sim_fail(f"single-{dialect}", fault, 2)
    with pytest.raises(error_class) as caught:
        await client(gw).chat.completions.create(
            model=f"test/single-{dialect}", messages=[{"role": "user", "content": "hi"}]
        )
    err = caught.value
    assert err.status_code == status
    assert f"{dialect}-single" in err.message
    body = err.response.json()
    validator("ErrorResponse").validate(body)
    if fault == "rate_limit":
        assert err.response.headers.get("retry-after") is not None
