"""The Gemini dialect, proven with the official google-genai SDK pointed at the simulator."""

from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING, Any

import jsonschema
from google import genai
from google.genai import types

if TYPE_CHECKING:
    from tests.sim.conftest import Sim

FORECAST: dict[str, Any] = {
    "type": "object",
    "properties": {
        "location": {"type": "string"},
        "days": {"type": "integer", "minimum": 1, "maximum": 5},
        "detail": {"type": "string", "enum": ["brief", "full"]},
    },
    "required": ["location", "days", "detail"],
}


def _client(sim: Sim) -> genai.Client:
    return genai.Client(api_key="gm-test", http_options=types.HttpOptions(base_url=sim.url))


def _tool(*names: str) -> types.Tool:
    return types.Tool(
        function_declarations=[
            types.FunctionDeclaration(
                name=name, description=f"{name} tool", parameters_json_schema=FORECAST
            )
            for name in names
        ]
    )


async def test_generate_content(sim: Sim) -> None:
    r = await _client(sim).aio.models.generate_content(
        model="gemini-sim", contents="echo: ciao mondo"
    )
    assert r.text == "ciao mondo"
    assert r.candidates is not None
    assert r.candidates[0].finish_reason == types.FinishReason.STOP
    usage = r.usage_metadata
    assert usage is not None
    assert usage.prompt_token_count is not None
    assert usage.prompt_token_count > 0
    assert usage.candidates_token_count == math.ceil(len("ciao mondo") / 4)
    assert usage.total_token_count == usage.prompt_token_count + usage.candidates_token_count


async def test_system_instruction_and_max_tokens(sim: Sim) -> None:
    r = await _client(sim).aio.models.generate_content(
        model="gemini-sim",
        contents="echo: 0123456789abcdef",
        config=types.GenerateContentConfig(system_instruction="Be terse.", max_output_tokens=2),
    )
    assert r.text == "01234567"
    assert r.candidates is not None
    assert r.candidates[0].finish_reason == types.FinishReason.MAX_TOKENS


async def test_stop_sequences(sim: Sim) -> None:
    r = await _client(sim).aio.models.generate_content(
        model="gemini-sim",
        contents="echo: first|second",
        config=types.GenerateContentConfig(stop_sequences=["|"]),
    )
    assert r.text == "first"


async def test_stream(sim: Sim) -> None:
    chunks = [
        chunk
        async for chunk in await _client(sim).aio.models.generate_content_stream(
            model="gemini-sim", contents="echo: the stream comes in several pieces"
        )
    ]
    assert len(chunks) > 1
    assert "".join(c.text or "" for c in chunks) == "the stream comes in several pieces"
    last = chunks[-1]
    assert last.candidates is not None
    assert last.candidates[0].finish_reason == types.FinishReason.STOP
    assert last.usage_metadata is not None
    assert last.usage_metadata.candidates_token_count == math.ceil(
        len("the stream comes in several pieces") / 4
    )


async def test_forced_function_call(sim: Sim) -> None:
    config = types.GenerateContentConfig(
        tools=[_tool("lookup", "forecast")],
        tool_config=types.ToolConfig(
            function_calling_config=types.FunctionCallingConfig(
                mode=types.FunctionCallingConfigMode.ANY, allowed_function_names=["forecast"]
            )
        ),
    )
    r = await _client(sim).aio.models.generate_content(
        model="gemini-sim", contents="What will it be like in Madrid?", config=config
    )
    calls = r.function_calls
    assert calls is not None
    assert len(calls) == 1
    assert calls[0].name == "forecast"
    jsonschema.validate(calls[0].args, FORECAST)
    assert calls[0].args == {"location": "Madrid", "days": 1, "detail": "brief"}


async def test_parallel_function_calls_when_prompted(sim: Sim) -> None:
    config = types.GenerateContentConfig(tools=[_tool("lookup", "forecast")])
    r = await _client(sim).aio.models.generate_content(
        model="gemini-sim", contents="run lookup and forecast for Cairo", config=config
    )
    calls = r.function_calls
    assert calls is not None
    assert [c.name for c in calls] == ["lookup", "forecast"]
    for call in calls:
        jsonschema.validate(call.args, FORECAST)


