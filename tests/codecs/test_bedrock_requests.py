"""Bedrock request bodies: recorded ones round-trip (server decode -> client
encode), canonical requests translate to the published Converse shapes, and bad
bodies are refused with the path of the bad field."""

from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest

from _bedrock_fixtures import CONVERSE, Exchange, params
from junction.codecs.base import Quirks, Target
from junction.codecs.bedrock_converse import CODEC, decode_request
from junction.types import (
    AudioPart,
    CacheControl,
    ChatRequest,
    FilePart,
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

PASS_EXTRA = frozenset(
    {"guardrailConfig", "performanceConfig", "additionalModelRequestFields", "promptVariables"}
)
BASE = "https://bedrock-runtime.us-east-1.amazonaws.com"


def _target(model: str, **kw: Any) -> Target:
    return Target(provider="bedrock", base_url=BASE, model=model, **kw)


def round_trip_skip(x: Exchange) -> str | None:
    """Why a recorded request cannot go Bedrock -> canonical -> Bedrock unchanged."""
    body = x.request_body()
    if body is None:
        return "the recorded body is not valid JSON (the test sends a raw string)"
    for tool in (body.get("toolConfig") or {}).get("tools", []):
        if "systemTool" in tool:
            return "a systemTool (Nova code interpreter; junction forwards toolSpec tools only)"
    for message in body["messages"]:
        for block in message["content"]:
            if "video" in block:
                return "video content (canonical parts carry no video)"
            if message["role"] == "assistant" and "toolResult" in block:
                return "a server tool's toolResult in assistant history (Nova code interpreter)"
            if "toolUse" in block and block["toolUse"].get("type") not in (None, "tool_use"):
                return "server tool use in history"
    return None


REQUESTS = [x for x in CONVERSE if x.request_raw is not None]
ROUND_TRIP = [x for x in REQUESTS if round_trip_skip(x) is None]
SKIPPED = {x.id: round_trip_skip(x) for x in REQUESTS if round_trip_skip(x) is not None}


def normalise(body: dict[str, Any]) -> dict[str, Any]:
    """Differences that carry no meaning: empty ``system`` / ``inferenceConfig``,
    a toolResult ``status`` left out (Bedrock's default is success), a JSON
    schema's text spacing."""
    out = json.loads(json.dumps(body))
    if out.get("system") == []:
        del out["system"]
    if out.get("inferenceConfig") == {}:
        del out["inferenceConfig"]
    for message in out["messages"]:
        for block in message["content"]:
            if "toolResult" in block:
                block["toolResult"].setdefault("status", "success")
    fmt = (out.get("outputConfig") or {}).get("textFormat")
    if fmt:
        spec = fmt["structure"]["jsonSchema"]
        spec["schema"] = json.loads(spec["schema"])
    return out


def test_round_trip_covers_most_recordings() -> None:
    if not REQUESTS:
        pytest.skip("recorded fixtures are missing (restore with scripts/sync-fixtures)")
    assert len(ROUND_TRIP) >= 80
    assert len(SKIPPED) <= 6, SKIPPED


@pytest.mark.parametrize("x", params(ROUND_TRIP))
def test_recorded_request_round_trips(x: Exchange) -> None:
    recorded = x.request_body()
    assert recorded is not None
    stream = x.operation == "converse-stream"
    assert x.request_raw is not None
    raw = x.request_raw if isinstance(x.request_raw, bytes) else x.request_raw.encode()
    request = decode_request(raw, model=x.model_id, stream=stream)
    assert request.model == x.model_id
    assert request.stream is stream
    target = _target(x.model_id, quirks=Quirks(pass_extra=PASS_EXTRA))
    http = CODEC.encode_request(request, target)
    assert normalise(json.loads(http.body)) == normalise(recorded)
    # Same operation and model id as recorded (percent-encoding aside).
    assert unquote(urlsplit(http.url).path) == unquote(urlsplit(x.uri).path)
    assert http.stream is stream


# --- canonical -> Converse ----------------------------------------------------------------


def _body(request: ChatRequest, model: str = "us.anthropic.claude-sonnet-4-5-20250929-v1:0") -> Any:
    return json.loads(CODEC.encode_request(request, _target(model)).body)


def _user(*parts: Any) -> Message:
    return Message(role="user", content=list(parts))


HELLO = _user(TextPart(text="Hello"))


def test_system_and_inference_config() -> None:
    request = ChatRequest(
        model="m",
        messages=[
            Message(role="system", content=[TextPart(text="Be brief.")]),
            Message(role="developer", content=[TextPart(text="No emoji.")]),
            HELLO,
        ],
        max_tokens=100,
        temperature=0.2,
        top_p=0.9,
        stop=["END"],
    )
    body = _body(request)
    assert body["system"] == [{"text": "Be brief."}, {"text": "No emoji."}]
    assert body["messages"] == [{"role": "user", "content": [{"text": "Hello"}]}]
    assert body["inferenceConfig"] == {
        "maxTokens": 100,
        "temperature": 0.2,
        "topP": 0.9,
        "stopSequences": ["END"],
    }


def test_anthropic_reasoning_budget_and_top_k() -> None:
    request = ChatRequest(
        model="m", messages=[HELLO], max_tokens=500, top_k=20, reasoning=Reasoning(effort="high")
    )
    body = _body(request)
    fields = body["additionalModelRequestFields"]
    assert fields == {"top_k": 20, "thinking": {"type": "enabled", "budget_tokens": 16384}}
    # The budget must stay below maxTokens: the answer's 500 come on top.
    assert body["inferenceConfig"]["maxTokens"] == 16384 + 500


def test_reasoning_and_top_k_per_model_family() -> None:
    request = ChatRequest(model="m", messages=[HELLO], top_k=7, reasoning=Reasoning(effort="max"))
    assert _body(request, "us.amazon.nova-micro-v1:0")["additionalModelRequestFields"] == {
        "inferenceConfig": {"topK": 7}
    }
    assert _body(request, "openai.gpt-oss-120b-1:0")["additionalModelRequestFields"] == {
        "top_k": 7,
        "reasoning_effort": "high",
    }
    off = ChatRequest(model="m", messages=[HELLO], reasoning=Reasoning(enabled=False))
    assert "additionalModelRequestFields" not in _body(off)


def test_structured_output_and_json_mode() -> None:
    schema = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
    fmt = ResponseFormat(type="json_schema", name="City", schema=schema)
    body = _body(ChatRequest(model="m", messages=[HELLO], response_format=fmt))
    spec = body["outputConfig"]["textFormat"]
    assert spec["type"] == "json_schema"
    assert spec["structure"]["jsonSchema"]["name"] == "City"
    assert json.loads(spec["structure"]["jsonSchema"]["schema"]) == schema
    mode = _body(
        ChatRequest(model="m", messages=[HELLO], response_format=ResponseFormat("json_object"))
    )
    assert "outputConfig" not in mode
    assert mode["system"][-1]["text"].startswith("Respond with a single JSON object")


WEATHER = Tool(
    name="get_weather",
    description="Weather in a city",
    parameters={"type": "object", "properties": {"city": {"type": "string"}}},
    cache_control=CacheControl(),
)


@pytest.mark.parametrize(
    ("choice", "wire"),
    [
        (None, None),
        (ToolChoice(mode="auto"), {"auto": {}}),
        (ToolChoice(mode="required"), {"any": {}}),
        (ToolChoice(mode="tool", name="get_weather"), {"tool": {"name": "get_weather"}}),
    ],
)
def test_tools_and_choice(choice: ToolChoice | None, wire: Any) -> None:
    body = _body(ChatRequest(model="m", messages=[HELLO], tools=[WEATHER], tool_choice=choice))
    config = body["toolConfig"]
    assert config["tools"] == [
        {
            "toolSpec": {
                "name": "get_weather",
                "inputSchema": {"json": WEATHER.parameters},
                "description": "Weather in a city",
            }
        },
        {"cachePoint": {"type": "default"}},
    ]
    assert config.get("toolChoice") == wire


def test_tool_choice_none() -> None:
    none = ToolChoice(mode="none")
    body = _body(ChatRequest(model="m", messages=[HELLO], tools=[WEATHER], tool_choice=none))
    assert "toolConfig" not in body
    history = [
        HELLO,
        Message(role="assistant", content=[ToolCallPart(id="t1", name="get_weather")]),
        Message(role="tool", content=[ToolResultPart(tool_call_id="t1", content=[TextPart("9C")])]),
    ]
    body = _body(ChatRequest(model="m", messages=history, tools=[WEATHER], tool_choice=none))
    # Bedrock requires toolConfig when the history holds tool blocks.
    assert body["toolConfig"]["tools"][0]["toolSpec"]["name"] == "get_weather"
    assert "toolChoice" not in body["toolConfig"]


def test_tool_round_trip_history() -> None:
    history = [
        HELLO,
        Message(
            role="assistant",
            content=[
                ThinkingPart(text="hmm", signature="sig", provider="bedrock"),
                TextPart(text="Let me look."),
                ToolCallPart(id="t1", name="get_weather", arguments='{"city": "Paris"}'),
            ],
        ),
        Message(
            role="tool",
            content=[ToolResultPart(tool_call_id="t1", content=[TextPart("9C")], is_error=True)],
        ),
        _user(TextPart(text="And tomorrow?")),
    ]
    body = _body(ChatRequest(model="m", messages=history, tools=[WEATHER]))
    assistant, user = body["messages"][1], body["messages"][2]
    assert assistant["content"] == [
        {"reasoningContent": {"reasoningText": {"text": "hmm", "signature": "sig"}}},
        {"text": "Let me look."},
        {"toolUse": {"toolUseId": "t1", "name": "get_weather", "input": {"city": "Paris"}}},
    ]
    # The tool result and the next user text share one user turn, result first.
    assert user == {
        "role": "user",
        "content": [
            {"toolResult": {"toolUseId": "t1", "content": [{"text": "9C"}], "status": "error"}},
            {"text": "And tomorrow?"},
        ],
    }


def test_foreign_and_unsigned_reasoning_is_not_replayed() -> None:
    history = [
        HELLO,
        Message(
            role="assistant",
            content=[
                ThinkingPart(text="theirs", signature="s", provider="anthropic"),
                ThinkingPart(text="unsigned"),
                ThinkingPart(redacted="b3BhcXVl", provider="bedrock"),
                TextPart(text="Hi"),
            ],
        ),
    ]
    body = _body(ChatRequest(model="m", messages=history))
    assert body["messages"][1]["content"] == [
        {"reasoningContent": {"redactedContent": "b3BhcXVl"}},
        {"text": "Hi"},
    ]


PIXEL = base64.b64encode(b"\x89PNG fake").decode()


def test_media_blocks() -> None:
    message = _user(
        ImagePart(url=f"data:image/png;base64,{PIXEL}", cache_control=CacheControl(ttl="1h")),
        ImagePart(url="s3://bucket/photo.jpg"),
        FilePart(data=PIXEL, media_type="application/pdf", filename="report.v2.pdf"),
        FilePart(data=PIXEL, media_type="text/plain"),
    )
    content = _body(ChatRequest(model="m", messages=[message]))["messages"][0]["content"]
    assert content[0] == {"image": {"format": "png", "source": {"bytes": PIXEL}}}
    assert content[1] == {"cachePoint": {"type": "default", "ttl": "1h"}}
    assert content[2] == {
        "image": {"format": "jpeg", "source": {"s3Location": {"uri": "s3://bucket/photo.jpg"}}}
    }
    assert content[3]["document"] == {
        "name": "report-v2-pdf",
        "source": {"bytes": PIXEL},
        "format": "pdf",
    }
    assert content[4]["document"]["name"] == "Document 2"
    assert content[4]["document"]["format"] == "txt"


@pytest.mark.parametrize(
    "part",
    [
        ImagePart(url="https://example.com/cat.png"),
        ImagePart(data=PIXEL, media_type="image/tiff"),
        FilePart(file_id="file-123"),
        AudioPart(data=PIXEL, format="wav"),
    ],
)
def test_unsendable_parts_are_refused(part: Any) -> None:
    request = ChatRequest(model="m", messages=[_user(TextPart(text="look"), part)])
    with pytest.raises(GatewayError) as info:
        CODEC.encode_request(request, _target("m"))
    assert info.value.kind == "invalid_request"
    assert info.value.param == "messages[0].content[1]"


def test_metadata_and_service_tier() -> None:
    request = ChatRequest(
        model="m", messages=[HELLO], metadata={"team": "search"}, service_tier="flex"
    )
    body = _body(request)
    assert body["requestMetadata"] == {"team": "search"}
    assert body["serviceTier"] == {"type": "flex"}
    assert "serviceTier" not in _body(ChatRequest(model="m", messages=[HELLO], service_tier="auto"))


def test_stream_uses_converse_stream() -> None:
    http = CODEC.encode_request(ChatRequest(model="m", messages=[HELLO], stream=True), _target("m"))
    assert http.url == f"{BASE}/model/m/converse-stream"
    assert http.stream
    assert http.headers["accept"] == "application/vnd.amazon.eventstream"


# --- server side: bad bodies ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "param"),
    [
        (b"not json", None),
        (b"[]", None),
        (b'{"system": [{"text": "hi"}]}', "messages"),
        (b'{"messages": [{"role": "robot", "content": [{"text": "x"}]}]}', "messages[0].role"),
        (
            b'{"messages": [{"role": "user", "content": [{"video": {"format": "mp4"}}]}]}',
            "messages[0].content[0]",
        ),
        (
            b'{"messages": [{"role": "user", "content": [{"text": "x"}]}], '
            b'"inferenceConfig": {"maxTokens": "many"}}',
            "inferenceConfig.maxTokens",
        ),
        (
            b'{"messages": [{"role": "user", "content": [{"text": "x"}]}], "outputConfig": '
            b'{"textFormat": {"type": "json_schema", '
            b'"structure": {"jsonSchema": {"schema": "{"}}}}}',
            "outputConfig.textFormat.structure.jsonSchema.schema",
        ),
    ],
)
def test_bad_request_bodies(body: bytes, param: str | None) -> None:
    with pytest.raises(GatewayError) as info:
        decode_request(body, model="m", stream=False)
    assert info.value.kind == "invalid_request"
    assert info.value.param == param
