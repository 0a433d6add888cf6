"""litellm as an SDK against junction: the ``openai/`` provider prefix
(junction's OpenAI door) and the ``anthropic/`` one (its Anthropic door)."""

from __future__ import annotations

import json
import os
from typing import Any

# litellm fetches its model price map from the internet at import time unless
# told to use the copy it ships (docs/clients.md, Quirks).
os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"

import litellm
from _py2_common import KEY, SPEC, URL, Scenario, run_cells, typed_error, weather
from pydantic import BaseModel

litellm.suppress_debug_info = True
TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "The weather in a city",
        "parameters": SPEC["weather_parameters"],
    },
}


class City(BaseModel):
    city: str
    country: str


def user(text: str) -> list[Any]:
    return [{"role": "user", "content": text}]


def scenarios(prefix: str, api_base: str) -> dict[str, Scenario]:
    def call(model: str, **kwargs: Any) -> Any:
        return litellm.acompletion(
            model=f"{prefix}/{model}", api_base=api_base, api_key=KEY, num_retries=0, **kwargs
        )

    async def chat(model: str) -> dict[str, Any]:
        r = await call(model, messages=user(SPEC["echo_prompt"]))
        choice = r.choices[0]
        return {"text": choice.message.content, "stopped": choice.finish_reason == "stop",
                "tokens": r.usage.total_tokens}  # fmt: skip

    async def stream(model: str) -> dict[str, Any]:
        chunks = await call(model, messages=user(SPEC["echo_prompt"]), stream=True)
        pieces = [c.choices[0].delta.content async for c in chunks if c.choices]
        return {"pieces": [p for p in pieces if p]}

    async def tools(model: str) -> dict[str, Any]:
        messages = user(SPEC["weather_prompt"])
        first = await call(model, messages=messages, tools=[TOOL])
        message = first.choices[0].message
        messages.append(message.model_dump(exclude_none=True))
        called = []
        for tool_call in message.tool_calls or []:
            city = json.loads(tool_call.function.arguments)["city"]
            called.append(city)
            messages.append(
                {"role": "tool", "tool_call_id": tool_call.id, "content": weather(city)}
            )
        final = await call(model, messages=messages, tools=[TOOL])
        return {"called": called, "text": final.choices[0].message.content}

    async def structured(model: str) -> dict[str, Any]:
        r = await call(model, messages=user(SPEC["structured_prompt"]), response_format=City)
        content = r.choices[0].message.content
        return {"object": json.loads(content), "validated": bool(City.model_validate_json(content))}

    async def unknown(_: str) -> Any:
        return await typed_error(
            lambda: call(SPEC["unknown_model"], messages=user("hi")), litellm.NotFoundError
        )

    return {"chat": chat, "stream": stream, "tools": tools, "structured": structured,
            "unknown model": unknown}  # fmt: skip


async def embeddings(_: str) -> dict[str, Any]:
    r = await litellm.aembedding(
        model=f"openai/{SPEC['embedding_model']}",
        api_base=f"{URL}/v1",
        api_key=KEY,
        input=SPEC["embed_inputs"],
    )
    return {"dims": [len(d["embedding"]) for d in r.data]}


run_cells({
    "litellm-openai": {**scenarios("openai", f"{URL}/v1"), "embeddings": embeddings},
    "litellm-anthropic": scenarios("anthropic", URL),
})  # fmt: skip
