"""The OpenAPI document: valid OpenAPI 3.1, covering every route the app serves."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from openapi_spec_validator import validate

from fuzz._live import live_gateway
from junction import __version__
from junction.config import Config
from junction.server.app import create_app
from junction.server.openapi import build_document

# The routes the gateway serves, as its documentation promises them.
SERVED = [
    ("post", "/v1/chat/completions"),
    ("post", "/api/v1/chat/completions"),
    ("post", "/chat/completions"),
    ("post", "/v1/responses"),
    ("post", "/v1/messages"),
    ("post", "/api/v1/messages"),
    ("post", "/v1/messages/count_tokens"),
    ("post", "/v1/embeddings"),
    ("get", "/v1/models"),
    ("get", "/api/v1/models"),
    ("get", "/api/v1/models/{model}/endpoints"),
    ("get", "/v1/models/{model}"),
    ("get", "/api/v1/model/{model}"),
    ("get", "/api/v1/generation"),
    ("post", "/v1beta/models/{model}:generateContent"),
    ("post", "/v1/models/{model}:generateContent"),
    ("post", "/v1beta/models/{model}:streamGenerateContent"),
    ("post", "/v1/models/{model}:streamGenerateContent"),
    ("post", "/v1beta/models/{model}:countTokens"),
    ("post", "/v1/models/{model}:countTokens"),
    ("post", "/v1beta/models/{model}:embedContent"),
    ("post", "/v1/models/{model}:batchEmbedContents"),
    ("get", "/v1beta/models"),
    ("get", "/v1beta/models/{model}"),
    ("get", "/health"),
    ("get", "/openapi.json"),
]


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return build_document(__version__)


def test_document_is_valid_openapi_3_1(document: dict[str, Any]) -> None:
    assert document["openapi"] == "3.1.0"
    validate(document)  # raises on any departure from the 3.1 metaschema


@pytest.mark.parametrize(("method", "path"), SERVED)
def test_every_served_route_is_documented(document: dict[str, Any], method: str, path: str) -> None:
    assert method in document["paths"][path]


def test_every_documented_operation_is_routed(document: dict[str, Any]) -> None:
    router = create_app(Config()).router
    for path, operations in document["paths"].items():
        concrete = path.replace("{model}", "sim/openai")
        for method in operations:
            handler, _, _ = router.match(method.upper(), concrete)
            assert handler is not None, f"{method} {path} is documented but not routed"


def _body(document: dict[str, Any], path: str) -> dict[str, Any]:
    """The request body schema of ``POST path``, its ``$ref`` followed."""
    op = document["paths"][path]["post"]
    return _resolve(document, op["requestBody"]["content"]["application/json"]["schema"])


def _resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    name = schema["$ref"].removeprefix("#/components/schemas/")
    found: dict[str, Any] = document["components"]["schemas"][name]
    return found


def test_request_bodies_come_from_the_wire_structs(document: dict[str, Any]) -> None:
    chat = _body(document, "/v1/chat/completions")
    # Fields the chat door's decoder reads, typed as it reads them.
    message = _resolve(document, chat["properties"]["messages"]["items"])
    assert {"role", "content", "tool_calls", "tool_call_id"} <= set(message["properties"])
    assert message["required"] == ["role"]
    assert {"type": "integer"} in chat["properties"]["max_tokens"]["anyOf"]
    assert set(_body(document, "/v1/messages")["required"]) == {"model", "messages", "max_tokens"}
    counting = _body(document, "/v1/messages/count_tokens")
    assert set(counting["required"]) == {"model", "messages"}


def test_upstream_failures_are_documented_and_500_is_not(document: dict[str, Any]) -> None:
    chat = document["paths"]["/v1/chat/completions"]["post"]["responses"]
    assert {"502", "503", "504"} <= set(chat)
    assert "500" not in chat
    assert "5XX" not in chat
    models = document["paths"]["/v1/models"]["get"]["responses"]
    assert "502" not in models


def test_405_names_the_allowed_methods() -> None:
    """RFC 9110: a 405 carries ``Allow`` (schemathesis's unsupported-method check)."""
    with live_gateway() as url:
        answer = httpx.request("TRACE", url + "/v1/chat/completions", timeout=10)
    assert answer.status_code == 405
    assert answer.headers["allow"] == "POST"


def test_document_is_public_when_keys_are_required() -> None:
    keys = "keys:\n  - name: alice\n    key: sk-alice-0123456789\n"
    with live_gateway(keys=keys) as url:
        document = httpx.get(url + "/openapi.json", timeout=10)
        refused = httpx.post(url + "/v1/chat/completions", json={}, timeout=10)
    assert document.status_code == 200
    assert document.json()["openapi"] == "3.1.0"
    assert refused.status_code == 401  # documented for every operation but these two
