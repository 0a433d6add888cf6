"""Azure OpenAI: the v1 form and the classic deployment form.

Expected URLs follow Azure's published data-plane shape,
``https://<resource>.openai.azure.com/openai/deployments/<deployment>/chat/completions
?api-version=<version>`` with an ``api-key`` header; the end-to-end tests send
through junction with the official ``openai`` SDK and read what the simulator
received, and the simulator itself is checked with the SDK's ``AsyncAzureOpenAI``
client (which builds Azure's URLs on its own).
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import msgspec
import openai
import pytest

from junction.codecs.base import Target
from junction.codecs.openai_chat import CODEC
from junction.config import parse_config
from junction.providers import vendor
from junction.server.app import create_app
from junction.sim import Profile, start
from junction.types import ChatRequest, EmbeddingRequest, Message, TextPart


def _load_serve() -> Any:
    """tests/gateway/conftest.py's ``serve()`` (loaded by path: the name
    ``conftest`` is taken by whichever conftest pytest imported first)."""
    path = Path(__file__).resolve().parents[1] / "gateway" / "conftest.py"
    spec = importlib.util.spec_from_file_location("_gateway_conftest_for_azure", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module.serve


serve = _load_serve()

DEPLOYMENT = "prod-gpt4o"
EMBED_DEPLOYMENT = "prod-embed"


def _target(**changes: Any) -> Target:
    v = vendor("azure-deployments")
    assert v is not None
    fields: dict[str, Any] = {
        "provider": "az",
        "base_url": "https://contoso.openai.azure.com",
        "model": DEPLOYMENT,
        "api_key": "secret",
        "quirks": v.quirks,
        "api_version": v.api_version,
    }
    fields.update(changes)
    return Target(**fields)


def _chat() -> ChatRequest:
    return ChatRequest(model="x", messages=[Message(role="user", content=[TextPart(text="hi")])])


# --- the codec ---------------------------------------------------------------------


def test_deployment_url_and_api_key_header() -> None:
    http = CODEC.encode_request(_chat(), _target())
    assert http.url == (
        "https://contoso.openai.azure.com/openai/deployments/prod-gpt4o/chat/completions"
        "?api-version=2024-10-21"
    )
    assert http.headers["api-key"] == "secret"
    assert "authorization" not in http.headers
    assert msgspec.json.decode(http.body)["model"] == DEPLOYMENT


def test_deployment_api_version_from_the_deployment() -> None:
    http = CODEC.encode_request(_chat(), _target(api_version="2025-01-01-preview"))
    assert http.url.endswith("/chat/completions?api-version=2025-01-01-preview")


def test_deployment_base_with_openai_suffix_and_odd_names() -> None:
    target = _target(base_url="https://contoso.openai.azure.com/openai/", model="my dep/1")
    http = CODEC.encode_request(_chat(), target)
    assert http.url.startswith(
        "https://contoso.openai.azure.com/openai/deployments/my%20dep%2F1/chat/completions?"
    )


def test_deployment_without_version_uses_the_ga_default() -> None:
    http = CODEC.encode_request(_chat(), _target(api_version=None))
    assert http.url.endswith("?api-version=2024-10-21")


def test_deployment_embeddings_url() -> None:
    req = EmbeddingRequest(model="e", input=["a"])
    http = CODEC.encode_embeddings(req, _target(model=EMBED_DEPLOYMENT))
    assert http.url == (
        "https://contoso.openai.azure.com/openai/deployments/prod-embed/embeddings"
        "?api-version=2024-10-21"
    )
    assert http.headers["api-key"] == "secret"


def test_v1_form_keeps_openai_paths() -> None:
    v = vendor("azure")
    assert v is not None
    target = Target(
        provider="az",
        base_url="https://contoso.openai.azure.com/openai/v1",
        model=DEPLOYMENT,
        api_key="secret",
        quirks=v.quirks,
    )
    http = CODEC.encode_request(_chat(), target)
    assert http.url == "https://contoso.openai.azure.com/openai/v1/chat/completions"
    assert http.headers["api-key"] == "secret"


# --- the simulator, as Azure's own SDK client calls it -----------------------------


@pytest.fixture(scope="module")
async def sim() -> AsyncIterator[str]:
    runner, url = await start(Profile())
    try:
        yield url
    finally:
        await runner.cleanup()


async def _requests(sim_url: str) -> list[dict[str, Any]]:
    async with httpx.AsyncClient(base_url=sim_url) as http:
        reply = await http.get("/_sim/requests", params={"limit": 10})
        found: list[dict[str, Any]] = reply.json()["requests"]
        return found


async def _reset(sim_url: str) -> None:
    async with httpx.AsyncClient(base_url=sim_url) as http:
        assert (await http.post("/_sim/reset")).status_code == 200


async def test_sim_serves_azure_sdk(sim: str) -> None:
    await _reset(sim)
    client = openai.AsyncAzureOpenAI(
        azure_endpoint=sim, api_key="az-key", api_version="2024-10-21", max_retries=0
    )
    done = await client.chat.completions.create(
        model="sdk-deployment", messages=[{"role": "user", "content": "Hello"}]
    )
    assert done.model == "sdk-deployment"
    assert done.choices[0].message.content
    emb = await client.embeddings.create(model="sdk-embed", input=["a", "b"])
    assert len(emb.data) == 2
    seen = await _requests(sim)
    assert [r["path"] for r in seen] == [
        "/openai/deployments/sdk-deployment/chat/completions",
        "/openai/deployments/sdk-embed/embeddings",
    ]
    assert all(r["query"] == {"api-version": "2024-10-21"} for r in seen)
    assert all(r["headers"].get("api-key") == "***" for r in seen)


async def test_sim_refuses_missing_api_version(sim: str) -> None:
    async with httpx.AsyncClient(base_url=sim) as http:
        r = await http.post(
            "/openai/deployments/d/chat/completions",
            json={"messages": [{"role": "user", "content": "x"}]},
            headers={"api-key": "k"},
        )
        assert r.status_code == 400
        assert "api-version" in r.json()["error"]["message"]
        r = await http.post("/openai/deployments/d/embeddings", json={"input": "x"})
        assert r.status_code == 400


async def test_sim_deployment_needs_no_model_in_body(sim: str) -> None:
    async with httpx.AsyncClient(base_url=sim) as http:
        r = await http.post(
            "/openai/deployments/bodyless/chat/completions?api-version=2024-10-21",
            json={"messages": [{"role": "user", "content": "x"}]},
        )
        assert r.status_code == 200, r.text
        assert r.json()["model"] == "bodyless"


# --- end to end: openai SDK -> junction -> the simulator's deployment paths --------


@dataclass
class AzureStack:
    url: str
    sim_url: str


def _config(sim_url: str) -> str:
    return f"""
