"""The deterministic model: token counts, tool choice rules, schema values,
stream planning and embeddings (unit level, no server)."""

from __future__ import annotations

import json
import math
from typing import Any

import jsonschema
import msgspec
import pytest

from junction.sim.generate import count_tokens, embed, generate, tools_to_call
from junction.sim.profile import ModelConfig
from junction.sim.schema import SchemaValues, place_in, schema_in
from junction.sim.stream import chunk_tokens, plan
from junction.types import (
    ChatRequest,
    EmbeddingRequest,
    Finish,
    GatewayError,
    Message,
    Reasoning,
    ResponseFormat,
    StreamStart,
    TextDelta,
    TextPart,
    ThinkingDelta,
    ThinkingPart,
    Tool,
    ToolCallDelta,
    ToolCallPart,
    ToolChoice,
    ToolResultPart,
    UsageReport,
)

CONFIG = ModelConfig()
SEARCH = Tool("search", parameters={"type": "object", "properties": {"query": {"type": "string"}}})
CLOCK = Tool("clock", parameters={"type": "object", "properties": {}})


def _request(text: str, **kw: Any) -> ChatRequest:
    return ChatRequest(model="m", messages=[Message("user", [TextPart(text)])], **kw)


@pytest.mark.parametrize(("text", "tokens"), [("", 0), ("a", 1), ("abcd", 1), ("abcde", 2)])
def test_count_tokens(text: str, tokens: int) -> None:
    assert count_tokens(text) == tokens


def test_prompt_tokens_count_messages_and_tools() -> None:
    plain = generate(_request("abcdefgh"), CONFIG)
    assert plain.usage is not None
    assert plain.usage.prompt_tokens == 4 + 2  # message overhead + 8 characters
    with_tool = generate(_request("abcdefgh", tools=[CLOCK]), CONFIG)
    assert with_tool.usage is not None
    assert with_tool.usage.prompt_tokens > plain.usage.prompt_tokens


def test_default_answer_length_follows_output_tokens() -> None:
    text = generate(_request("hi"), ModelConfig(output_tokens=40)).choices[0].message.text()
    assert 40 <= count_tokens(text) <= 45
    assert text.endswith(".")


@pytest.mark.parametrize(
    ("text", "kw", "expected"),
    [
        ("nothing here", {}, []),
        ("please search for cats", {}, ["search"]),
        ("use the tool", {}, ["search"]),
        ("search then clock", {}, ["search", "clock"]),
        ("search then clock", {"parallel_tool_calls": False}, ["search"]),
        ("anything", {"tool_choice": ToolChoice("required")}, ["search"]),
        ("clock please", {"tool_choice": ToolChoice("required")}, ["clock"]),
        ("search", {"tool_choice": ToolChoice("none")}, []),
        ("x", {"tool_choice": ToolChoice("tool", "clock")}, ["clock"]),
        ("research the topic", {}, []),
    ],
)
def test_tools_to_call(text: str, kw: dict[str, Any], expected: list[str]) -> None:
    request = _request(text, tools=[SEARCH, CLOCK], **kw)
    assert [t.name for t in tools_to_call(request)] == expected


def test_unknown_named_tool_is_invalid() -> None:
    with pytest.raises(GatewayError) as info:
        tools_to_call(_request("x", tools=[SEARCH], tool_choice=ToolChoice("tool", "nope")))
    assert info.value.status == 400


def test_tool_result_is_quoted() -> None:
    request = ChatRequest(
        model="m",
        messages=[
            Message("user", [TextPart("search cats")]),
            Message("assistant", [ToolCallPart(id="c1", name="search", arguments="{}")]),
            Message("tool", [ToolResultPart("c1", [TextPart("42 cats found")], name="search")]),
        ],
        tools=[SEARCH],
    )
    choice = generate(request, CONFIG).choices[0]
    assert choice.finish_reason == "stop"
    assert "42 cats found" in choice.message.text()


def test_query_argument_comes_from_the_prompt() -> None:
    request = _request("search: cheap flights", tools=[SEARCH], tool_choice=ToolChoice("required"))
    call = generate(request, CONFIG).choices[0].message.tool_calls()[0]
    assert msgspec.json.decode(call.arguments) == {"query": "search: cheap flights"}


