"""Shared payloads and types for the stack benchmarks.

A realistic OpenAI chat-completions request body (~2 KB: system, user,
assistant tool call, tool result, user, one tool definition) and one
streaming chunk (~200 B). The msgspec Structs and pydantic models describe
the same shapes so typed decoding is compared like for like.
"""

# ruff: noqa: E501  (payload prose is kept on one line per sentence)
from __future__ import annotations

import json
from typing import Any, Literal

import msgspec
import pydantic

WEATHER_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "city": {
            "type": "string",
            "description": "City name, e.g. 'Lisbon' or 'San Francisco, CA'.",
        },
        "unit": {
            "type": "string",
            "enum": ["celsius", "fahrenheit"],
            "description": "Temperature unit.",
        },
        "days": {
            "type": "integer",
            "minimum": 1,
            "maximum": 14,
            "description": "Forecast length in days.",
        },
    },
    "required": ["city"],
    "additionalProperties": False,
}

REQUEST: dict[str, Any] = {
    "model": "gpt-4o-mini",
    "messages": [
        {
            "role": "system",
            "content": (
                "You are a concise travel assistant. Answer in at most three sentences. "
                "When the user asks about weather, call the get_weather tool instead of guessing, "
                "and always state the unit you are using. Never invent forecasts."
            ),
        },
        {
            "role": "user",
            "content": "I'm flying to Lisbon on Friday for a long weekend. What should I pack? Is it going to rain?",
        },
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_9f2c1a7b3e",
                    "type": "function",
                    "function": {
                        "name": "get_weather",
                        "arguments": '{"city": "Lisbon", "unit": "celsius", "days": 4}',
                    },
                }
            ],
        },
        {
            "role": "tool",
            "tool_call_id": "call_9f2c1a7b3e",
            "content": (
                '{"city": "Lisbon", "unit": "celsius", "forecast": ['
                '{"day": "Fri", "high": 21, "low": 14, "rain_mm": 0.0}, '
                '{"day": "Sat", "high": 19, "low": 13, "rain_mm": 3.2}, '
                '{"day": "Sun", "high": 18, "low": 12, "rain_mm": 7.5}, '
                '{"day": "Mon", "high": 20, "low": 13, "rain_mm": 0.4}]}'
            ),
        },
        {
            "role": "assistant",
            "content": "Friday is dry and mild (21 °C); Saturday and Sunday bring some rain, up to 7.5 mm.",
        },
        {
            "role": "user",
            "content": [
                {
                    "type": "text",
                    "text": "Thanks! Also, do I need a jacket in the evenings? Lows look like 12-14 °C.",
                },
            ],
        },
    ],
    "tools": [
        {
            "type": "function",
            "function": {
                "name": "get_weather",
                "description": "Get the daily weather forecast for a city, including highs, lows and rainfall.",
                "parameters": WEATHER_SCHEMA,
            },
        }
    ],
    "tool_choice": "auto",
    "temperature": 0.2,
    "top_p": 1.0,
    "max_tokens": 512,
    "stream": True,
    "stream_options": {"include_usage": True},
    "user": "user-4821",
}

CHUNK: dict[str, Any] = {
    "id": "chatcmpl-9x8Yw7Vu6Ts5Rq4Po3Nm",
    "object": "chat.completion.chunk",
    "created": 1718035200,
    "model": "gpt-4o-mini-2024-07-18",
    "system_fingerprint": "fp_44709d6fcb",
    "choices": [
        {"index": 0, "delta": {"content": " evenings"}, "logprobs": None, "finish_reason": None}
    ],
}

REQUEST_BYTES = json.dumps(REQUEST, separators=(",", ":"), ensure_ascii=False).encode()
CHUNK_BYTES = json.dumps(CHUNK, separators=(",", ":")).encode()

# A ~1 KB non-streaming chat completion, returned by the fake upstream / servers.
COMPLETION: dict[str, Any] = {
    "id": "chatcmpl-9x8Yw7Vu6Ts5Rq4Po3Nm",
    "object": "chat.completion",
    "created": 1718035200,
    "model": "gpt-4o-mini-2024-07-18",
    "system_fingerprint": "fp_44709d6fcb",
    "choices": [
        {
            "index": 0,
            "message": {
                "role": "assistant",
                "content": (
                    "Yes, bring a light jacket or a warm sweater for the evenings: lows of 12-14 °C feel cool, "
                    "especially near the river where it is often windy. A compact umbrella or a rain shell "
                    "will cover Saturday and Sunday, when up to 7.5 mm of rain is expected. During the day "
                    "a T-shirt with a long-sleeve layer is enough, and comfortable shoes with grip help on "
                    "Lisbon's steep, polished cobblestones, which get slippery when wet. Enjoy the trip, and "
                    "try the pastéis de nata in Belém early in the morning before the queues build up! "
                    "If you plan a day trip to Sintra, pack one extra layer: it is usually a few degrees cooler there."
                ),
            },
            "logprobs": None,
            "finish_reason": "stop",
        }
    ],
    "usage": {"prompt_tokens": 412, "completion_tokens": 118, "total_tokens": 530},
}
COMPLETION_BYTES = json.dumps(COMPLETION, separators=(",", ":"), ensure_ascii=False).encode()


