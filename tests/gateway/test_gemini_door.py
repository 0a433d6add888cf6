"""The Gemini door, through the official ``google-genai`` SDK over real
sockets, for models of every dialect behind it, under both API versions."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import openai
import pytest
from google import genai
from google.genai import errors, types

from conftest import ROOT, UPSTREAM, Stack, serve
from junction.config import load_config, parse_config
from junction.server.app import create_app
from junction.sim import Profile, start

DIALECTS = ("openai", "anthropic", "gemini", "bedrock", "responses")
VERSIONS = ("v1beta", "v1")
HELLO = [{"role": "user", "parts": [{"text": "echo: hello gemini door"}]}]


def client(url: str, version: str, key: str = "client-key") -> genai.Client:
    return genai.Client(
        api_key=key, http_options=types.HttpOptions(base_url=url, api_version=version)
    )


async def upstream_models(gw: Stack) -> list[str]:
    return [entry["model"] for entry in await gw.sim_requests()]


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("dialect", DIALECTS)
async def test_generate_content(gw: Stack, dialect: str, version: str) -> None:
    answer = await client(gw.url, version).aio.models.generate_content(
        model=f"sim/{dialect}",
        contents="echo: hello gemini door",
        config=types.GenerateContentConfig(system_instruction="You are terse."),
    )
    assert answer.text == "hello gemini door"
    assert answer.candidates is not None
    assert answer.candidates[0].finish_reason == types.FinishReason.STOP
    assert answer.usage_metadata is not None
    assert answer.usage_metadata.prompt_token_count
    assert answer.usage_metadata.candidates_token_count
    assert UPSTREAM[dialect] in await upstream_models(gw)


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("dialect", ["openai", "anthropic", "gemini"])
async def test_generate_content_stream(gw: Stack, dialect: str, version: str) -> None:
    words = " ".join(f"word{i}" for i in range(30))
    stream = await client(gw.url, version).aio.models.generate_content_stream(
        model=f"sim/{dialect}", contents=f"echo: {words}"
    )
    chunks = [chunk async for chunk in stream]
    assert len(chunks) > 1, "the answer arrives in pieces"
    assert "".join(c.text or "" for c in chunks) == words
    last = chunks[-1]
    assert last.candidates is not None
    assert last.candidates[0].finish_reason == types.FinishReason.STOP
    assert last.usage_metadata is not None
    assert last.usage_metadata.candidates_token_count
    assert UPSTREAM[dialect] in await upstream_models(gw)


async def test_a_model_named_with_models_prefix_is_the_same_model(gw: Stack) -> None:
    """``models/sim/openai``: the SDK's resource name, slashes in the id kept."""
    answer = await client(gw.url, "v1beta").aio.models.generate_content(
        model="models/sim/openai", contents="echo: prefixed"
    )
    assert answer.text == "prefixed"
    requests = await gw.sim_requests()
    assert requests[-1]["model"] == UPSTREAM["openai"]
    assert requests[-1]["path"] == "/v1/chat/completions"


