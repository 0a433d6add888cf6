"""Agent loops the simulator must finish, driven through the official SDKs.

Each loop mimics what an agent library does on the wire: pydantic-ai's output
tool (``tool_choice`` required, tools ``[get_weather, final_result]``: the loop
ends when ``final_result`` is called), structured output after a tool result,
and instructor's / pydantic-ai's prompted JSON (the schema written into the
system prompt, no ``response_format`` or only ``json_object``).
"""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING, Any

import anthropic
import botocore.session
import jsonschema
import openai
import pytest
from anthropic.types import TextBlock, ToolUseBlock
from botocore.config import Config as BotoConfig
from google import genai
from google.genai import types

if TYPE_CHECKING:
    from tests.sim.conftest import Sim

WEATHER_ARGS: dict[str, Any] = {
    "type": "object",
    "properties": {"city": {"type": "string"}},
    "required": ["city"],
}
REPORT: dict[str, Any] = {
    "title": "Report",
    "type": "object",
    "properties": {
        "city": {"type": "string"},
        "temperature": {"type": "number", "minimum": -50, "maximum": 60},
        "sky": {"type": "string", "enum": ["clear", "cloudy", "rain"]},
    },
    "required": ["city", "temperature", "sky"],
}
PROMPT = "What is the weather in Paris?"
RESULT = "sunny, 21 degrees"
# instructor's JSON / MD_JSON / ANTHROPIC_JSON system prompt, in its own words
INSTRUCTOR_SYSTEM = (
    "As a genius expert, your task is to understand the content and provide the parsed "
    "objects in json that match the following json_schema:\n\n"
    + json.dumps(REPORT, indent=2)
    + "\n\nMake sure to return an instance of the JSON, not the schema itself"
)
# pydantic-ai's PromptedOutput template
PROMPTED_SYSTEM = (
    "Always respond with a JSON object that's compatible with this schema:\n\n"
    + json.dumps(REPORT)
    + "\n\nDon't include any text or Markdown fencing before or after."
)
MAX_TURNS = 5


def _valid_report(value: Any) -> None:
    jsonschema.validate(value, REPORT)
    assert value["city"] == "Paris"


# --- OpenAI Chat Completions -------------------------------------------------


def _chat_tools() -> list[Any]:
    return [
        {"type": "function", "function": {"name": name, "parameters": params}}
        for name, params in (("get_weather", WEATHER_ARGS), ("final_result", REPORT))
    ]


def _openai(sim: Sim) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(base_url=sim.url + "/v1", api_key="sk-test", max_retries=0)


async def test_openai_chat_output_tool_loop_ends_with_final_result(sim: Sim) -> None:
    client = _openai(sim)
    messages: list[Any] = [{"role": "user", "content": PROMPT}]
    called: list[str] = []
    for _ in range(MAX_TURNS):
        r = await client.chat.completions.create(
            model="gpt-sim", messages=messages, tools=_chat_tools(), tool_choice="required"
        )
        message = r.choices[0].message
        assert message.tool_calls, "tool_choice required must always call a tool"
        call = message.tool_calls[0]
        assert call.type == "function"
        called.append(call.function.name)
        if call.function.name == "final_result":
            _valid_report(json.loads(call.function.arguments))
            break
        messages.append(message.model_dump(exclude_none=True))
        messages.append({"role": "tool", "tool_call_id": call.id, "content": RESULT})
    assert called == ["get_weather", "final_result"]


