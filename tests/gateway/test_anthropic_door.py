"""The Anthropic Messages door, through the official ``anthropic`` SDK, for
every egress dialect behind it."""

from __future__ import annotations

import json
from typing import Any

import anthropic
import jsonschema
import pytest

from conftest import DIALECTS, UPSTREAM, Stack

WEATHER: dict[str, Any] = {
    "name": "get_weather",
    "description": "Current weather for a city",
    "input_schema": {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
    },
}
TIME: dict[str, Any] = {
    "name": "get_time",
    "description": "Current time in a timezone",
    "input_schema": {
        "type": "object",
        "properties": {"timezone": {"type": "string"}},
        "required": ["timezone"],
    },
}

pytestmark = pytest.mark.parametrize("dialect", DIALECTS)


def client(gw: Stack) -> anthropic.AsyncAnthropic:
    return anthropic.AsyncAnthropic(base_url=gw.url, api_key="client-key", max_retries=0)


def model(dialect: str) -> str:
    return f"sim/{dialect}"


async def upstream_body(gw: Stack, dialect: str) -> dict[str, Any]:
    for entry in reversed(await gw.sim_requests()):
        if entry["model"] == UPSTREAM[dialect]:
            body: dict[str, Any] = entry["body"]
            return body
    raise AssertionError("the simulator saw no request")


async def test_plain_message(gw: Stack, dialect: str) -> None:
    message = await client(gw).messages.create(
        model=model(dialect),
        max_tokens=256,
        system="You are terse.",
        messages=[{"role": "user", "content": "echo: hello door"}],
    )
    assert message.type == "message"
    assert message.role == "assistant"
    assert message.model == model(dialect)
    assert message.content[0].type == "text"
    assert message.content[0].text == "hello door"
    assert message.stop_reason == "end_turn"
    assert message.usage.input_tokens > 0
    assert message.usage.output_tokens > 0


async def test_stream_event_sequence(gw: Stack, dialect: str) -> None:
    c = client(gw)
    plain = await c.messages.create(
        model=model(dialect), max_tokens=256, messages=[{"role": "user", "content": "tell me"}]
    )
    kinds: list[str] = []
    async with c.messages.stream(
        model=model(dialect), max_tokens=256, messages=[{"role": "user", "content": "tell me"}]
    ) as stream:
        async for event in stream:
            kinds.append(event.type)
        final = await stream.get_final_message()
    assert kinds[0] == "message_start"
    assert kinds[1] == "content_block_start"
    assert "content_block_delta" in kinds
    assert kinds[-3:] == ["content_block_stop", "message_delta", "message_stop"]
    assert final.content[0].type == "text"
    assert plain.content[0].type == "text"
    assert final.content[0].text == plain.content[0].text
    assert final.stop_reason == "end_turn"
    assert final.usage.output_tokens == plain.usage.output_tokens


async def test_tool_use_round_trip(gw: Stack, dialect: str) -> None:
    c = client(gw)
    first = await c.messages.create(
        model=model(dialect),
        max_tokens=256,
        tools=[WEATHER],
        tool_choice={"type": "tool", "name": "get_weather"},
        messages=[{"role": "user", "content": "Weather in Lima?"}],
    )
    assert first.stop_reason == "tool_use"
    uses = [b for b in first.content if b.type == "tool_use"]
    assert len(uses) == 1
    use = uses[0]
    assert use.name == "get_weather"
    jsonschema.validate(use.input, WEATHER["input_schema"])
    second = await c.messages.create(
        model=model(dialect),
        max_tokens=256,
        tools=[WEATHER],
        messages=[
            {"role": "user", "content": "Weather in Lima?"},
            {"role": "assistant", "content": [b.model_dump() for b in first.content]},
            {
                "role": "user",
                "content": [
                    {"type": "tool_result", "tool_use_id": use.id, "content": "21C, sunny"}
                ],
            },
        ],
    )
    assert second.stop_reason == "end_turn"
    text = "".join(b.text for b in second.content if b.type == "text")
    assert "21C, sunny" in text


async def test_parallel_tool_use(gw: Stack, dialect: str) -> None:
    message = await client(gw).messages.create(
        model=model(dialect),
        max_tokens=256,
        tools=[WEATHER, TIME],
        messages=[{"role": "user", "content": "Call get_weather for Oslo and get_time for CET"}],
    )
    names = sorted(b.name for b in message.content if b.type == "tool_use")
    assert names == ["get_time", "get_weather"]


async def test_streamed_tool_use(gw: Stack, dialect: str) -> None:
    async with client(gw).messages.stream(
        model=model(dialect),
        max_tokens=256,
        tools=[WEATHER],
        tool_choice={"type": "any"},
        messages=[{"role": "user", "content": "weather?"}],
    ) as stream:
        final = await stream.get_final_message()
    uses = [b for b in final.content if b.type == "tool_use"]
    assert [u.name for u in uses] == ["get_weather"]
    jsonschema.validate(uses[0].input, WEATHER["input_schema"])
    assert final.stop_reason == "tool_use"


async def test_stop_sequence(gw: Stack, dialect: str) -> None:
    if dialect == "responses":
        pytest.skip("the Responses API has no stop parameter (dropped with a warning)")
    message = await client(gw).messages.create(
        model=model(dialect),
        max_tokens=256,
        stop_sequences=["HALT"],
        messages=[{"role": "user", "content": "echo: one two HALT three"}],
    )
    assert message.content[0].type == "text"
    assert message.content[0].text == "one two "
    if dialect == "anthropic":
        assert message.stop_reason == "stop_sequence"
        assert message.stop_sequence == "HALT"
    elif dialect == "bedrock":
        # Converse says a stop sequence matched, not which one.
        assert message.stop_reason == "stop_sequence"
    else:
        # OpenAI and Gemini report a stop sequence as a plain "stop": which
        # one matched (or whether one did) is not in their answer.
        assert message.stop_reason == "end_turn"