# ---- msgspec Structs --------------------------------------------------------


class TextPart(msgspec.Struct, tag_field="type", tag="text", forbid_unknown_fields=False):
    text: str


class FunctionCall(msgspec.Struct):
    name: str
    arguments: str


class ToolCall(msgspec.Struct):
    id: str
    function: FunctionCall
    type: Literal["function"] = "function"


class Message(msgspec.Struct, omit_defaults=True):
    role: Literal["system", "user", "assistant", "tool", "developer"]
    content: str | list[TextPart] | None = None
    name: str | None = None
    tool_calls: list[ToolCall] | None = None
    tool_call_id: str | None = None


class FunctionDef(msgspec.Struct, omit_defaults=True):
    name: str
    description: str | None = None
    parameters: dict[str, Any] | None = None


class Tool(msgspec.Struct):
    function: FunctionDef
    type: Literal["function"] = "function"


class StreamOptions(msgspec.Struct):
    include_usage: bool = False


class ChatRequest(msgspec.Struct, omit_defaults=True):
    model: str
    messages: list[Message]
    tools: list[Tool] | None = None
    tool_choice: str | dict[str, Any] | None = None
    temperature: float | None = None
    top_p: float | None = None
    max_tokens: int | None = None
    stream: bool = False
    stream_options: StreamOptions | None = None
    user: str | None = None


class Delta(msgspec.Struct, omit_defaults=True):
    role: str | None = None
    content: str | None = None
    tool_calls: list[dict[str, Any]] | None = None


class ChunkChoice(msgspec.Struct):
    index: int
    delta: Delta
    finish_reason: str | None = None
    logprobs: dict[str, Any] | None = None


class Chunk(msgspec.Struct):
    id: str
    object: str
    created: int
    model: str
    choices: list[ChunkChoice]
    system_fingerprint: str | None = None


# ---- pydantic v2 models (same shapes) ---------------------------------------


class PTextPart(pydantic.BaseModel):
    type: Literal["text"]
    text: str


class PFunctionCall(pydantic.BaseModel):
    name: str
    arguments: str


class PToolCall(pydantic.BaseModel):
    id: str
    function: PFunctionCall
    type: Literal["function"] = "function"


class PMessage(pydantic.BaseModel):
    role: Literal["system", "user", "assistant", "tool", "developer"]
    content: str | list[PTextPart] | None = None
    name: str | None = None
    tool_calls: list[PToolCall] | None = None
    tool_call_id: str | None = None


class PFunctionDef(pydantic.BaseModel):
    name: str
    description: str | None = None
    parameters: dict[str, Any] | None = None


class PTool(pydantic.BaseModel):
    function: PFunctionDef
    type: Literal["function"] = "function"


class PStreamOptions(pydantic.BaseModel):
    include_usage: bool = False


class PChatRequest(pydantic.BaseModel):
    model: str
    messages: list[PMessage]
    tools: list[PTool] | None = None
    tool_choice: str | dict[str, Any] | None = None
    temperature: float | None = None
    top_p: float | None = None
    max_tokens: int | None = None
    stream: bool = False
    stream_options: PStreamOptions | None = None
    user: str | None = None


class PDelta(pydantic.BaseModel):
    role: str | None = None
    content: str | None = None
    tool_calls: list[dict[str, Any]] | None = None


class PChunkChoice(pydantic.BaseModel):
    index: int
    delta: PDelta
    finish_reason: str | None = None
    logprobs: dict[str, Any] | None = None


class PChunk(pydantic.BaseModel):
    id: str
    object: str
    created: int
    model: str
    choices: list[PChunkChoice]
    system_fingerprint: str | None = None


if __name__ == "__main__":
    print(
        f"request body: {len(REQUEST_BYTES)} B, chunk: {len(CHUNK_BYTES)} B, completion: {len(COMPLETION_BYTES)} B"
    )
    r = msgspec.json.decode(REQUEST_BYTES, type=ChatRequest)
    p = PChatRequest.model_validate_json(REQUEST_BYTES)
    assert msgspec.json.decode(msgspec.json.encode(r)) == msgspec.json.decode(
        p.model_dump_json(exclude_none=True)
    )
    msgspec.json.decode(CHUNK_BYTES, type=Chunk)
    PChunk.model_validate_json(CHUNK_BYTES)
    print("typed decode ok")
