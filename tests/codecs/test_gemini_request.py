"""Gemini request encoding (client side) and decoding (server side)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from _gemini_fixtures import exchanges, require_fixtures, skip_reason
from junction.codecs.base import Quirks, Target
from junction.codecs.gemini import CODEC, decode_request
from junction.types import (
    ChatRequest,
    GatewayError,
    ImagePart,
    Message,
    Reasoning,
    ResponseFormat,
    TextPart,
    ThinkingPart,
    Tool,
    ToolCallPart,
    ToolChoice,
    ToolResultPart,
)

TARGET = Target(
    provider="gemini",
    base_url="https://generativelanguage.googleapis.com/",
    model="gemini-2.5-flash",
    api_key="secret",
    quirks=Quirks(auth="x-goog-api-key"),
)


def body_of(req: ChatRequest) -> dict[str, Any]:
    out: dict[str, Any] = json.loads(CODEC.encode_request(req, TARGET).body)
    return out


def test_url_auth_and_stream_flag() -> None:
    req = ChatRequest(model="x", messages=[Message(role="user", content=[TextPart(text="hi")])])
    http = CODEC.encode_request(req, TARGET)
    assert http.method == "POST"
    assert http.url == (
        "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:generateContent"
    )
    assert http.headers["x-goog-api-key"] == "secret"
    assert "authorization" not in http.headers
    assert not http.stream
    req.stream = True
    http = CODEC.encode_request(req, TARGET)
    assert http.url.endswith("/models/gemini-2.5-flash:streamGenerateContent?alt=sse")
    assert http.stream


def test_conversation_with_tools_and_thinking() -> None:
    req = ChatRequest(
        model="x",
        messages=[
            Message(role="system", content=[TextPart(text="Be brief.")]),
            Message(role="developer", content=[TextPart(text="Use tools.")]),
            Message(
                role="user",
                content=[
                    TextPart(text="Weather?"),
                    ImagePart(data="AAAA", media_type="image/jpeg"),
                    ImagePart(url="https://e.com/a.png", media_type="image/png"),
                ],
            ),
            Message(
                role="assistant",
                content=[
                    ThinkingPart(text="let me think", signature="SIG0", provider="gemini"),
                    ThinkingPart(text="other model", signature="anthropic", provider="anthropic"),
                    TextPart(text="Checking."),
                    ToolCallPart(
                        id="c1", name="weather", arguments='{"city": "Paris"}', signature="SIG1"
                    ),
                ],
            ),
            Message(
                role="tool",
                content=[ToolResultPart(tool_call_id="c1", content=[TextPart(text="sunny")])],
            ),
            Message(
                role="tool",
                content=[
                    ToolResultPart(
                        tool_call_id="c1", name="weather", content=[TextPart(text='{"t": 21}')]
                    )
                ],
            ),
            Message(role="user", content=[TextPart(text="thanks")]),
        ],
        tools=[
            Tool(
                name="weather",
                description="Get weather",
                parameters={"type": "object", "properties": {"city": {"type": "string"}}},
            )
        ],
        tool_choice=ToolChoice(mode="tool", name="weather"),
    )
    body = body_of(req)
    assert body["systemInstruction"] == {"parts": [{"text": "Be brief."}, {"text": "Use tools."}]}
    assert [c["role"] for c in body["contents"]] == ["user", "model", "user"]
    user = body["contents"][0]["parts"]
    assert user[1] == {"inlineData": {"mimeType": "image/jpeg", "data": "AAAA"}}
    assert user[2] == {"fileData": {"fileUri": "https://e.com/a.png", "mimeType": "image/png"}}
    model = body["contents"][1]["parts"]
    assert model[0] == {"text": "let me think", "thought": True, "thoughtSignature": "SIG0"}
    assert model[1] == {"text": "Checking."}
    assert model[2] == {
        "functionCall": {"name": "weather", "args": {"city": "Paris"}, "id": "c1"},
        "thoughtSignature": "SIG1",
    }
    results = body["contents"][2]["parts"]
    assert results[0] == {
        "functionResponse": {"name": "weather", "response": {"result": "sunny"}, "id": "c1"}
    }
    assert results[1] == {
        "functionResponse": {"name": "weather", "response": {"t": 21}, "id": "c1"}
    }
    assert results[2] == {"text": "thanks"}
    decl = body["tools"][0]["functionDeclarations"][0]
    assert decl["parametersJsonSchema"]["properties"]["city"] == {"type": "string"}
    assert body["toolConfig"] == {
        "functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": ["weather"]}
    }


def test_generation_config() -> None:
    req = ChatRequest(
        model="x",
        messages=[Message(role="user", content=[TextPart(text="hi")])],
        max_tokens=100,
        temperature=0.5,
        top_p=0.9,
        top_k=40,
        stop=["END"],
        n=2,
        seed=7,
        presence_penalty=0.1,
        frequency_penalty=0.2,
        logprobs=True,
        top_logprobs=3,
        response_format=ResponseFormat(type="json_schema", name="x", schema={"type": "object"}),
        reasoning=Reasoning(max_tokens=1024),
    )
    assert body_of(req)["generationConfig"] == {
        "maxOutputTokens": 100,
        "temperature": 0.5,
        "topP": 0.9,
        "topK": 40,
        "stopSequences": ["END"],
        "candidateCount": 2,
        "seed": 7,
        "presencePenalty": 0.1,
        "frequencyPenalty": 0.2,
        "responseLogprobs": True,
        "logprobs": 3,
        "responseMimeType": "application/json",
        "responseJsonSchema": {"type": "object"},
        "thinkingConfig": {"includeThoughts": True, "thinkingBudget": 1024},
    }


@pytest.mark.parametrize(
    ("reasoning", "config"),
    [
        (Reasoning(effort="low"), {"includeThoughts": True, "thinkingBudget": 2048}),
        (Reasoning(effort="high", exclude=True), {"thinkingBudget": 24576}),
        (Reasoning(enabled=False), {"thinkingBudget": 0}),
        (Reasoning(), {"includeThoughts": True}),
    ],
)
def test_thinking_config(reasoning: Reasoning, config: dict[str, Any]) -> None:
    req = ChatRequest(
        model="x",
        messages=[Message(role="user", content=[TextPart(text="q")])],
        reasoning=reasoning,
    )
    assert body_of(req)["generationConfig"]["thinkingConfig"] == config


def test_json_object_and_no_config() -> None:
    msgs = [Message(role="user", content=[TextPart(text="q")])]
    plain = body_of(ChatRequest(model="x", messages=msgs))
    assert "generationConfig" not in plain
    assert "tools" not in plain
    req = ChatRequest(model="x", messages=msgs, response_format=ResponseFormat(type="json_object"))
    assert body_of(req)["generationConfig"] == {"responseMimeType": "application/json"}


def test_tool_result_without_known_name_fails() -> None:
    req = ChatRequest(
        model="x",
        messages=[
            Message(
                role="tool",
                content=[ToolResultPart(tool_call_id="zz", content=[TextPart(text="1")])],
            )
        ],
    )
    with pytest.raises(GatewayError) as info:
        CODEC.encode_request(req, TARGET)
    assert info.value.param == "messages[0].content[0]"


def test_tool_arguments_must_be_an_object() -> None:
    req = ChatRequest(
        model="x",
        messages=[
            Message(role="assistant", content=[ToolCallPart(id="a", name="f", arguments="[1]")])
        ],
    )
    with pytest.raises(GatewayError) as info:
        CODEC.encode_request(req, TARGET)
    assert info.value.param == "messages[0].content[0].arguments"


def test_thinking_without_gemini_origin_dropped() -> None:
    req = ChatRequest(
        model="x",
        messages=[
            Message(role="user", content=[TextPart(text="q")]),
            Message(
                role="assistant",
                content=[ThinkingPart(text="mine", provider="openai"), TextPart(text="a")],
            ),
        ],
    )
    assert body_of(req)["contents"][1]["parts"] == [{"text": "a"}]


# -- recorded request bodies: decode_request then encode_request -----------------------------

REQUESTS = [e for e in exchanges() if e.request is not None]
SUPPORTED_CONFIG = {
    "maxOutputTokens",
    "temperature",
    "topP",
    "topK",
    "stopSequences",
    "candidateCount",
    "seed",
    "presencePenalty",
    "frequencyPenalty",
    "responseLogprobs",
    "logprobs",
}


def camel(key: str) -> str:
    head, *rest = key.split("_")
    return head + "".join(w.capitalize() for w in rest)


def to_json_schema(schema: Any) -> Any:
    """Gemini's OpenAPI Schema -> JSON Schema, written independently for the test."""
    if isinstance(schema, list):
        return [to_json_schema(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        key = camel(key)
        if key == "type":
            out[key] = value.lower()
        elif key == "properties":
            out[key] = {k: to_json_schema(v) for k, v in value.items()}
        elif key in ("enum", "required", "propertyOrdering"):
            out[key] = value
        else:
            out[key] = to_json_schema(value)
    return out


def expected_part(part: dict[str, Any]) -> dict[str, Any] | None:
    part = {camel(k): v for k, v in part.items()}
    if part.get("text") == "" and "thoughtSignature" not in part:
        return None
    for key in ("inlineData", "fileData"):
        if key in part:
            part[key] = {camel(k): v for k, v in part[key].items()}
    return part


def expected_contents(contents: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for content in contents:
        role = content.get("role", "user")
        parts = [p for p in map(expected_part, content.get("parts", [])) if p is not None]
        if not parts:
            continue
        if out and out[-1]["role"] == role:
            out[-1]["parts"].extend(parts)
        else:
            out.append({"role": role, "parts": parts})
    return out


def expected_tools(body: dict[str, Any]) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    decls = []
    for tool in body.get("tools", []):
        for d in tool.get("functionDeclarations", []):
            d = {camel(k): v for k, v in d.items()}
            out = {"name": d["name"]}
            if d.get("description"):
                out["description"] = d["description"]
            if "parametersJsonSchema" in d:
                out["parametersJsonSchema"] = d["parametersJsonSchema"]
            elif "parameters" in d:
                out["parametersJsonSchema"] = to_json_schema(d["parameters"])
            else:
                out["parametersJsonSchema"] = {"type": "object", "properties": {}}
            decls.append(out)
    fcc = (body.get("toolConfig") or {}).get("functionCallingConfig")
    if not decls or not fcc:
        return decls, None
    fcc = dict(fcc)
    if fcc.get("mode") == "VALIDATED":
        # No canonical equivalent: the model may answer or call (validated), i.e. auto.
        fcc["mode"] = "AUTO"
    names = fcc.get("allowedFunctionNames")
    if names is not None and len(names) != 1:
        decls = [d for d in decls if d["name"] in names]
        del fcc["allowedFunctionNames"]
    return decls, fcc


def expected_config(config: dict[str, Any]) -> dict[str, Any]:
    config = {camel(k): v for k, v in config.items()}
    out = {k: v for k, v in config.items() if k in SUPPORTED_CONFIG}
    if "topK" in out:
        out["topK"] = int(out["topK"])
    if config.get("responseMimeType") == "application/json":
        out["responseMimeType"] = "application/json"
        if "responseJsonSchema" in config:
            out["responseJsonSchema"] = config["responseJsonSchema"]
        elif "responseSchema" in config:
            out["responseJsonSchema"] = to_json_schema(config["responseSchema"])
    thinking = {camel(k): v for k, v in (config.get("thinkingConfig") or {}).items()}
    if thinking:
        out["thinkingConfig"] = {k: v for k, v in thinking.items() if v is not False}
    return out


def ids_only_where_recorded(got: list[dict[str, Any]], want: list[dict[str, Any]]) -> None:
    """Drop ids the decoder generated for calls recorded without one."""
    for gc, wc in zip(got, want, strict=False):
        for gp, wp in zip(gc["parts"], wc["parts"], strict=False):
            for key in ("functionCall", "functionResponse"):
                if key in gp and key in wp and "id" not in wp[key]:
                    gp[key].pop("id", None)


@pytest.mark.parametrize("ex", REQUESTS, ids=lambda e: e.id)
def test_recorded_request_round_trip(ex: Any) -> None:
    require_fixtures()
    recorded: dict[str, Any] = ex.request
    reason = skip_reason(recorded)
    if reason:
        pytest.skip(reason)
    req = decode_request(json.dumps(recorded).encode(), model=ex.model, stream=ex.stream)
    assert req.model == ex.model
    assert req.stream == ex.stream
    http = CODEC.encode_request(req, TARGET)
    assert http.url.endswith(ex.uri.split("/models/")[1].replace(ex.model, "gemini-2.5-flash"))
    got = json.loads(http.body)

    want_contents = expected_contents(recorded["contents"])
    ids_only_where_recorded(got["contents"], want_contents)
    assert got["contents"] == want_contents

    system = [
        p["text"]
        for p in (recorded.get("systemInstruction") or {}).get("parts", [])
        if p.get("text")
    ]
    assert [p["text"] for p in (got.get("systemInstruction") or {}).get("parts", [])] == system

    decls, fcc = expected_tools(recorded)
    got_decls = [d for t in got.get("tools", []) for d in t["functionDeclarations"]]
    assert got_decls == decls
    assert (got.get("toolConfig") or {}).get("functionCallingConfig") == fcc

    assert got.get("generationConfig", {}) == expected_config(
        recorded.get("generationConfig") or {}
    )


# -- bad input on the server side -----------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "param", "words"),
    [
        (b"{}", None, "contents"),
        (b'{"contents": []}', "contents", "at least one"),
        (b'{"contents": "hi"}', "contents", "array"),
        (b'{"contents": [{"role": "user", "parts": "hi"}]}', "contents[0].parts", "array"),
        (
            b'{"contents": [{"role": "user", "parts": [{"text": 5}]}]}',
            "contents[0].parts[0].text",
            "str",
        ),
        (b'{"contents": [{"role": "bot", "parts": [{"text": "x"}]}]}', "contents[0].role", "model"),
        (
            b'{"contents": [{"parts": [{"text": "x"}]}],'
            b' "generationConfig": {"temperature": "hot"}}',
            "generationConfig.temperature",
            "float",
        ),
        (
            b'{"contents": [{"parts": [{"text": "x"}]}],'
            b' "generation_config": {"max_output_tokens": "many"}}',
            "generationConfig.maxOutputTokens",
            "int",
        ),
        (b"not json", None, "JSON"),
        (b"[1, 2]", None, "object"),
    ],
)
def test_bad_request_body(body: bytes, param: str | None, words: str) -> None:
    with pytest.raises(GatewayError) as info:
        decode_request(body, model="m", stream=False)
    err = info.value
    assert err.kind == "invalid_request"
    assert err.status == 400
    assert err.param == param
    assert words in err.message


def test_decode_request_snake_case_and_tool_ids() -> None:
    body = {
        "system_instruction": {"parts": [{"text": "sys"}]},
        "contents": [
            {"role": "user", "parts": [{"text": "q"}]},
            {
                "role": "model",
                "parts": [{"function_call": {"name": "f", "args": {"snake_key": 1}}}],
            },
            {
                "role": "user",
                "parts": [{"function_response": {"name": "f", "response": {"result": "ok"}}}],
            },
        ],
        "tool_config": {"function_calling_config": {"mode": "NONE"}},
        "tools": [
            {
                "function_declarations": [
                    {
                        "name": "f",
                        "parameters": {
                            "type": "OBJECT",
                            "properties": {"snake_key": {"type": "INTEGER"}},
                        },
                    }
                ]
            }
        ],
        "generation_config": {"thinking_config": {"thinking_budget": 0}, "stop_sequences": ["x"]},
    }
    req = decode_request(json.dumps(body).encode(), model="m", stream=True)
    assert [m.role for m in req.messages] == ["system", "user", "assistant", "tool"]
    call = req.messages[2].tool_calls()[0]
    assert json.loads(call.arguments) == {"snake_key": 1}
    result = req.messages[3].content[0]
    assert isinstance(result, ToolResultPart)
    assert result.tool_call_id == call.id
    assert result.content == [TextPart(text="ok")]
    assert req.tools[0].parameters == {
        "type": "object",
        "properties": {"snake_key": {"type": "integer"}},
    }
    assert req.tool_choice == ToolChoice(mode="none")
    assert req.reasoning is not None
    assert not req.reasoning.enabled
    assert req.stop == ["x"]
    assert req.stream
    assert req.include_usage