async def test_max_tokens(gw: Stack, dialect: str) -> None:
    message = await client(gw).messages.create(
        model=model(dialect), max_tokens=2, messages=[{"role": "user", "content": "essay"}]
    )
    assert message.stop_reason == "max_tokens"
    assert message.usage.output_tokens <= 2


async def test_thinking(gw: Stack, dialect: str) -> None:
    message = await client(gw).messages.create(
        model=model(dialect),
        max_tokens=4096,
        thinking={"type": "enabled", "budget_tokens": 1024},
        messages=[{"role": "user", "content": "think first"}],
    )
    thinking = [b for b in message.content if b.type == "thinking"]
    assert len(thinking) == 1
    assert thinking[0].thinking
    if dialect in ("anthropic", "bedrock"):
        # The provider's own signature reaches the client unchanged.
        assert thinking[0].signature
    body = await upstream_body(gw, dialect)
    if dialect == "anthropic":
        assert body["thinking"] == {"type": "enabled", "budget_tokens": 1024}
    elif dialect == "gemini":
        assert body["generationConfig"]["thinkingConfig"]["thinkingBudget"] == 1024


async def test_failover_and_error_shape(gw: Stack, dialect: str) -> None:
    await gw.sim_fail(f"primary-{dialect}", "server_error", 1)
    message = await client(gw).messages.create(
        model=f"test/pair-{dialect}",
        max_tokens=64,
        messages=[{"role": "user", "content": "echo: still here"}],
    )
    assert message.content[0].type == "text"
    assert message.content[0].text == "still here"
    await gw.sim_fail(f"single-{dialect}", "rate_limit", 2)  # the attempt and its retry
    with pytest.raises(anthropic.RateLimitError) as caught:
        await client(gw).messages.create(
            model=f"test/single-{dialect}",
            max_tokens=64,
            messages=[{"role": "user", "content": "hi"}],
        )
    body = caught.value.response.json()
    assert body["type"] == "error"
    assert body["error"]["type"] == "rate_limit_error"
    assert f"{dialect}-single" in body["error"]["message"]


async def test_unknown_model_in_anthropic_shape(gw: Stack, dialect: str) -> None:
    with pytest.raises(anthropic.NotFoundError) as caught:
        await client(gw).messages.create(
            model=f"nope/{dialect}", max_tokens=8, messages=[{"role": "user", "content": "hi"}]
        )
    assert caught.value.response.json()["error"]["type"] == "not_found_error"


async def test_count_tokens(gw: Stack, dialect: str) -> None:
    short = await client(gw).messages.count_tokens(
        model=model(dialect), messages=[{"role": "user", "content": "hi"}]
    )
    long = await client(gw).messages.count_tokens(
        model=model(dialect), messages=[{"role": "user", "content": "hi " * 400}], tools=[WEATHER]
    )
    assert 0 < short.input_tokens < long.input_tokens


async def test_cache_control_reaches_an_anthropic_upstream(gw: Stack, dialect: str) -> None:
    if dialect != "anthropic":
        pytest.skip("cache_control is an Anthropic wire feature")
    await client(gw).messages.create(
        model=model(dialect),
        max_tokens=64,
        system=[{"type": "text", "text": "A long prefix", "cache_control": {"type": "ephemeral"}}],
        messages=[{"role": "user", "content": "hi"}],
    )
    body = await upstream_body(gw, dialect)
    assert body["system"] == [
        {"type": "text", "text": "A long prefix", "cache_control": {"type": "ephemeral"}}
    ]
    assert json.dumps(body).count("cache_control") == 1


async def test_cache_usage_passes_through(gw: Stack, dialect: str) -> None:
    await gw.sim_model(UPSTREAM[dialect], {"prompt_cache": True})
    kwargs: dict[str, Any] = {
        "model": model(dialect),
        "max_tokens": 64,
        "system": "A long shared prefix. " * 30,
        "messages": [{"role": "user", "content": "echo: cached"}],
    }
    first = await client(gw).messages.create(**kwargs)
    second = await client(gw).messages.create(**kwargs)
    assert (first.usage.cache_read_input_tokens or 0) == 0
    cached = second.usage.cache_read_input_tokens or 0
    assert cached > 0
    # Anthropic's input_tokens excludes cache reads: the total is unchanged.
    assert second.usage.input_tokens + cached == first.usage.input_tokens


async def test_count_tokens_is_the_providers_own_for_anthropic(gw: Stack, dialect: str) -> None:
    body = {
        "model": model(dialect),
        "system": "Count me.",
        "messages": [{"role": "user", "content": "how many tokens is this?"}],
    }
    r = await gw.http.post("/v1/messages/count_tokens", json=body)
    assert r.status_code == 200
    if dialect == "anthropic":
        assert r.headers["x-junction-token-count"] == "provider"
        seen = (await gw.sim_requests(1))[-1]
        assert seen["path"] == "/v1/messages/count_tokens"
        assert "max_tokens" not in seen["body"]
        assert seen["body"]["system"] in ("Count me.", [{"type": "text", "text": "Count me."}])
    else:
        # No count_tokens API behind this model: junction's estimate, said so.
        assert r.headers["x-junction-token-count"] == "estimate"
    assert r.json()["input_tokens"] > 0
