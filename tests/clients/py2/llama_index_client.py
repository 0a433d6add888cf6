"""llama-index's OpenAILike LLM and OpenAILikeEmbedding against junction."""

from __future__ import annotations

from typing import Any

import openai
from _py2_common import KEY, SPEC, URL, run_cells, typed_error, weather
from llama_index.core.llms import ChatMessage
from llama_index.core.prompts import PromptTemplate
from llama_index.core.tools import FunctionTool
from llama_index.embeddings.openai_like import OpenAILikeEmbedding
from llama_index.llms.openai_like import OpenAILike
from pydantic import BaseModel


class City(BaseModel):
    """A city and its country."""

    city: str
    country: str


def llm(model: str) -> OpenAILike:
    return OpenAILike(
        model=model,
        api_base=f"{URL}/v1",
        api_key=KEY,
        is_chat_model=True,
        is_function_calling_model=True,
        max_retries=0,
    )


def user(text: str) -> list[ChatMessage]:
    return [ChatMessage(role="user", content=text)]


async def chat(model: str) -> dict[str, Any]:
    r = await llm(model).achat(user(SPEC["echo_prompt"]))
    return {"text": r.message.content, "tokens": r.raw.usage.total_tokens}


async def stream(model: str) -> dict[str, Any]:
    pieces = [
        chunk.delta async for chunk in await llm(model).astream_chat(user(SPEC["echo_prompt"]))
    ]
    return {"pieces": [p for p in pieces if p]}


async def tools(model: str) -> dict[str, Any]:
    called: list[str] = []

    def get_weather(city: str) -> str:
        """The weather in a city."""
        called.append(city)
        return weather(city)

    tool = FunctionTool.from_defaults(fn=get_weather)
    model_ = llm(model)
    history = user(SPEC["weather_prompt"])
    first = await model_.achat_with_tools([tool], chat_history=history)
    history.append(first.message)
    for selection in model_.get_tool_calls_from_response(first, error_on_no_tool_call=True):
        output = tool(**selection.tool_kwargs)
        history.append(
            ChatMessage(
                role="tool",
                content=str(output),
                additional_kwargs={"tool_call_id": selection.tool_id, "name": selection.tool_name},
            )
        )
    final = await model_.achat_with_tools([tool], chat_history=history)
    return {"called": called, "text": final.message.content}


async def structured(model: str) -> dict[str, Any]:
    city = await llm(model).astructured_predict(City, PromptTemplate(SPEC["structured_prompt"]))
    return {"object": city.model_dump(), "validated": isinstance(city, City)}


async def embeddings(_: str) -> dict[str, Any]:
    embed = OpenAILikeEmbedding(
        model_name=SPEC["embedding_model"], api_base=f"{URL}/v1", api_key=KEY
    )
    vectors = await embed.aget_text_embedding_batch(SPEC["embed_inputs"])
    return {"dims": [len(v) for v in vectors]}


async def unknown(_: str) -> Any:
    return await typed_error(
        lambda: llm(SPEC["unknown_model"]).achat(user("hi")), openai.NotFoundError
    )


run_cells({
    "llama-index": {"chat": chat, "stream": stream, "tools": tools, "structured": structured,
                    "embeddings": embeddings, "unknown model": unknown},
})  # fmt: skip
