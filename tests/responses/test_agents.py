"""openai-agents on the stored Responses door: ``Runner.run(...,
previous_response_id=...)`` and the agent loop's own chaining
(``auto_previous_response_id``) through a tool call, the model behind the
gateway speaking Anthropic's dialect."""

from __future__ import annotations

from typing import Any

import openai
import pytest

from _stored_responses import (
    ALICE,
    Gw,
    stored_gateway,  # noqa: F401 (the gw fixture)
)

agents = pytest.importorskip("agents")


@pytest.fixture(autouse=True)
def no_tracing() -> None:
    agents.set_tracing_disabled(True)


def model(gw: Gw) -> Any:
    client = openai.AsyncOpenAI(base_url=f"{gw.url}/v1", api_key=ALICE, max_retries=0)
    return agents.OpenAIResponsesModel("sim/anthropic", client)


async def test_runner_continues_a_stored_response(gw: Gw) -> None:
    agent = agents.Agent(name="echo", instructions="Repeat.", model=model(gw))
    first = await agents.Runner.run(agent, "echo: agents first")
    assert first.final_output == "agents first"
    assert first.last_response_id is not None
    second = await agents.Runner.run(
        agent, "echo: agents second", previous_response_id=first.last_response_id
    )
    assert second.final_output == "agents second"
    last = (await gw.sim_requests(1))[-1]
    sent = [m["content"] for m in last["body"]["messages"]]
    flat = [c if isinstance(c, str) else "".join(b.get("text", "") for b in c) for c in sent]
    assert flat == ["echo: agents first", "agents first", "echo: agents second"]


async def test_tool_loop_chains_by_previous_response_id(gw: Gw) -> None:
    calls: list[str] = []

    @agents.function_tool
    def get_weather(city: str) -> str:
        """Current weather for a city."""
        calls.append(city)
        return f"sunny in {city}"

    agent = agents.Agent(
        name="weather",
        instructions="Use the tool.",
        model=model(gw),
        tools=[get_weather],
        model_settings=agents.ModelSettings(tool_choice="get_weather"),
    )
    result = await agents.Runner.run(
        agent, "What is the weather in Quito?", auto_previous_response_id=True
    )
    assert len(calls) == 1
    assert isinstance(result.final_output, str)
    # The second model call sent only the tool's output and the previous
    # response's id; the gateway rebuilt the tool call for the Anthropic upstream.
    last = (await gw.sim_requests(1))[-1]
    blocks = [
        b["type"]
        for m in last["body"]["messages"]
        if isinstance(m["content"], list)
        for b in m["content"]
    ]
    assert "tool_use" in blocks
    assert "tool_result" in blocks
    results = [
        b
        for m in last["body"]["messages"]
        if isinstance(m["content"], list)
        for b in m["content"]
        if b["type"] == "tool_result"
    ]
    assert "sunny in" in str(results[0]["content"])
    client = openai.AsyncOpenAI(base_url=f"{gw.url}/v1", api_key=ALICE, max_retries=0)
    final = await client.responses.retrieve(result.last_response_id)
    assert final.previous_response_id is not None, "the agent loop chained by id"
    items = await client.responses.input_items.list(final.id)
    assert [i.type for i in items.data] == ["function_call_output"]
