"""openai-agents (the OpenAI Agents SDK) with its Responses and Chat
Completions models, against junction. A junction name goes in a model
object (a bare ``sim/openai`` would be read as provider ``sim``)."""

from __future__ import annotations

from collections.abc import Callable

import openai
import pytest
from agents import (
    Agent,
    Model,
    OpenAIChatCompletionsModel,
    OpenAIResponsesModel,
    Runner,
    function_tool,
    set_tracing_disabled,
)
from pydantic import BaseModel

from _client_matrix import (
    ECHO,
    ECHO_PROMPT,
    STRUCTURED_PROMPT,
    UNKNOWN_MODEL,
    WEATHER_PROMPT,
    cell,
    weather,
)

set_tracing_disabled(True)  # no OpenAI account here to send traces to


class City(BaseModel):
    city: str
    country: str


Models = dict[str, Callable[[str], Model]]


@pytest.fixture(scope="module")
def models(junction: str) -> Models:
    client = openai.AsyncOpenAI(base_url=f"{junction}/v1", api_key="sk-junction", max_retries=0)
    return {
        "agents-responses": lambda name: OpenAIResponsesModel(model=name, openai_client=client),
        "agents-chat": lambda name: OpenAIChatCompletionsModel(model=name, openai_client=client),
    }


def weather_agent(model: Model, called: list[str]) -> Agent:
    @function_tool
    def get_weather(city: str) -> str:
        """The weather in a city."""
        called.append(city)
        return weather(city)

    return Agent(name="forecaster", model=model, tools=[get_weather])


async def run_chat(models: Models, row: str, model: str) -> None:
    result = await Runner.run(Agent(name="echo", model=models[row](model)), ECHO_PROMPT)
    assert result.final_output == ECHO


@cell("agents-responses", "chat")
async def test_responses_chat(models: Models, model: str) -> None:
    await run_chat(models, "agents-responses", model)


@cell("agents-chat", "chat")
async def test_chat_completions_chat(models: Models, model: str) -> None:
    await run_chat(models, "agents-chat", model)


async def run_streamed_tools(models: Models, row: str, model: str) -> None:
    called: list[str] = []
    streamed = Runner.run_streamed(weather_agent(models[row](model), called), WEATHER_PROMPT)
    kinds = [event.type async for event in streamed.stream_events()]
    assert called == ["Paris"]
    assert weather("Paris") in str(streamed.final_output)
    assert "raw_response_event" in kinds
    assert kinds.count("run_item_stream_event") >= 3  # the call, its output, the answer


@cell("agents-responses", "stream with tools")
async def test_responses_stream_with_tools(models: Models, model: str) -> None:
    await run_streamed_tools(models, "agents-responses", model)


@cell("agents-chat", "stream with tools")
async def test_chat_completions_stream_with_tools(models: Models, model: str) -> None:
    await run_streamed_tools(models, "agents-chat", model)


async def run_tools(models: Models, row: str, model: str) -> None:
    called: list[str] = []
    result = await Runner.run(weather_agent(models[row](model), called), WEATHER_PROMPT)
    assert called == ["Paris"]
    assert weather("Paris") in str(result.final_output)


@cell("agents-responses", "tools")
async def test_responses_tools(models: Models, model: str) -> None:
    await run_tools(models, "agents-responses", model)


@cell("agents-chat", "tools")
async def test_chat_completions_tools(models: Models, model: str) -> None:
    await run_tools(models, "agents-chat", model)


async def run_structured(models: Models, row: str, model: str) -> None:
    agent = Agent(name="geographer", model=models[row](model), output_type=City)
    result = await Runner.run(agent, STRUCTURED_PROMPT)
    assert isinstance(result.final_output, City)


@cell("agents-responses", "structured")
async def test_responses_structured(models: Models, model: str) -> None:
    await run_structured(models, "agents-responses", model)


@cell("agents-chat", "structured")
async def test_chat_completions_structured(models: Models, model: str) -> None:
    await run_structured(models, "agents-chat", model)


async def run_unknown(models: Models, row: str) -> None:
    with pytest.raises(openai.NotFoundError) as raised:
        await Runner.run(Agent(name="nobody", model=models[row](UNKNOWN_MODEL)), "hi")
    assert raised.value.status_code == 404


@cell("agents-responses", "unknown model")
async def test_responses_unknown_model(models: Models) -> None:
    await run_unknown(models, "agents-responses")


@cell("agents-chat", "unknown model")
async def test_chat_completions_unknown_model(models: Models) -> None:
    await run_unknown(models, "agents-chat")