@pytest.mark.parametrize(
    ("prompt", "place"),
    [("What's the weather in New York today?", "New York"), ("weather for Paris", "Paris"),
     ("hello", "")],
)  # fmt: skip
def test_place_in(prompt: str, place: str) -> None:
    assert place_in(prompt) == place


SCHEMAS: list[dict[str, Any]] = [
    {"type": "string", "minLength": 30},
    {"type": "string", "maxLength": 2},
    {"type": "integer", "minimum": 10, "maximum": 20, "multipleOf": 5},
    {"type": "integer", "exclusiveMinimum": 3},
    {"type": "integer", "maximum": -4},
    {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1},
    {"type": "number", "minimum": 0.5, "multipleOf": 0.25},
    {"type": ["null", "boolean"]},
    {"type": "array", "items": {"type": "integer"}, "minItems": 3, "maxItems": 3},
    {"type": "array", "prefixItems": [{"type": "string"}, {"type": "integer"}], "maxItems": 2},
    {"const": "fixed"},
    {"enum": [3, 4]},
    {"allOf": [{"properties": {"a": {"type": "string"}}, "required": ["a"]},
               {"properties": {"b": {"type": "integer"}}, "required": ["b"]}]},
    {"oneOf": [{"type": "null"}, {"type": "object", "properties": {"x": {"type": "boolean"}},
                                   "required": ["x"]}]},
    {"type": "object", "properties": {"when": {"type": "string", "format": "date-time"},
                                       "id": {"type": "string", "format": "uuid"},
                                       "site": {"type": "string", "format": "uri"}},
     "required": ["when", "id", "site"]},
    {"type": "object", "required": ["tree"], "properties": {"tree": {"$ref": "#/$defs/node"}},
     "$defs": {"node": {"type": "object", "properties": {"children": {
         "type": "array", "items": {"$ref": "#/$defs/node"}, "maxItems": 0}},
         "required": ["children"]}}},
]  # fmt: skip


@pytest.mark.parametrize("schema", SCHEMAS)
def test_schema_values_are_valid(schema: dict[str, Any]) -> None:
    value = SchemaValues(schema, "a prompt").value()
    jsonschema.validate(value, schema, format_checker=jsonschema.FormatChecker())


def test_json_schema_response() -> None:
    schema = SCHEMAS[-1]
    fmt = ResponseFormat(type="json_schema", name="t", schema=schema)
    text = generate(_request("x", response_format=fmt), CONFIG).choices[0].message.text()
    jsonschema.validate(msgspec.json.decode(text), schema)


def test_reasoning_adds_thinking_and_counts_it() -> None:
    response = generate(_request("why", reasoning=Reasoning(effort="low")), CONFIG)
    content = response.choices[0].message.content
    assert isinstance(content[0], ThinkingPart)
    assert content[0].signature
    assert isinstance(content[1], TextPart)
    usage = response.usage
    assert usage is not None
    assert usage.reasoning_tokens == count_tokens(content[0].text)
    assert usage.completion_tokens == usage.reasoning_tokens + count_tokens(content[1].text)
    excluded = generate(_request("why", reasoning=Reasoning(exclude=True)), CONFIG)
    assert not excluded.choices[0].message.thinking()
    assert excluded.usage is not None
    assert excluded.usage.reasoning_tokens > 0


def test_n_choices_differ_but_are_stable() -> None:
    a = generate(_request("pick", n=3), CONFIG)
    b = generate(_request("pick", n=3), CONFIG)
    texts = [c.message.text() for c in a.choices]
    assert texts == [c.message.text() for c in b.choices]
    assert len(set(texts)) == 3
    assert texts[0] == generate(_request("pick"), CONFIG).choices[0].message.text()


def test_stream_plan_covers_the_response() -> None:
    request = _request("echo: " + "x" * 50, reasoning=Reasoning(effort="low"))
    response = generate(request, CONFIG)
    steps = plan(response, 2, early_usage=True)
    events = [e for s in steps for e in s.events]
    assert isinstance(events[0], StreamStart)
    assert isinstance(events[1], UsageReport)
    assert events[1].usage.completion_tokens == 0
    assert isinstance(events[-1], UsageReport)
    assert events[-1].usage == response.usage
    assert isinstance(events[-2], Finish)
    text = "".join(e.text for e in events if isinstance(e, TextDelta))
    assert text == "x" * 50
    assert all(len(e.text) <= 8 for e in events if isinstance(e, TextDelta))
    thinking = [e for e in events if isinstance(e, ThinkingDelta)]
    assert thinking[-1].signature
    assert not thinking[-1].text