async def test_streamed_function_call(sim: Sim) -> None:
    config = types.GenerateContentConfig(tools=[_tool("forecast")])
    calls = []
    async for chunk in await _client(sim).aio.models.generate_content_stream(
        model="gemini-sim", contents="use the forecast tool for Nairobi", config=config
    ):
        calls.extend(chunk.function_calls or [])
    assert [c.name for c in calls] == ["forecast"]
    jsonschema.validate(calls[0].args, FORECAST)


async def test_function_response_answered_in_text(sim: Sim) -> None:
    contents = [
        types.Content(role="user", parts=[types.Part(text="forecast for Quito")]),
        types.Content(
            role="model",
            parts=[
                types.Part(
                    function_call=types.FunctionCall(name="forecast", args={"location": "Quito"})
                )
            ],
        ),
        types.Content(
            role="user",
            parts=[
                types.Part(
                    function_response=types.FunctionResponse(
                        name="forecast", response={"result": "dry and mild"}
                    )
                )
            ],
        ),
    ]
    r = await _client(sim).aio.models.generate_content(
        model="gemini-sim",
        contents=contents,
        config=types.GenerateContentConfig(tools=[_tool("forecast")]),
    )
    assert r.function_calls is None
    assert "dry and mild" in (r.text or "")


async def test_json_schema_output(sim: Sim) -> None:
    r = await _client(sim).aio.models.generate_content(
        model="gemini-sim",
        contents="give me a forecast",
        config=types.GenerateContentConfig(
            response_mime_type="application/json", response_json_schema=FORECAST
        ),
    )
    jsonschema.validate(json.loads(r.text or ""), FORECAST)


async def test_thinking(sim: Sim) -> None:
    r = await _client(sim).aio.models.generate_content(
        model="gemini-sim",
        contents="why is the sky blue?",
        config=types.GenerateContentConfig(
            thinking_config=types.ThinkingConfig(include_thoughts=True, thinking_budget=256)
        ),
    )
    assert r.candidates is not None
    content = r.candidates[0].content
    assert content is not None
    assert content.parts is not None
    thoughts = [p for p in content.parts if p.thought]
    answers = [p for p in content.parts if not p.thought and p.text]
    assert thoughts
    assert answers
    assert r.usage_metadata is not None
    assert r.usage_metadata.thoughts_token_count is not None
    assert r.usage_metadata.thoughts_token_count > 0


async def test_candidate_count(sim: Sim) -> None:
    r = await _client(sim).aio.models.generate_content(
        model="gemini-sim",
        contents="options please",
        config=types.GenerateContentConfig(candidate_count=2),
    )
    assert r.candidates is not None
    assert len(r.candidates) == 2


async def test_embed_content(sim: Sim) -> None:
    r = await _client(sim).aio.models.embed_content(
        model="text-embedding-sim",
        contents=["the cat sat", "the cat sat", "stock markets fell"],
        config=types.EmbedContentConfig(output_dimensionality=24),
    )
    assert r.embeddings is not None
    values = [e.values for e in r.embeddings]
    assert len(values) == 3
    assert all(v is not None and len(v) == 24 for v in values)
    for v in values:
        assert v is not None
        assert math.isclose(math.fsum(x * x for x in v), 1.0, rel_tol=1e-6)
    assert values[0] == values[1]
    assert values[0] != values[2]


async def test_single_embed_content_endpoint(sim: Sim) -> None:
    r = await sim.http.post(
        "/v1beta/models/text-embedding-sim:embedContent",
        json={"content": {"parts": [{"text": "hello"}]}, "outputDimensionality": 8},
        headers={"x-goog-api-key": "k"},
    )
    assert r.status_code == 200, r.text
    values = r.json()["embedding"]["values"]
    assert len(values) == 8


async def test_invalid_request_is_400_in_gemini_shape(sim: Sim) -> None:
    r = await sim.http.post(
        "/v1beta/models/gemini-sim:generateContent",
        json={"contents": "not a list"},
        headers={"x-goog-api-key": "k"},
    )
    assert r.status_code == 400
    error = r.json()["error"]
    assert error["code"] == 400
    assert error["status"] == "INVALID_ARGUMENT"
    assert error["message"]
