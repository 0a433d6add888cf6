"""langchain-openai (ChatOpenAI, on Chat Completions and on Responses;
OpenAIEmbeddings) and langchain-anthropic (ChatAnthropic) against junction."""

from __future__ import annotations

import json
from collections.abc import Callable

import anthropic
import langchain_anthropic
import openai
import pytest
from langchain_anthropic import ChatAnthropic
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from langchain_core.tools import tool
from langchain_openai import ChatOpenAI, OpenAIEmbeddings
from pydantic import BaseModel

from _client_matrix import (
    CITY_SCHEMA,
    ECHO,
    ECHO_PROMPT,
    EMBED_INPUTS,
    EMBEDDING_DIMENSIONS,
    EMBEDDING_MODEL,
    STRUCTURED_PROMPT,
    UNKNOWN_MODEL,
    WEATHER_PROMPT,
    cell,
    weather,
)

KEY = "sk-junction"


class City(BaseModel):
    """A city and its country."""

    city: str
    country: str


Chats = dict[str, Callable[[str], BaseChatModel]]


@pytest.fixture(scope="module")
def chats(junction: str) -> Chats:
    v1 = f"{junction}/v1"
    return {
        "langchain-openai": lambda m: ChatOpenAI(model=m, base_url=v1, api_key=KEY, max_retries=0),
        "langchain-openai-responses": lambda m: ChatOpenAI(
            model=m, base_url=v1, api_key=KEY, max_retries=0, use_responses_api=True
        ),
        "langchain-anthropic": lambda m: ChatAnthropic(
            model_name=m, base_url=junction, api_key=KEY, max_retries=0, timeout=30, stop=None
        ),
    }


def text(message: BaseMessage) -> str:
    """The text of an answer (a string, or content blocks on Responses)."""
    return message.text


@cell("langchain-openai", "chat")
async def test_openai_chat(chats: Chats, model: str) -> None:
    await chat(chats["langchain-openai"](model))


@cell("langchain-openai-responses", "chat")
async def test_openai_responses_chat(chats: Chats, model: str) -> None:
    await chat(chats["langchain-openai-responses"](model))


@cell("langchain-anthropic", "chat")
async def test_anthropic_chat(chats: Chats, model: str) -> None:
    await chat(chats["langchain-anthropic"](model))


async def chat(llm: BaseChatModel) -> None:
    answer = await llm.ainvoke(ECHO_PROMPT)
    assert text(answer) == ECHO
    assert isinstance(answer, AIMessage)
    assert answer.usage_metadata is not None
    assert answer.usage_metadata["output_tokens"] > 0


@cell("langchain-openai", "stream")
async def test_openai_stream(chats: Chats, model: str) -> None:
    await stream(chats["langchain-openai"](model))


@cell("langchain-openai-responses", "stream")
async def test_openai_responses_stream(chats: Chats, model: str) -> None:
    await stream(chats["langchain-openai-responses"](model))


@cell("langchain-anthropic", "stream")
async def test_anthropic_stream(chats: Chats, model: str) -> None:
    await stream(chats["langchain-anthropic"](model))


async def stream(llm: BaseChatModel) -> None:
    pieces = [text(chunk) async for chunk in llm.astream(ECHO_PROMPT)]
    assert "".join(pieces) == ECHO
    assert len([p for p in pieces if p]) > 1


@cell("langchain-openai", "tools")
async def test_openai_tools(chats: Chats, model: str) -> None:
    await tools(chats["langchain-openai"](model))


@cell("langchain-openai-responses", "tools")
async def test_openai_responses_tools(chats: Chats, model: str) -> None:
    await tools(chats["langchain-openai-responses"](model))


@cell("langchain-anthropic", "tools")
async def test_anthropic_tools(chats: Chats, model: str) -> None:
    await tools(chats["langchain-anthropic"](model))


