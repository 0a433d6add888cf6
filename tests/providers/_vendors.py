"""Helpers: targets and endpoints built from the vendor records themselves."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from junction import providers
from junction.codecs.base import Target
from junction.codecs.openai_chat import CODEC
from junction.config import parse_config
from junction.gateway.routes import Endpoint, build_routes
from junction.providers.quirks import supported_params
from junction.providers.vendors import Vendor
from junction.types import ChatRequest


def record(name: str) -> Vendor:
    found = providers.vendor(name)
    assert found is not None, name
    return found


def target(name: str, model: str = "up-model") -> Target:
    v = record(name)
    return Target(
        provider=name,
        base_url=v.base_url or "http://127.0.0.1:8000/v1",
        model=model,
        api_key="k",
        quirks=v.quirks,
        api_version=v.api_version,
    )


def body(request: ChatRequest, name: str) -> dict[str, Any]:
    """The JSON body the OpenAI chat codec sends to vendor ``name``."""
    out: dict[str, Any] = json.loads(CODEC.encode_request(request, target(name)).body)
    return out


def endpoint(name: str) -> Endpoint:
    """The endpoint the gateway builds for a deployment of vendor ``name``,
    with the support set the vendor's data gives (``supported_params``:
    the dialect's table, plus ``pass_extra``'s canonical names, less
    ``unsupported``)."""
    config = parse_config(
        "models:\n  m:\n    deployments:\n"
        f"      - {{provider: {name}, name: {name}-dep, model: up-model, api_key: k,"
        " base_url: 'http://127.0.0.1:8000/v1'}\n",
        {},
    )
    (ep,) = build_routes(config)["m"].endpoints
    return dataclasses.replace(ep, supported=supported_params(record(name)))
