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
    cells_for,
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


ROWS = ("agents-responses", "agents-chat")


@cells_for("chat", ROWS)
async def test_chat(models: Models, row: str, model: str) -> None:
    result = await Runner.run(Agent(name="echo", model=models[row](model)), ECHO_PROMPT)
    assert result.final_output == ECHO


@cells_for("stream with tools", ROWS)
async def test_stream_with_tools(models: Models, row: str, model: str) -> None:
    called: list[str] = []
    streamed = Runner.run_streamed(weather_agent(models[row](model), called), WEATHER_PROMPT)
    kinds = [event.type async for event in streamed.stream_events()]
    assert called == ["Paris"]
    assert weather("Paris") in str(streamed.final_output)
    assert "raw_response_event" in kinds
    assert kinds.count("run_item_stream_event") >= 3  # the call, its output, the answer


@cells_for("tools", ROWS)
async def test_tools(models: Models, row: str, model: str) -> None:
    called: list[str] = []
    result = await Runner.run(weather_agent(models[row](model), called), WEATHER_PROMPT)
    assert called == ["Paris"]
    assert weather("Paris") in str(result.final_output)


@cells_for("structured", ROWS)
async def test_structured(models: Models, row: str, model: str) -> None:
    agent = Agent(name="geographer", model=models[row](model), output_type=City)
    result = await Runner.run(agent, STRUCTURED_PROMPT)
    assert isinstance(result.final_output, City)


@cells_for("unknown model", ROWS)
async def test_unknown_model(models: Models, row: str) -> None:
    with pytest.raises(openai.NotFoundError) as raised:
        await Runner.run(Agent(name="nobody", model=models[row](UNKNOWN_MODEL)), "hi")
    assert raised.value.status_code == 404
