"""OpenRouter's door (``/api/v1``) answers as OpenRouter does, checked against
OpenRouter's OpenAPI document and, where node is installed, through the real
``@openrouter/sdk``, which validates every answer against its own schemas.

Where the document and the SDK disagree, the SDK (what users run) wins:

* ``PublicEndpoint.supports_tool_choice``: not in the document, required by
  the SDK (``ToolChoiceSupport``: ``auto``, ``function``, ``none``, ``required``).
* ``Model.description`` and ``ListEndpointsResponse.description``: the SDK
  reads a string, never null, so a model with none shows ``""``.
* ``ChatStreamChunk.system_fingerprint``: the SDK takes a string or nothing
  (not null, unlike ``ChatResult``'s), so a stream chunk leaves it out.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from _openrouter_schema import errors, response_errors
from conftest import Stack

HI = [{"role": "user", "content": "echo: hi"}]
JS = Path(__file__).resolve().parents[1] / "clients" / "js"


async def chat(gw: Stack, path: str = "/api/v1/chat/completions", **body: Any) -> Any:
    return await gw.http.post(path, json={"messages": HI, **body})


def sse_chunks(text: str) -> list[dict[str, Any]]:
    lines = [line[6:] for line in text.splitlines() if line.startswith("data: ")]
    return [json.loads(line) for line in lines if line != "[DONE]"]


async def test_a_chat_completion_is_openrouters_chat_result(gw: Stack) -> None:
    r = await chat(gw, model="sim/openai")
    assert r.status_code == 200, r.text
    body = r.json()
    assert errors("ChatResult", body) == []
    # Required by ChatResult, null when the provider sent none.
    assert "system_fingerprint" in body
    assert body["system_fingerprint"] is None
    assert body["choices"][0]["message"]["content"] == "hi"
    # OpenAI's door keeps OpenAI's form: a string, or no field at all.
    openai_body = (await chat(gw, "/v1/chat/completions", model="sim/openai")).json()
    assert "system_fingerprint" not in openai_body


async def test_stream_chunks_are_openrouters(gw: Stack) -> None:
    r = await chat(gw, model="sim/openai", stream=True, stream_options={"include_usage": True})
    assert r.status_code == 200
    chunks = sse_chunks(r.text)
    assert chunks
    assert r.text.rstrip().endswith("data: [DONE]")
    for chunk in chunks:
        assert errors("ChatStreamChunk", chunk) == [], chunk
        # The SDK's ChatStreamChunk takes a string or nothing here, never null.
        assert chunk.get("system_fingerprint", "") is not None
    assert "".join(c["choices"][0]["delta"].get("content", "") for c in chunks if c["choices"])


async def test_an_error_inside_a_stream_has_a_numeric_code(gw: Stack) -> None:
    await gw.sim_fail("single-openai", "stream_cut", 1)
    body = {"model": "test/single-openai", "messages": HI, "stream": True}
    async with gw.http.stream("POST", "/api/v1/chat/completions", json=body) as r:
        text = (await r.aread()).decode()
    assert r.status_code == 200
    last = sse_chunks(text)[-1]
    assert errors("ChatStreamChunk", last) == []
    assert isinstance(last["error"]["code"], int)
    assert last["error"]["code"] >= 500
    assert last["choices"][0]["finish_reason"] == "error"


async def test_models_alone_is_the_model_then_its_fallbacks(gw: Stack) -> None:
    r = await chat(gw, models=["test/single-openai", "sim/openai"])
    assert r.status_code == 200, r.text
    assert r.json()["provider"] == "openai-single"
    # The first fails for good: the second serves.
    await gw.sim_fail("single-openai", "unavailable", 10)
    r = await chat(gw, models=["test/single-openai", "sim/openai"])
    assert r.status_code == 200, r.text
    assert r.json()["provider"] == "sim-openai"
    # OpenAI's door reads the same body the same way.
    r = await chat(gw, "/v1/chat/completions", models=["sim/anthropic"])
    assert r.status_code == 200
    assert r.json()["choices"][0]["message"]["content"] == "hi"


async def test_neither_model_nor_models_says_what_to_send(gw: Stack) -> None:
    r = await chat(gw)
    assert r.status_code == 400
    assert errors("BadRequestResponse", r.json()) == []
    error = r.json()["error"]
    assert error["code"] == 400
    assert "`models`" in error["message"]
    assert error["metadata"] == {"error_type": "invalid_request", "param": "model"}


async def test_models_list_has_total_count_and_links(gw: Stack) -> None:
    r = await gw.http.get("/api/v1/models")
    assert r.status_code == 200
    body = r.json()
    assert errors("ModelsListResponse", body, any_provider_name=True) == []
    assert body["total_count"] == len(gw.gateway.routes) == len(body["data"])
    assert body["links"] == {"next": None}
    page = (await gw.http.get("/api/v1/models", params={"offset": 1, "limit": 2})).json()
    assert [m["id"] for m in page["data"]] == [m["id"] for m in body["data"][1:3]]
    assert page["links"]["next"] == "/api/v1/models?offset=3&limit=2"
    assert page["total_count"] == body["total_count"]
    bad = await gw.http.get("/api/v1/models", params={"limit": 0})
    assert bad.status_code == 400
    assert bad.json()["error"]["metadata"]["param"] == "limit"


async def test_one_model_by_author_and_slug(gw: Stack) -> None:
    r = await gw.http.get("/api/v1/model/sim/openai")
    assert r.status_code == 200
    assert errors("ModelResponse", r.json(), any_provider_name=True) == []
    assert r.json()["data"]["id"] == "sim/openai"
    missing = await gw.http.get("/api/v1/model/no/such")
    assert missing.status_code == 404
    assert errors("NotFoundResponse", missing.json()) == []


async def test_endpoints_say_which_tool_choices_they_take(gw: Stack) -> None:
    r = await gw.http.get("/api/v1/models/sim/openai/endpoints")
    assert r.status_code == 200
    data = r.json()["data"]
    assert errors("ListEndpointsResponse", data, any_provider_name=True) == []
    (endpoint,) = data["endpoints"]
    assert endpoint["supports_tool_choice"] == {
        "auto": True,
        "function": True,
        "none": True,
        "required": True,
    }
    assert isinstance(data["description"], str)


async def test_embeddings_are_openrouters(gw: Stack) -> None:
    r = await gw.http.post(
        "/api/v1/embeddings", json={"model": "sim/embedding", "input": ["one", "two"]}
    )
    assert r.status_code == 200, r.text
    assert response_errors("/embeddings", "post", "200", r.json()) == []
    assert len(r.json()["data"]) == 2


async def test_generation_lookup_is_openrouters(gw: Stack) -> None:
    made = (await chat(gw, model="sim/openai")).json()
    r = await gw.http.get("/api/v1/generation", params={"id": made["id"]})
    assert r.status_code == 200
    found = errors("GenerationResponse", r.json(), any_provider_name=True)
    # ProviderResponse.provider_name is OpenRouter's closed list of its own
    # providers; junction's deployments are not in it.
    assert [e for e in found if "/provider_name: 'sim-" not in e] == []
    missing = await gw.http.get("/api/v1/generation", params={"id": "gen-nope"})
    assert missing.status_code == 404
    assert errors("NotFoundResponse", missing.json()) == []
    assert missing.json()["error"]["metadata"]["param"] == "id"


@pytest.mark.parametrize(
    ("method", "path", "status", "schema"),
    [
        ("POST", "/api/v1/chat/completions", 404, "NotFoundResponse"),  # unknown model
        ("GET", "/api/v1/models/no/such/endpoints", 404, "NotFoundResponse"),
        ("GET", "/api/v1/no-such-route", 404, "NotFoundResponse"),
        ("GET", "/api/v1/chat/completions", 405, None),
        ("POST", "/api/v1/responses", 404, "NotFoundResponse"),  # unknown model
    ],
)
async def test_every_error_under_api_v1_is_openrouters(
    gw: Stack, method: str, path: str, status: int, schema: str | None
) -> None:
    body = {"model": "no/such-model", "messages": HI, "input": "hi"}
    r = await gw.http.request(method, path, json=body if method == "POST" else None)
    assert r.status_code == status, r.text
    error = r.json()["error"]
    assert error["code"] == status
    assert isinstance(error["message"], str)
    assert error["message"]
    assert "error_type" in error["metadata"]
    if schema is not None:
        assert errors(schema, r.json()) == []


async def test_a_providers_error_names_the_provider_in_metadata(gw: Stack) -> None:
    await gw.sim_fail("single-openai", "bad_request", 1)
    r = await chat(gw, model="test/single-openai")
    assert r.status_code == 400
    assert errors("BadRequestResponse", r.json()) == []
    assert r.json()["error"]["code"] == 400
    assert r.json()["error"]["metadata"]["provider_name"] == "openai-single"
    await gw.sim_fail("single-openai", "server_error", 10)
    r = await chat(gw, model="test/single-openai")
    assert r.status_code == 502
    assert errors("BadGatewayResponse", r.json()) == []
    assert r.json()["error"]["code"] == 502
    assert r.json()["error"]["metadata"]["provider_name"] == "openai-single"


async def test_anthropic_messages_under_api_v1_keep_anthropics_errors(gw: Stack) -> None:
    r = await gw.http.post(
        "/api/v1/messages",
        json={"model": "no/such", "max_tokens": 10, "messages": HI},
        headers={"anthropic-version": "2023-06-01"},
    )
    assert r.status_code == 404
    assert errors("AnthropicMessagesErrorResponse", {"request_id": None, **r.json()}) == []
    assert r.json()["error"]["type"] == "not_found_error"


def _node() -> str | None:
    return shutil.which("node")


async def _run(*argv: str, cwd: Path, env: dict[str, str] | None = None) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(
        *argv,
        cwd=cwd,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(proc.communicate(), timeout=300)
    assert proc.returncode is not None
    return proc.returncode, out.decode()


@pytest.mark.skipif(_node() is None, reason="node is not installed")
async def test_openrouters_own_sdk_takes_every_answer(gw: Stack) -> None:
    """``@openrouter/sdk`` (pinned in tests/clients/js/package-lock.json) against
    this junction: each call passes the SDK's validation, and errors raise
    its typed classes."""
    if not (JS / "node_modules" / "@openrouter" / "sdk").is_dir():
        npm = shutil.which("npm")
        assert npm is not None, "node is installed without npm"
        code, out = await _run(npm, "ci", "--no-audit", "--no-fund", cwd=JS)
        assert code == 0, out
    env = {**os.environ, "JUNCTION_URL": gw.url}
    code, out = await _run("node", "openrouter_sdk.mjs", cwd=JS, env=env)
    assert code == 0, out
    got = json.loads(out.strip().splitlines()[-1])
    assert got["chat"]["content"] == "hello from the sdk"
    assert got["chat"]["fingerprint"] is None
    assert got["fallback_models"] == {"model": "sim/anthropic", "content": "hello from the sdk"}
    assert got["stream"]["content"] == "hello from the sdk"
    assert got["models"]["total"] == len(gw.gateway.routes)
    assert "sim/openai" in got["models"]["ids"]
    assert got["models"]["next"] is None
    assert got["endpoints"]["id"] == "sim/openai"
    assert got["endpoints"]["tool_choice"] == [
        {"auto": True, "function": True, "none": True, "required": True}
    ]
    assert got["generation"]["id"] == got["chat"]["id"]
    assert got["embeddings"]["length"] > 0
    assert got["unknown_model"] == {"error": "NotFoundResponseError", "code": 404, "status": 404}
    assert got["unknown_endpoints"] == {
        "error": "NotFoundResponseError",
        "code": 404,
        "status": 404,
    }
    assert got["bad_request"] == {"error": "BadRequestResponseError", "code": 400, "status": 400}
