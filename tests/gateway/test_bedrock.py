"""Bedrock end to end: the official ``openai`` SDK -> junction's OpenAI door ->
the Bedrock Converse codec (SigV4-signed) -> the simulator's Bedrock routes.

The simulator's wire format is also checked against botocore itself (the AWS
SDK's core, no boto3): its ``bedrock-runtime`` client parses the simulator's
Converse JSON, ConverseStream event stream and errors.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import botocore.session
import httpx
import openai
import pytest
from botocore.config import Config as BotoConfig
from botocore.eventstream import EventStreamBuffer

from conftest import serve
from junction.config import parse_config
from junction.server.app import create_app
from junction.sim import Profile, start

CLAUDE = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
TITAN = "amazon.titan-embed-text-v2:0"
AKID, SECRET = "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"

WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather for a city",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    },
}


def _config(sim: str) -> str:
    dep = (
        f"provider: bedrock, base_url: '{sim}', api_key: '{AKID}:{SECRET}', api_version: eu-west-1"
    )
    return f"""
models:
  bedrock/claude:
    deployments:
      - {{{dep}, name: bedrock-claude, model: '{CLAUDE}'}}
  bedrock/titan:
    kind: embedding
    deployments:
      - {{{dep}, name: bedrock-titan, model: '{TITAN}'}}