def test_stream_plan_tool_calls() -> None:
    request = _request("search and clock", tools=[SEARCH, CLOCK])
    steps = plan(generate(request, CONFIG), 1)
    deltas = [e for s in steps for e in s.events if isinstance(e, ToolCallDelta)]
    heads = [d for d in deltas if d.id]
    assert [(h.call_index, h.name) for h in heads] == [(0, "search"), (1, "clock")]
    args0 = "".join(d.arguments for d in deltas if d.call_index == 0)
    assert msgspec.json.decode(args0) == {"query": "search and clock"}


@pytest.mark.parametrize(("tps", "size"), [(0, 4), (10, 1), (20, 1), (50, 3), (1000, 50)])
def test_chunk_tokens(tps: float, size: int) -> None:
    assert chunk_tokens(tps) == size


def _cos(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True))


def test_embeddings_unit_norm_and_similar_texts_are_closer() -> None:
    request = EmbeddingRequest(
        model="e",
        input=["the red car is fast", "the red car is slow", "quantum chromodynamics lecture"],
        dimensions=512,
    )
    response = embed(request, CONFIG)
    a, b, c = response.data
    for v in response.data:
        assert len(v) == 512
        assert math.isclose(math.fsum(x * x for x in v), 1.0, rel_tol=1e-9)
    assert _cos(a, b) > _cos(a, c) + 0.3
    assert embed(request, CONFIG).data == response.data


def test_embedding_dimensions_default_from_profile() -> None:
    response = embed(
        EmbeddingRequest(model="e", input=[[1, 2, 3]]), ModelConfig(embedding_dimensions=7)
    )
    assert len(response.data[0]) == 7
    assert response.usage.prompt_tokens == 3


# --- agent loops: forced calls after tool results, JSON asked for in the prompt ---

REPORT: dict[str, Any] = {
    "type": "object",
    "properties": {"city": {"type": "string"}, "rain": {"type": "boolean"}},
    "required": ["city", "rain"],
}


def _tool(name: str, parameters: dict[str, Any] | None = None) -> Tool:
    return Tool(name, parameters=parameters or {"type": "object", "properties": {}})


def _after_results(called: list[str], tools: list[Tool], **kw: Any) -> ChatRequest:
    """A conversation in which each tool of ``called`` was called and answered."""
    messages = [Message("user", [TextPart("What is the weather in Oslo?")])]
    for i, name in enumerate(called):
        messages.append(Message("assistant", [ToolCallPart(id=f"c{i}", name=name)]))
        messages.append(Message("tool", [ToolResultPart(f"c{i}", [TextPart("rain")], name=name)]))
    return ChatRequest(model="m", messages=messages, tools=tools, **kw)


REQUIRED = ToolChoice("required")
WEATHER_T, LOOKUP_T = _tool("get_weather"), _tool("lookup")


@pytest.mark.parametrize(
    ("called", "tools", "kw", "expected"),
    [
        # an uncalled tool whose name marks a final answer
        (["get_weather"], [WEATHER_T, _tool("final_result")], {}, "final_result"),
        (["get_weather"], [WEATHER_T, LOOKUP_T, _tool("final_answer")], {}, "final_answer"),
        (["get_weather"], [WEATHER_T, LOOKUP_T, _tool("submit_output")], {}, "submit_output"),
        # no such name: the first tool not yet called
        (["get_weather"], [WEATHER_T, LOOKUP_T, _tool("clock")], {}, "lookup"),
        # parameters matching the response format win over a final-sounding name
        (
            ["get_weather"],
            [WEATHER_T, _tool("final_result"), _tool("report", REPORT)],
            {"response_format": ResponseFormat("json_schema", schema=REPORT)},
            "report",
        ),
        # every tool called: the final-answer tool again, else the first
        (["get_weather", "final_result"], [WEATHER_T, _tool("final_result")], {}, "final_result"),
        (["get_weather", "lookup"], [WEATHER_T, LOOKUP_T], {}, "get_weather"),
    ],
)
def test_forced_call_after_a_tool_result(
    called: list[str], tools: list[Tool], kw: dict[str, Any], expected: str
) -> None:
    request = _after_results(called, tools, tool_choice=REQUIRED, **kw)
    assert [t.name for t in tools_to_call(request)] == [expected]


