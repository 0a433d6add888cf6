"""pydantic-ai agents on OpenAIChatModel, OpenAIResponsesModel and
AnthropicModel against junction, with each output kind: ToolOutput,
NativeOutput, PromptedOutput and TextOutput."""

from __future__ import annotations

import pkgutil
from collections.abc import Callable

import pytest
from pydantic import BaseModel
from pydantic_ai import (
    Agent,
    Embedder,
    NativeOutput,
    PromptedOutput,
    TextOutput,
    ToolOutput,
    embeddings,
    models,
)
from pydantic_ai.embeddings.openai import OpenAIEmbeddingModel
from pydantic_ai.exceptions import ModelHTTPError
from pydantic_ai.models.anthropic import AnthropicModel
from pydantic_ai.models.openai import OpenAIChatModel, OpenAIResponsesModel
from pydantic_ai.profiles.anthropic import anthropic_model_profile
from pydantic_ai.providers.anthropic import AnthropicProvider
from pydantic_ai.providers.openai import OpenAIProvider

from _client_matrix import (
    ECHO,
    ECHO_PROMPT,
    EMBED_INPUTS,
    EMBEDDING_DIMENSIONS,
    EMBEDDING_MODEL,
    STRUCTURED_PROMPT,
    UNKNOWN_MODEL,
    WEATHER_PROMPT,
    cells_for,
    weather,
)

KEY = "sk-junction"


class City(BaseModel):
    city: str
    country: str


Models = dict[str, Callable[[str], models.Model]]


@pytest.fixture(scope="module")
def openai_provider(junction: str) -> OpenAIProvider:
    return OpenAIProvider(base_url=f"{junction}/v1", api_key=KEY)


@pytest.fixture(scope="module")
def models_(junction: str, openai_provider: OpenAIProvider) -> Models:
    anthropic = AnthropicProvider(base_url=junction, api_key=KEY)
    # A junction name is not a Claude name: give AnthropicModel a Claude
    # profile, or NativeOutput is refused before any request (docs/clients.md).
    claude = anthropic_model_profile("claude-sonnet-4-5")
    return {
        "pydantic-ai-chat": lambda m: OpenAIChatModel(m, provider=openai_provider),
        "pydantic-ai-responses": lambda m: OpenAIResponsesModel(m, provider=openai_provider),
        "pydantic-ai-anthropic": lambda m: AnthropicModel(m, provider=anthropic, profile=claude),
    }


ROWS = ("pydantic-ai-chat", "pydantic-ai-responses", "pydantic-ai-anthropic")


@cells_for("chat", ROWS)
async def test_chat(models_: Models, row: str, model: str) -> None:
    result = await Agent(models_[row](model)).run(ECHO_PROMPT)
    assert result.output == ECHO
    assert result.usage.output_tokens > 0


@cells_for("stream", ROWS)
async def test_stream(models_: Models, row: str, model: str) -> None:
    async with Agent(models_[row](model)).run_stream(ECHO_PROMPT) as result:
        pieces = [delta async for delta in result.stream_text(delta=True, debounce_by=None)]
    assert "".join(pieces) == ECHO
    assert len([p for p in pieces if p]) > 1


@cells_for("tools", ROWS)
async def test_tools(models_: Models, row: str, model: str) -> None:
    agent = Agent(models_[row](model))
    called: list[str] = []

    @agent.tool_plain
    def get_weather(city: str) -> str:
        """The weather in a city."""
        called.append(city)
        return weather(city)

    result = await agent.run(WEATHER_PROMPT)
    assert called == ["Paris"]
    assert weather("Paris") in result.output


@cells_for("output: ToolOutput", ROWS)
async def test_tool_output(models_: Models, row: str, model: str) -> None:
    result = await Agent(models_[row](model), output_type=ToolOutput(City)).run(STRUCTURED_PROMPT)
    assert isinstance(result.output, City)
    assert any(p.part_kind == "tool-call" for m in result.all_messages() for p in m.parts)


@cells_for("output: NativeOutput", ROWS)
async def test_native_output(models_: Models, row: str, model: str) -> None:
    agent = Agent(models_[row](model), output_type=NativeOutput(City))
    result = await agent.run(STRUCTURED_PROMPT)
    assert isinstance(result.output, City)


@cells_for("output: PromptedOutput", ROWS)
async def test_prompted_output(models_: Models, row: str, model: str) -> None:
    agent = Agent(models_[row](model), output_type=PromptedOutput(City))
    result = await agent.run(STRUCTURED_PROMPT)
    assert isinstance(result.output, City)


def words(text: str) -> list[str]:
    """The answer's words (TextOutput's function)."""
    return text.split()


@cells_for("output: TextOutput", ROWS)
async def test_text_output(models_: Models, row: str, model: str) -> None:
    agent = Agent(models_[row](model), output_type=TextOutput(words))
    result = await agent.run(ECHO_PROMPT)
    assert result.output == ECHO.split()


@cells_for("embeddings", ["pydantic-ai-chat"])
async def test_embeddings(openai_provider: OpenAIProvider, row: str) -> None:
    embedder = Embedder(OpenAIEmbeddingModel(EMBEDDING_MODEL, provider=openai_provider))
    result = await embedder.embed_documents(list(EMBED_INPUTS))
    assert [len(v) for v in result.embeddings] == [EMBEDDING_DIMENSIONS] * 2


@cells_for("embeddings", ["pydantic-ai-anthropic"])
def test_anthropic_embeddings_not_offered(row: str) -> None:
    modules = {info.name for info in pkgutil.iter_modules(embeddings.__path__)}
    assert "openai" in modules
    assert not [name for name in modules if "anthropic" in name]


@cells_for("unknown model", ROWS)
async def test_unknown_model(models_: Models, row: str) -> None:
    with pytest.raises(ModelHTTPError) as raised:
        await Agent(models_[row](UNKNOWN_MODEL)).run("hi")
    assert raised.value.status_code == 404
    assert raised.value.model_name == UNKNOWN_MODEL
