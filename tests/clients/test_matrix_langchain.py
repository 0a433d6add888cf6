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
    cells_for,
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


OPENAI = ("langchain-openai", "langchain-openai-responses")
ROWS = (*OPENAI, "langchain-anthropic")


@cells_for("chat", ROWS)
async def test_chat(chats: Chats, row: str, model: str) -> None:
    answer = await chats[row](model).ainvoke(ECHO_PROMPT)
    assert isinstance(answer, AIMessage)
    assert answer.text == ECHO
    assert answer.usage_metadata is not None
    assert answer.usage_metadata["output_tokens"] > 0


@cells_for("stream", ROWS)
async def test_stream(chats: Chats, row: str, model: str) -> None:
    pieces = [chunk.text async for chunk in chats[row](model).astream(ECHO_PROMPT)]
    assert "".join(pieces) == ECHO
    assert len([p for p in pieces if p]) > 1


@cells_for("tools", ROWS)
async def test_tools(chats: Chats, row: str, model: str) -> None:
    called: list[str] = []

    @tool
    def get_weather(city: str) -> str:
        """The weather in a city."""
        called.append(city)
        return weather(city)

    bound = chats[row](model).bind_tools([get_weather])
    messages: list[BaseMessage] = [HumanMessage(WEATHER_PROMPT)]
    first = await bound.ainvoke(messages)
    assert isinstance(first, AIMessage)
    assert [c["name"] for c in first.tool_calls] == ["get_weather"]
    messages.append(first)
    messages += [await get_weather.ainvoke(c) for c in first.tool_calls]
    assert called == ["Paris"]
    final = await bound.ainvoke(messages)
    assert weather("Paris") in final.text


SCHEMA_IN_PROMPT = SystemMessage(
    "Answer with one JSON object valid against this JSON Schema:\n" + json.dumps(CITY_SCHEMA)
)


async def structured(llm: BaseChatModel, method: str) -> None:
    messages: list[BaseMessage] = [HumanMessage(STRUCTURED_PROMPT)]
    if method == "json_mode":  # JSON mode: the caller writes the schema into the prompt
        messages.insert(0, SCHEMA_IN_PROMPT)
    answer = await llm.with_structured_output(City, method=method).ainvoke(messages)  # type: ignore[arg-type]
    assert isinstance(answer, City)


@cells_for("structured: json_schema", ROWS)
async def test_json_schema(chats: Chats, row: str, model: str) -> None:
    await structured(chats[row](model), "json_schema")


@cells_for("structured: function_calling", ROWS)
async def test_function_calling(chats: Chats, row: str, model: str) -> None:
    await structured(chats[row](model), "function_calling")


@cells_for("structured: json_mode", ["langchain-openai"])
async def test_json_mode(chats: Chats, row: str, model: str) -> None:
    await structured(chats[row](model), "json_mode")


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


@cells_for("unknown model", OPENAI)
async def test_openai_unknown_model(chats: Chats, row: str) -> None:
    with pytest.raises(openai.NotFoundError) as raised:
        await chats[row](UNKNOWN_MODEL).ainvoke("hi")
    assert raised.value.status_code == 404


@cell("langchain-anthropic", "unknown model")
async def test_anthropic_unknown_model(chats: Chats) -> None:
    with pytest.raises(anthropic.NotFoundError) as raised:
        await chats["langchain-anthropic"](UNKNOWN_MODEL).ainvoke("hi")
    assert raised.value.status_code == 404