"""


@dataclass
class BedrockStack:
    url: str
    sim_url: str
    sim: httpx.AsyncClient

    def client(self) -> openai.AsyncOpenAI:
        return openai.AsyncOpenAI(base_url=f"{self.url}/v1", api_key="k", max_retries=0)

    async def requests(self, limit: int = 5) -> list[dict[str, Any]]:
        r = await self.sim.get("/_sim/requests", params={"limit": limit})
        found: list[dict[str, Any]] = r.json()["requests"]
        return found

    async def fail(self, model: str, kind: str, count: int = 1) -> None:
        r = await self.sim.post("/_sim/fail", json={"model": model, "kind": kind, "count": count})
        assert r.status_code == 200


@pytest.fixture(scope="module")
async def bedrock_stack() -> AsyncIterator[BedrockStack]:
    runner, sim_url = await start(Profile())
    config = parse_config(_config(sim_url), {})
    server, task, url = await serve(create_app(config))
    sim = httpx.AsyncClient(base_url=sim_url, timeout=10)
    try:
        yield BedrockStack(url, sim_url, sim)
    finally:
        await sim.aclose()
        server.should_exit = True
        await task
        await runner.cleanup()


@pytest.fixture
async def bs(bedrock_stack: BedrockStack) -> BedrockStack:
    assert (await bedrock_stack.sim.post("/_sim/reset")).status_code == 200
    return bedrock_stack


async def test_plain_chat(bs: BedrockStack) -> None:
    completion = await bs.client().chat.completions.create(
        model="bedrock/claude",
        messages=[
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "echo: hello from bedrock"},
        ],
        max_tokens=50,
    )
    assert completion.choices[0].message.content == "hello from bedrock"
    assert completion.choices[0].finish_reason == "stop"
    assert completion.usage is not None
    assert completion.usage.prompt_tokens > 0
    assert completion.usage.completion_tokens > 0
    (seen,) = await bs.requests(1)
    assert seen["dialect"] == "bedrock"
    assert seen["path"] == f"/model/{CLAUDE}/converse"
    # Signed with SigV4 for the deployment's region (the simulator does not verify).
    assert seen["headers"]["x-sim-auth"] == "sigv4"
    assert seen["headers"]["x-amz-date"]
    assert seen["key_sent"] is True
    assert seen["body"]["system"] == [{"text": "Be brief."}]
    assert seen["body"]["inferenceConfig"] == {"maxTokens": 50}


async def test_streaming_with_usage(bs: BedrockStack) -> None:
    stream = await bs.client().chat.completions.create(
        model="bedrock/claude",
        messages=[{"role": "user", "content": "echo: one two three four five six"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    text, finish, usage = "", None, None
    async for chunk in stream:
        if chunk.choices:
            text += chunk.choices[0].delta.content or ""
            finish = chunk.choices[0].finish_reason or finish
        if chunk.usage is not None:
            usage = chunk.usage
    assert text == "one two three four five six"
    assert finish == "stop"
    assert usage is not None
    assert usage.completion_tokens > 0
    (seen,) = await bs.requests(1)
    assert seen["path"] == f"/model/{CLAUDE}/converse-stream"


async def test_tool_call_and_result(bs: BedrockStack) -> None:
    client = bs.client()
    messages: list[Any] = [{"role": "user", "content": "Use the get_weather tool for Paris."}]
    first = await client.chat.completions.create(
        model="bedrock/claude", messages=messages, tools=[WEATHER]
    )
    choice = first.choices[0]
    assert choice.finish_reason == "tool_calls"
    (call,) = choice.message.tool_calls or []
    assert call.function.name == "get_weather"
    assert isinstance(json.loads(call.function.arguments)["city"], str)
    messages += [
        choice.message.model_dump(exclude_none=True),
        {"role": "tool", "tool_call_id": call.id, "content": "18C and sunny"},
    ]
    second = await client.chat.completions.create(
        model="bedrock/claude", messages=messages, tools=[WEATHER]
    )
    assert "18C and sunny" in (second.choices[0].message.content or "")
    (seen,) = await bs.requests(1)
    body = seen["body"]
    assert body["toolConfig"]["tools"][0]["toolSpec"]["name"] == "get_weather"
    tool_use = body["messages"][1]["content"][0]["toolUse"]
    assert tool_use["toolUseId"] == call.id
    assert body["messages"][2]["content"][0]["toolResult"] == {
        "toolUseId": call.id,
        "content": [{"text": "18C and sunny"}],
        "status": "success",
    }


@pytest.mark.parametrize("stream", [False, True])
async def test_throttling_is_429(bs: BedrockStack, stream: bool) -> None:
    await bs.fail(CLAUDE, "rate_limit", 2)  # the attempt and its retry (routing.retry)
    messages: list[Any] = [{"role": "user", "content": "hi"}]
    # A stream fails before its first byte, so the client sees the HTTP status.
    with pytest.raises(openai.RateLimitError) as caught:
        await bs.client().chat.completions.create(
            model="bedrock/claude", messages=messages, stream=stream
        )
    assert caught.value.status_code == 429
    assert "ThrottlingException" in caught.value.message


async def test_embeddings(bs: BedrockStack) -> None:
    result = await bs.client().embeddings.create(
        model="bedrock/titan", input="hello bedrock", dimensions=16
    )
    assert len(result.data) == 1
    assert len(result.data[0].embedding) == 16
    (seen,) = await bs.requests(1)
    assert seen["path"] == f"/model/{TITAN}/invoke"
    assert seen["body"] == {"inputText": "hello bedrock", "normalize": True, "dimensions": 16}


# --- the simulator against botocore ---------------------------------------------------


async def test_sim_event_stream_parses_with_botocore(bs: BedrockStack) -> None:
    body = {"messages": [{"role": "user", "content": [{"text": "echo: framed"}]}]}
    r = await bs.sim.post(f"/model/{CLAUDE}/converse-stream", json=body)
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/vnd.amazon.eventstream"
    buffer = EventStreamBuffer()
    buffer.add_data(r.content)
    messages = list(buffer)
    kinds = [m.headers[":event-type"] for m in messages]
    assert kinds[0] == "messageStart"
    assert kinds[-2:] == ["messageStop", "metadata"]
    text = "".join(
        json.loads(m.payload)["delta"].get("text", "")
        for m in messages
        if m.headers[":event-type"] == "contentBlockDelta"
    )
    assert text == "framed"


def _botocore_client(endpoint: str) -> Any:
    session = botocore.session.get_session()
    return session.create_client(
        "bedrock-runtime",
        region_name="us-east-1",
        endpoint_url=endpoint,
        aws_access_key_id=AKID,
        aws_secret_access_key=SECRET,
        config=BotoConfig(retries={"total_max_attempts": 1}),
    )


THROTTLED = "us.amazon.nova-micro-v1:0"


def _converse_with_botocore(endpoint: str) -> dict[str, Any]:
    client = _botocore_client(endpoint)
    messages = [{"role": "user", "content": [{"text": "echo: from botocore"}]}]
    plain = client.converse(modelId=CLAUDE, messages=messages)
    stream = client.converse_stream(modelId=CLAUDE, messages=messages)
    events = list(stream["stream"])
    try:
        client.converse(modelId=THROTTLED, messages=messages)
        error = None
    except client.exceptions.ThrottlingException as exc:
        error = exc.response
    return {"plain": plain, "events": events, "error": error}


async def test_botocore_reads_the_simulator(bs: BedrockStack) -> None:
    await bs.fail(THROTTLED, "rate_limit")
    result = await asyncio.to_thread(_converse_with_botocore, bs.sim_url)
    plain = result["plain"]
    assert plain["output"]["message"]["content"] == [{"text": "from botocore"}]
    assert plain["stopReason"] == "end_turn"
    assert plain["usage"]["totalTokens"] > 0
    events = result["events"]
    assert "messageStart" in events[0]
    assert "messageStop" in events[-2]
    assert "metadata" in events[-1]
    text = "".join(
        e["contentBlockDelta"]["delta"].get("text", "") for e in events if "contentBlockDelta" in e
    )
    assert text == "from botocore"
    error = result["error"]
    assert error is not None
    assert error["Error"]["Code"] == "ThrottlingException"
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 429
    records = await bs.requests(3)
    assert [r["model"] for r in records] == [CLAUDE, CLAUDE, THROTTLED]
    assert {r["headers"]["x-sim-auth"] for r in records} == {"sigv4"}