async def tools(llm: BaseChatModel) -> None:
    called: list[str] = []

    @tool
    def get_weather(city: str) -> str:
        """The weather in a city."""
        called.append(city)
        return weather(city)

    bound = llm.bind_tools([get_weather])
    messages: list[BaseMessage] = [HumanMessage(WEATHER_PROMPT)]
    first = await bound.ainvoke(messages)
    assert isinstance(first, AIMessage)
    assert [c["name"] for c in first.tool_calls] == ["get_weather"]
    messages.append(first)
    messages += [await get_weather.ainvoke(c) for c in first.tool_calls]
    assert called == ["Paris"]
    final = await bound.ainvoke(messages)
    assert weather("Paris") in text(final)


SCHEMA_IN_PROMPT = SystemMessage(
    "Answer with one JSON object valid against this JSON Schema:\n" + json.dumps(CITY_SCHEMA)
)


async def structured(llm: BaseChatModel, method: str) -> None:
    messages: list[BaseMessage] = [HumanMessage(STRUCTURED_PROMPT)]
    if method == "json_mode":  # JSON mode: the caller writes the schema into the prompt
        messages.insert(0, SCHEMA_IN_PROMPT)
    answer = await llm.with_structured_output(City, method=method).ainvoke(messages)  # type: ignore[arg-type]
    assert isinstance(answer, City)


@cell("langchain-openai", "structured: json_schema")
async def test_openai_json_schema(chats: Chats, model: str) -> None:
    await structured(chats["langchain-openai"](model), "json_schema")


@cell("langchain-openai", "structured: function_calling")
async def test_openai_function_calling(chats: Chats, model: str) -> None:
    await structured(chats["langchain-openai"](model), "function_calling")


@cell("langchain-openai", "structured: json_mode")
async def test_openai_json_mode(chats: Chats, model: str) -> None:
    await structured(chats["langchain-openai"](model), "json_mode")


@cell("langchain-openai-responses", "structured: json_schema")
async def test_openai_responses_json_schema(chats: Chats, model: str) -> None:
    await structured(chats["langchain-openai-responses"](model), "json_schema")


@cell("langchain-openai-responses", "structured: function_calling")
async def test_openai_responses_function_calling(chats: Chats, model: str) -> None:
    await structured(chats["langchain-openai-responses"](model), "function_calling")


@cell("langchain-anthropic", "structured: function_calling")
async def test_anthropic_function_calling(chats: Chats, model: str) -> None:
    await structured(chats["langchain-anthropic"](model), "function_calling")


@cell("langchain-anthropic", "structured: json_schema")
async def test_anthropic_json_schema(chats: Chats, model: str) -> None:
    await structured(chats["langchain-anthropic"](model), "json_schema")


@cell("langchain-openai", "embeddings")
async def test_openai_embeddings(junction: str) -> None:
    embeddings = OpenAIEmbeddings(
        model=EMBEDDING_MODEL,
        base_url=f"{junction}/v1",
        api_key=KEY,  # type: ignore[arg-type]
        check_embedding_ctx_length=False,  # see docs/clients.md: Quirks
    )
    vectors = await embeddings.aembed_documents(list(EMBED_INPUTS))
    assert [len(v) for v in vectors] == [EMBEDDING_DIMENSIONS] * 2
    assert len(await embeddings.aembed_query(EMBED_INPUTS[0])) == EMBEDDING_DIMENSIONS


@cell("langchain-anthropic", "embeddings")
def test_anthropic_embeddings_not_offered() -> None:
    assert not [name for name in dir(langchain_anthropic) if "mbed" in name]


@cell("langchain-openai", "unknown model")
async def test_openai_unknown_model(chats: Chats) -> None:
    with pytest.raises(openai.NotFoundError) as raised:
        await chats["langchain-openai"](UNKNOWN_MODEL).ainvoke("hi")
    assert raised.value.status_code == 404


@cell("langchain-openai-responses", "unknown model")
async def test_openai_responses_unknown_model(chats: Chats) -> None:
    with pytest.raises(openai.NotFoundError) as raised:
        await chats["langchain-openai-responses"](UNKNOWN_MODEL).ainvoke("hi")
    assert raised.value.status_code == 404


@cell("langchain-anthropic", "unknown model")
async def test_anthropic_unknown_model(chats: Chats) -> None:
    with pytest.raises(anthropic.NotFoundError) as raised:
        await chats["langchain-anthropic"](UNKNOWN_MODEL).ainvoke("hi")
    assert raised.value.status_code == 404