models:
  azure/chat:
    deployments:
      - provider: azure-deployments
        model: {DEPLOYMENT}
        base_url: '{sim_url}'
        api_key: az-secret
  azure/chat-preview:
    deployments:
      - provider: azure-deployments
        model: {DEPLOYMENT}
        base_url: '{sim_url}/openai'
        api_key: az-secret
        api_version: 2025-04-01-preview
  azure/embed:
    kind: embedding
    deployments:
      - provider: azure-deployments
        model: {EMBED_DEPLOYMENT}
        base_url: '{sim_url}'
        api_key: az-secret
"""


@pytest.fixture(scope="module")
async def stack(sim: str) -> AsyncIterator[AzureStack]:
    config = parse_config(_config(sim), {})
    server, task, url = await serve(create_app(config))
    try:
        yield AzureStack(url, sim)
    finally:
        server.should_exit = True
        await task


def _client(stack: AzureStack) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(base_url=f"{stack.url}/v1", api_key="client-key", max_retries=0)


def _assert_azure_call(entry: dict[str, Any], deployment: str, version: str, tail: str) -> None:
    assert entry["path"] == f"/openai/deployments/{deployment}/{tail}"
    assert entry["query"] == {"api-version": version}
    assert entry["headers"].get("api-key") == "***"  # sent (the log masks secrets)
    assert "authorization" not in entry["headers"]
    assert entry["key_sent"] is True


async def test_gateway_chat_uses_deployment_url(stack: AzureStack) -> None:
    await _reset(stack.sim_url)
    done = await _client(stack).chat.completions.create(
        model="azure/chat", messages=[{"role": "user", "content": "Hello there"}]
    )
    assert done.model == "azure/chat"
    assert done.choices[0].message.content
    (entry,) = await _requests(stack.sim_url)
    _assert_azure_call(entry, DEPLOYMENT, "2024-10-21", "chat/completions")
    assert entry["body"]["model"] == DEPLOYMENT
    assert entry["body"]["messages"] == [{"role": "user", "content": "Hello there"}]


async def test_gateway_stream_with_configured_api_version(stack: AzureStack) -> None:
    await _reset(stack.sim_url)
    stream = await _client(stack).chat.completions.create(
        model="azure/chat-preview",
        messages=[{"role": "user", "content": "Stream please"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    text = ""
    usage = None
    async for chunk in stream:
        if chunk.choices and chunk.choices[0].delta.content:
            text += chunk.choices[0].delta.content
        usage = chunk.usage or usage
    assert text
    assert usage is not None
    assert usage.completion_tokens > 0
    (entry,) = await _requests(stack.sim_url)
    _assert_azure_call(entry, DEPLOYMENT, "2025-04-01-preview", "chat/completions")
    assert entry["body"]["stream"] is True
    assert entry["body"]["stream_options"] == {"include_usage": True}


async def test_gateway_embeddings_use_deployment_url(stack: AzureStack) -> None:
    await _reset(stack.sim_url)
    emb = await _client(stack).embeddings.create(model="azure/embed", input=["one", "two"])
    assert emb.model == "azure/embed"
    assert len(emb.data) == 2
    (entry,) = await _requests(stack.sim_url)
    _assert_azure_call(entry, EMBED_DEPLOYMENT, "2024-10-21", "embeddings")
    assert entry["body"]["input"] == ["one", "two"]