async def test_openai_chat_response_format_after_tool_result(sim: Sim) -> None:
    messages: list[Any] = [
        {"role": "user", "content": PROMPT},
        {
            "role": "assistant",
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": RESULT},
    ]
    r = await _openai(sim).chat.completions.create(
        model="gpt-sim",
        messages=messages,
        tools=_chat_tools()[:1],
        response_format={
            "type": "json_schema",
            "json_schema": {"name": "Report", "schema": REPORT, "strict": True},
        },
    )
    assert r.choices[0].finish_reason == "stop"
    _valid_report(json.loads(r.choices[0].message.content or ""))


async def test_openai_chat_json_object_after_tool_result_quotes_it(sim: Sim) -> None:
    messages: list[Any] = [
        {"role": "user", "content": PROMPT},
        {
            "role": "assistant",
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": "{}"},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": RESULT},
    ]
    r = await _openai(sim).chat.completions.create(
        model="gpt-sim", messages=messages, response_format={"type": "json_object"}
    )
    answer = json.loads(r.choices[0].message.content or "")
    assert list(answer) == ["answer"]
    assert RESULT in answer["answer"]


@pytest.mark.parametrize(
    "response_format", [None, {"type": "json_object"}], ids=["no_format", "json_object"]
)
@pytest.mark.parametrize(
    "system", [INSTRUCTOR_SYSTEM, PROMPTED_SYSTEM], ids=["instructor", "prompted"]
)
async def test_openai_chat_schema_in_the_system_prompt(
    sim: Sim, system: str, response_format: Any
) -> None:
    extra = {"response_format": response_format} if response_format else {}
    r = await _openai(sim).chat.completions.create(
        model="gpt-sim",
        messages=[{"role": "system", "content": system}, {"role": "user", "content": PROMPT}],
        **extra,
    )
    _valid_report(json.loads(r.choices[0].message.content or ""))


async def test_openai_chat_streamed_prompted_json(sim: Sim) -> None:
    stream = await _openai(sim).chat.completions.create(
        model="gpt-sim",
        messages=[
            {"role": "system", "content": PROMPTED_SYSTEM},
            {"role": "user", "content": PROMPT},
        ],
        stream=True,
    )
    text = "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])
    _valid_report(json.loads(text))


async def test_openai_chat_fenced_schema_in_the_user_message(sim: Sim) -> None:
    content = f"{PROMPT} Answer with JSON for this schema:\n```json\n{json.dumps(REPORT)}\n```"
    r = await _openai(sim).chat.completions.create(
        model="gpt-sim", messages=[{"role": "user", "content": content}]
    )
    _valid_report(json.loads(r.choices[0].message.content or ""))


# --- OpenAI Responses --------------------------------------------------------


async def test_responses_output_tool_loop_ends_with_final_result(sim: Sim) -> None:
    client = _openai(sim)
    tools: list[Any] = [
        {"type": "function", "name": "get_weather", "parameters": WEATHER_ARGS, "strict": False},
        {"type": "function", "name": "final_result", "parameters": REPORT, "strict": False},
    ]
    items: list[Any] = [{"role": "user", "content": PROMPT}]
    called: list[str] = []
    for _ in range(MAX_TURNS):
        r = await client.responses.create(
            model="gpt-sim", input=items, tools=tools, tool_choice="required"
        )
        calls = [item for item in r.output if item.type == "function_call"]
        assert calls, "tool_choice required must always call a tool"
        call = calls[0]
        called.append(call.name)
        if call.name == "final_result":
            _valid_report(json.loads(call.arguments))
            break
        items.append(
            {
                "type": "function_call",
                "call_id": call.call_id,
                "name": call.name,
                "arguments": call.arguments,
            }
        )
        items.append({"type": "function_call_output", "call_id": call.call_id, "output": RESULT})
    assert called == ["get_weather", "final_result"]


async def test_responses_schema_in_the_instructions(sim: Sim) -> None:
    r = await _openai(sim).responses.create(
        model="gpt-sim", instructions=PROMPTED_SYSTEM, input=PROMPT
    )
    _valid_report(json.loads(r.output_text))


# --- Anthropic Messages ------------------------------------------------------


def _anthropic(sim: Sim) -> anthropic.AsyncAnthropic:
    return anthropic.AsyncAnthropic(base_url=sim.url, api_key="sk-ant-test", max_retries=0)


async def test_anthropic_output_tool_loop_ends_with_final_result(sim: Sim) -> None:
    client = _anthropic(sim)
    tools: list[Any] = [
        {"name": "get_weather", "input_schema": WEATHER_ARGS},
        {"name": "final_result", "input_schema": REPORT},
    ]
    messages: list[Any] = [{"role": "user", "content": PROMPT}]
    called: list[str] = []
    for _ in range(MAX_TURNS):
        m = await client.messages.create(
            model="claude-sim",
            max_tokens=300,
            messages=messages,
            tools=tools,
            tool_choice={"type": "any"},
        )
        uses = [block for block in m.content if isinstance(block, ToolUseBlock)]
        assert uses, "tool_choice any must always call a tool"
        use = uses[0]
        called.append(use.name)
        if use.name == "final_result":
            _valid_report(use.input)
            break
        messages.append({"role": "assistant", "content": [b.model_dump() for b in m.content]})
        messages.append(
            {
                "role": "user",
                "content": [{"type": "tool_result", "tool_use_id": use.id, "content": RESULT}],
            }
        )
    assert called == ["get_weather", "final_result"]


async def test_anthropic_json_schema_in_the_system_prompt(sim: Sim) -> None:
    """instructor's ANTHROPIC_JSON mode: no tools, no output format, a schema in `system`."""
    m = await _anthropic(sim).messages.create(
        model="claude-sim",
        max_tokens=300,
        system=INSTRUCTOR_SYSTEM,
        messages=[{"role": "user", "content": PROMPT}],
    )
    assert isinstance(m.content[0], TextBlock)
    _valid_report(json.loads(m.content[0].text))


# --- Gemini ------------------------------------------------------------------


def _gemini(sim: Sim) -> genai.Client:
    return genai.Client(api_key="gm-test", http_options=types.HttpOptions(base_url=sim.url))


async def test_gemini_output_tool_loop_ends_with_final_result(sim: Sim) -> None:
    client = _gemini(sim)
    tool = types.Tool(
        function_declarations=[
            types.FunctionDeclaration(name="get_weather", parameters_json_schema=WEATHER_ARGS),
            types.FunctionDeclaration(name="final_result", parameters_json_schema=REPORT),
        ]
    )
    config = types.GenerateContentConfig(
        tools=[tool],
        tool_config=types.ToolConfig(
            function_calling_config=types.FunctionCallingConfig(
                mode=types.FunctionCallingConfigMode.ANY
            )
        ),
    )
    contents = [types.Content(role="user", parts=[types.Part(text=PROMPT)])]
    called: list[str] = []
    for _ in range(MAX_TURNS):
        r = await client.aio.models.generate_content(
            model="gemini-sim", contents=contents, config=config
        )
        assert r.function_calls, "mode ANY must always call a function"
        call = r.function_calls[0]
        assert call.name is not None
        called.append(call.name)
        if call.name == "final_result":
            _valid_report(call.args)
            break
        contents.append(types.Content(role="model", parts=[types.Part(function_call=call)]))
        response = types.FunctionResponse(name=call.name, response={"result": RESULT})
        contents.append(types.Content(role="user", parts=[types.Part(function_response=response)]))
    assert called == ["get_weather", "final_result"]


async def test_gemini_json_mime_type_with_schema_in_the_system_instruction(sim: Sim) -> None:
    r = await _gemini(sim).aio.models.generate_content(
        model="gemini-sim",
        contents=PROMPT,
        config=types.GenerateContentConfig(
            system_instruction=INSTRUCTOR_SYSTEM, response_mime_type="application/json"
        ),
    )
    _valid_report(json.loads(r.text or ""))


# --- Bedrock Converse (botocore, the AWS SDK's core) -------------------------


def _bedrock_calls(endpoint: str) -> dict[str, Any]:
    client = botocore.session.get_session().create_client(
        "bedrock-runtime",
        region_name="us-east-1",
        endpoint_url=endpoint,
        aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key="secret-example",
        config=BotoConfig(retries={"total_max_attempts": 1}),
    )
    model = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
    tool_config: dict[str, Any] = {
        "tools": [
            {"toolSpec": {"name": name, "inputSchema": {"json": schema}}}
            for name, schema in (("get_weather", WEATHER_ARGS), ("final_result", REPORT))
        ],
        "toolChoice": {"any": {}},
    }
    messages: list[Any] = [{"role": "user", "content": [{"text": PROMPT}]}]
    called: list[str] = []
    final: Any = None
    for _ in range(MAX_TURNS):
        r = client.converse(modelId=model, messages=messages, toolConfig=tool_config)
        use = next(b["toolUse"] for b in r["output"]["message"]["content"] if "toolUse" in b)
        called.append(use["name"])
        if use["name"] == "final_result":
            final = use["input"]
            break
        messages.append(r["output"]["message"])
        result = {"toolUseId": use["toolUseId"], "content": [{"text": RESULT}]}
        messages.append({"role": "user", "content": [{"toolResult": result}]})
    prompted = client.converse(
        modelId=model,
        system=[{"text": INSTRUCTOR_SYSTEM}],
        messages=[{"role": "user", "content": [{"text": PROMPT}]}],
    )
    return {"called": called, "final": final, "prompted": prompted}


async def test_bedrock_output_tool_loop_and_prompted_json(sim: Sim) -> None:
    result = await asyncio.to_thread(_bedrock_calls, sim.url)
    assert result["called"] == ["get_weather", "final_result"]
    _valid_report(result["final"])
    text = result["prompted"]["output"]["message"]["content"][0]["text"]
    _valid_report(json.loads(text))
