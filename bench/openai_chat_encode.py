"""How long the OpenAI Chat codec takes to build a provider request:
``python bench/openai_chat_encode.py``.

Times ``CODEC.encode_request`` for a short chat (system + user) and for a
tool-using conversation (tools, an assistant tool call, its result, sampling
parameters, a pass-through field for an OpenRouter-style vendor), and prints
microseconds per call (best of five runs).
"""

from __future__ import annotations

import timeit

from junction.codecs.base import Quirks, Target
from junction.codecs.openai_chat import CODEC
from junction.types import (
    ChatRequest,
    Message,
    TextPart,
    Tool,
    ToolCallPart,
    ToolResultPart,
)

SHORT = ChatRequest(
    model="gpt-4o-mini",
    messages=[
        Message("system", [TextPart("You are terse.")]),
        Message("user", [TextPart("Say hello in five words.")]),
    ],
    max_tokens=64,
)

TOOLS = ChatRequest(
    model="gpt-4o-mini",
    messages=[
        Message("system", [TextPart("You answer with the weather tool.")]),
        Message("user", [TextPart("Weather in Paris and Rome?")]),
        Message(
            "assistant",
            [
                ToolCallPart("call_1", "weather", '{"city": "Paris"}'),
                ToolCallPart("call_2", "weather", '{"city": "Rome"}'),
            ],
        ),
        Message(
            "tool",
            [
                ToolResultPart("call_1", [TextPart("18C, clear")]),
                ToolResultPart("call_2", [TextPart("24C, sunny")]),
            ],
        ),
    ],
    tools=[
        Tool(
            "weather",
            "The current weather of a city",
            {"type": "object", "properties": {"city": {"type": "string"}}},
        )
    ],
    temperature=0.2,
    top_p=0.9,
    seed=7,
    stop=["\n\n"],
    stream=True,
    extra={"provider": {"order": ["a", "b"]}},
)

OPENAI = Target("openai", "https://api.openai.com/v1", "gpt-4o-mini", api_key="k")
ROUTER = Target(
    "openrouter",
    "https://openrouter.ai/api/v1",
    "openai/gpt-4o-mini",
    api_key="k",
    quirks=Quirks(pass_extra=frozenset({"provider"}), reasoning_field="reasoning"),
)


def _best_us(request: ChatRequest, target: Target, number: int = 20_000) -> float:
    runs = timeit.repeat(lambda: CODEC.encode_request(request, target), number=number, repeat=5)
    return min(runs) / number * 1e6


def main() -> None:
    print(f"short chat, openai:        {_best_us(SHORT, OPENAI):6.2f} us per encode_request")
    print(f"tool conversation, router: {_best_us(TOOLS, ROUTER):6.2f} us per encode_request")


if __name__ == "__main__":
    main()