def test_forced_call_matches_a_schema_written_in_the_system_prompt() -> None:
    request = _after_results(["get_weather"], [WEATHER_T, LOOKUP_T, _tool("report", REPORT)])
    request.messages.insert(0, Message("system", [TextPart("Answer as " + json.dumps(REPORT))]))
    request.tool_choice = REQUIRED
    assert [t.name for t in tools_to_call(request)] == ["report"]


def test_no_forced_call_after_a_tool_result_answers_in_text() -> None:
    request = _after_results(["get_weather"], [WEATHER_T, _tool("final_result")])
    choice = generate(request, CONFIG).choices[0]
    assert choice.finish_reason == "stop"
    assert choice.message.text() == "The get_weather tool returned: rain"


def test_response_format_shapes_the_answer_after_a_tool_result() -> None:
    fmt = ResponseFormat("json_schema", schema=REPORT)
    request = _after_results(["get_weather"], [WEATHER_T], response_format=fmt)
    value = msgspec.json.decode(generate(request, CONFIG).choices[0].message.text())
    jsonschema.validate(value, REPORT)
    assert value["city"] == "Oslo"


def test_json_object_wraps_the_tool_result() -> None:
    request = _after_results(
        ["get_weather"], [WEATHER_T], response_format=ResponseFormat("json_object")
    )
    value = msgspec.json.decode(generate(request, CONFIG).choices[0].message.text())
    assert value == {"answer": "The get_weather tool returned: rain"}


def test_prompted_schema_shapes_the_answer_after_a_tool_result() -> None:
    request = _after_results(["get_weather"], [WEATHER_T])
    request.messages.insert(0, Message("system", [TextPart("Reply with " + json.dumps(REPORT))]))
    value = msgspec.json.decode(generate(request, CONFIG).choices[0].message.text())
    jsonschema.validate(value, REPORT)


def test_response_format_wins_over_echo_and_echo_over_a_prompted_schema() -> None:
    schema_prompt = Message("system", [TextPart(json.dumps(REPORT))])
    echo = Message("user", [TextPart("echo: plain words")])
    plain = ChatRequest(model="m", messages=[schema_prompt, echo])
    assert generate(plain, CONFIG).choices[0].message.text() == "plain words"
    shaped = ChatRequest(
        model="m", messages=[echo], response_format=ResponseFormat("json_schema", schema=REPORT)
    )
    jsonschema.validate(
        msgspec.json.decode(generate(shaped, CONFIG).choices[0].message.text()), REPORT
    )


def test_latest_prompt_schema_wins_and_assistant_text_is_not_read() -> None:
    other = {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}
    request = ChatRequest(
        model="m",
        messages=[
            Message("system", [TextPart(json.dumps(other))]),
            Message(
                "assistant", [TextPart(json.dumps({"type": "object", "properties": {"x": {}}}))]
            ),
            Message("user", [TextPart("Use " + json.dumps(REPORT))]),
        ],
    )
    value = msgspec.json.decode(generate(request, CONFIG).choices[0].message.text())
    assert set(value) == {"city", "rain"}


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("no json at all", None),
        ('{"type": "string"}', None),  # a schema, but not of an object
        ('an example {"city": "Oslo", "rain": true} of an answer', None),
        ('broken {"type": "object", "properties": {', None),
        ("```json\n" + json.dumps(REPORT) + "\n```", REPORT),
        ('first {"a": 1} then {"type": "object"} done', {"type": "object"}),
        ('{"properties": {"a": {}}}', {"properties": {"a": {}}}),
        (
            '{"type": "object" oops} and {"type": "object", "title": "T"}',
            {"type": "object", "title": "T"},
        ),
    ],
)
def test_schema_in(text: str, found: dict[str, Any] | None) -> None:
    assert schema_in(text) == found