async def test_tool_call_round_trip(gw: Stack) -> None:
    weather = types.FunctionDeclaration(
        name="get_weather",
        description="Current weather for a city",
        parameters_json_schema={
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    )
    config = types.GenerateContentConfig(
        tools=[types.Tool(function_declarations=[weather])],
        automatic_function_calling=types.AutomaticFunctionCallingConfig(disable=True),
        tool_config=types.ToolConfig(
            function_calling_config=types.FunctionCallingConfig(
                mode=types.FunctionCallingConfigMode.ANY
            )
        ),
    )
    sdk = client(gw.url, "v1beta")
    asked = types.Content(role="user", parts=[types.Part(text="What is the weather in Paris?")])
    first = await sdk.aio.models.generate_content(
        model="sim/anthropic", contents=[asked], config=config
    )
    assert first.function_calls, "the model called the tool"
    call = first.function_calls[0]
    assert call.name == "get_weather"
    assert isinstance((call.args or {}).get("city"), str)
    result = types.Part.from_function_response(name="get_weather", response={"result": "sunny"})
    assert first.candidates is not None
    called = first.candidates[0].content
    assert called is not None
    answered = [asked, called, types.Content(role="user", parts=[result])]
    config.tool_config = None
    second = await sdk.aio.models.generate_content(
        model="sim/anthropic", contents=answered, config=config
    )
    assert second.text
    anthropic_body = (await gw.sim_requests())[-1]["body"]
    blocks = [b for m in anthropic_body["messages"] for b in m["content"] if isinstance(b, dict)]
    assert any(b.get("type") == "tool_result" for b in blocks), "the result reached the provider"


@pytest.mark.parametrize("version", VERSIONS)
async def test_count_tokens(gw: Stack, version: str) -> None:
    sdk = client(gw.url, version)
    short = await sdk.aio.models.count_tokens(model="sim/openai", contents="echo: hi")
    long = await sdk.aio.models.count_tokens(model="sim/openai", contents="echo: hi " * 200)
    assert short.total_tokens is not None
    assert long.total_tokens is not None
    assert 0 < short.total_tokens < long.total_tokens


@pytest.mark.parametrize(("dialect", "source"), [("anthropic", "provider"), ("openai", "estimate")])
async def test_count_tokens_says_whose_count(gw: Stack, dialect: str, source: str) -> None:
    body = {"contents": HELLO}
    answer = await gw.http.post(f"/v1beta/models/sim/{dialect}:countTokens", json=body)
    assert answer.status_code == 200
    assert answer.headers["x-junction-token-count"] == source
    assert answer.json()["totalTokens"] > 0
    wrapped = {"generateContentRequest": {"contents": HELLO}}
    again = await gw.http.post(f"/v1beta/models/sim/{dialect}:countTokens", json=wrapped)
    assert again.json() == answer.json()
    if source == "provider":
        assert "count_tokens" in (await gw.sim_requests())[-1]["path"]


@pytest.mark.parametrize("version", VERSIONS)
async def test_embed_content(gw: Stack, version: str) -> None:
    sdk = client(gw.url, version)
    answer = await sdk.aio.models.embed_content(
        model="sim/embedding", contents=["first text", "second text"]
    )
    assert answer.embeddings is not None
    assert len(answer.embeddings) == 2
    first, second = (e.values or [] for e in answer.embeddings)
    assert len(first) == len(second) > 0
    assert first != second
    small = await sdk.aio.models.embed_content(
        model="sim/embedding",
        contents="first text",
        config=types.EmbedContentConfig(output_dimensionality=8),
    )
    assert small.embeddings is not None
    assert len(small.embeddings[0].values or []) == 8
    assert UPSTREAM_EMBEDDING in await upstream_models(gw)


UPSTREAM_EMBEDDING = "text-embedding-3-small"


async def test_embed_content_single(gw: Stack) -> None:
    body = {"content": {"parts": [{"text": "one text"}]}}
    answer = await gw.http.post("/v1/models/sim/embedding:embedContent", json=body)
    assert answer.status_code == 200
    assert len(answer.json()["embedding"]["values"]) > 0


@pytest.mark.parametrize("version", VERSIONS)
async def test_models_list(gw: Stack, version: str) -> None:
    models = [m async for m in await client(gw.url, version).aio.models.list()]
    by_name = {m.name: m for m in models}
    assert {"models/sim/openai", "models/sim/anthropic", "models/sim/gemini"} <= set(by_name)
    chat = by_name["models/sim/openai"]
    assert chat.supported_actions is not None
    assert "generateContent" in chat.supported_actions
    embedding = by_name["models/sim/embedding"]
    assert embedding.supported_actions == ["embedContent", "batchEmbedContents"]
    assert embedding.description == "OpenAI embeddings, simulated"


async def test_models_get(gw: Stack) -> None:
    model = await client(gw.url, "v1beta").aio.models.get(model="sim/anthropic")
    assert model.name == "models/sim/anthropic"
    assert model.supported_actions is not None
    assert "streamGenerateContent" in model.supported_actions
    with pytest.raises(errors.ClientError) as caught:
        await client(gw.url, "v1beta").aio.models.get(model="sim/no-such-model")
    assert caught.value.code == 404


async def test_the_sdks_default_version(gw: Stack) -> None:
    """No ``api_version``: whichever version this google-genai release picks."""
    sdk = genai.Client(api_key="client-key", http_options=types.HttpOptions(base_url=gw.url))
    answer = await sdk.aio.models.generate_content(model="sim/gemini", contents="echo: default")
    assert answer.text == "default"
    names = [m.name async for m in await sdk.aio.models.list()]
    assert "models/sim/gemini" in names


async def test_v1_models_stays_openai_for_openai_clients(gw: Stack) -> None:
    sdk = openai.AsyncOpenAI(base_url=gw.url + "/v1", api_key="client-key", max_retries=0)
    ids = [m.id async for m in sdk.models.list()]
    assert "sim/openai" in ids
    raw = await gw.http.get("/v1/models")
    assert raw.json()["object"] == "list"
    gemini = await gw.http.get("/v1/models", headers={"x-goog-api-key": "client-key"})
    assert "models/sim/openai" in [m["name"] for m in gemini.json()["models"]]


@pytest.mark.parametrize("version", VERSIONS)
async def test_unknown_model_is_the_sdks_404(gw: Stack, version: str) -> None:
    with pytest.raises(errors.ClientError) as caught:
        await client(gw.url, version).aio.models.generate_content(
            model="sim/no-such-model", contents="hello"
        )
    assert caught.value.code == 404
    assert caught.value.status == "NOT_FOUND"
    assert "sim/no-such-model" in (caught.value.message or "")


async def gemini_error(answer: httpx.Response, status: int) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    body: dict[str, Any] = answer.json()
    assert set(body) == {"error"}
    assert body["error"]["code"] == status
    return body["error"]


async def test_bad_requests_get_gemini_errors(gw: Stack) -> None:
    path = "/v1beta/models/sim/openai"
    empty = await gemini_error(await gw.http.post(f"{path}:generateContent", json={}), 400)
    assert empty["status"] == "INVALID_ARGUMENT"
    assert "contents" in empty["message"]
    no_body = await gemini_error(await gw.http.post(f"{path}:generateContent"), 400)
    assert "GenerateContentRequest" in no_body["message"]
    not_sse = await gw.http.post(f"{path}:streamGenerateContent", json={"contents": HELLO})
    assert "alt=sse" in (await gemini_error(not_sse, 400))["message"]
    hot = {"contents": HELLO, "generationConfig": {"temperature": 5}}
    too_hot = await gemini_error(await gw.http.post(f"{path}:generateContent", json=hot), 400)
    assert "generationConfig.temperature" in too_hot["message"]
    unknown = await gemini_error(await gw.http.post(f"{path}:predict", json={}), 404)
    assert "predict" in unknown["message"]
    assert "generateContent" in unknown["message"]
    no_method = await gemini_error(await gw.http.post(path, json={"contents": HELLO}), 404)
    assert "needs a method" in no_method["message"]
    counted = await gw.http.post(f"{path}:countTokens", json=["not", "an", "object"])
    assert "countTokens" in (await gemini_error(counted, 400))["message"]
    bad_inner = {"generateContentRequest": ["not", "an", "object"]}
    inner = await gw.http.post(f"{path}:countTokens", json=bad_inner)
    assert "generateContent request" in (await gemini_error(inner, 400))["message"]
    bad_embed = await gw.http.post(f"{path}:batchEmbedContents", json={"requests": []})
    assert "requests" in (await gemini_error(bad_embed, 400))["message"]
    assert await gw.sim_requests() == [], "no bad request reached a provider"


ALICE = "sk-alice-0123456789"


@pytest.fixture(scope="module")
async def keyed() -> AsyncIterator[str]:
    """junction with a client key required, the simulator behind it."""
    runner, sim = await start(Profile())
    env = {"JUNCTION_SIM_URL": sim, "ALICE_KEY": ALICE}
    config = load_config(ROOT / "examples" / "sim.yaml", env)
    config.keys = parse_config("keys:\n  - name: alice\n    key: ${ALICE_KEY}\n", env).keys
    server, task, url = await serve(create_app(config))
    try:
        yield url
    finally:
        server.should_exit = True
        await task
        await runner.cleanup()


@pytest.mark.parametrize("version", VERSIONS)
async def test_key_in_the_header(keyed: str, version: str) -> None:
    answer = await client(keyed, version, key=ALICE).aio.models.generate_content(
        model="sim/gemini", contents="echo: keyed"
    )
    assert answer.text == "keyed"
    listed = [m.name async for m in await client(keyed, version, key=ALICE).aio.models.list()]
    assert "models/sim/gemini" in listed
    with pytest.raises(errors.ClientError) as caught:
        await client(keyed, version, key="sk-wrong").aio.models.generate_content(
            model="sim/gemini", contents="echo: keyed"
        )
    assert caught.value.code == 401
    assert caught.value.status == "UNAUTHENTICATED"
    assert "sk-wrong" not in str(caught.value)


async def test_key_in_the_query(keyed: str) -> None:
    url = f"{keyed}/v1beta/models/sim/openai:generateContent"
    async with httpx.AsyncClient(timeout=30) as http:
        answer = await http.post(url, params={"key": ALICE}, json={"contents": HELLO})
        assert answer.status_code == 200, answer.text
        parts = answer.json()["candidates"][0]["content"]["parts"]
        assert parts == [{"text": "hello gemini door"}]
        stream = await http.post(
            url.replace(":generateContent", ":streamGenerateContent"),
            params={"alt": "sse", "key": ALICE},
            json={"contents": HELLO},
        )
        assert stream.status_code == 200
        assert stream.headers["content-type"].startswith("text/event-stream")
        assert "hello" in stream.text
        models = await http.get(f"{keyed}/v1/models", params={"key": ALICE})
        assert "models/sim/openai" in [m["name"] for m in models.json()["models"]]
        missing = await http.post(url, json={"contents": HELLO})
        wrong = await http.post(url, params={"key": "sk-wrong"}, json={"contents": HELLO})
    for refused in (missing, wrong):
        error = await gemini_error(refused, 401)
        assert error["status"] == "UNAUTHENTICATED"
        assert "x-goog-api-key" in error["message"]
        assert "sk-wrong" not in error["message"]


async def test_a_stream_cut_mid_way_is_the_sdks_error(gw: Stack) -> None:
    await gw.sim_fail("single-anthropic", "stream_cut", 1)
    stream = await client(gw.url, "v1beta").aio.models.generate_content_stream(
        model="test/single-anthropic", contents="a long answer please"
    )
    got: list[types.GenerateContentResponse] = []

    async def drain() -> None:
        async for chunk in stream:
            got.append(chunk)

    with pytest.raises(errors.APIError) as caught:
        await drain()
    assert got, "content before the cut was relayed"
    assert caught.value.code >= 500
    assert "anthropic-single" in (caught.value.message or "")
