"""jsonschema validators for OpenRouter's OpenAPI 3.1 document in tests/fixtures/specs."""

from __future__ import annotations

import functools
from typing import Any

from _cassettes import SPECS, load_yaml
from _openapi import nullable as _nullable

SPEC = SPECS / "openrouter-openapi.yaml"


@functools.cache
def _schemas() -> dict[str, Any]:
    spec = load_yaml(SPEC)
    schemas: dict[str, Any] = _nullable(spec["components"]["schemas"])
    return schemas


def schema(name: str) -> dict[str, Any]:
    found: dict[str, Any] = _schemas()[name]
    return found


@functools.cache
def validator(name: str, *, any_provider_name: bool = False) -> Any:
    """A Draft 2020-12 validator for ``#/components/schemas/<name>``.

    ``any_provider_name`` opens the closed ``ProviderName`` enum to any string,
    for providers OpenRouter does not list (junction's simulator, local servers).
    """
    import jsonschema

    schemas = dict(_schemas())
    if any_provider_name:
        schemas["ProviderName"] = {"type": "string"}
    root = {"$ref": f"#/components/schemas/{name}", "components": {"schemas": schemas}}
    return jsonschema.Draft202012Validator(root)


def errors(name: str, instance: Any, *, any_provider_name: bool = False) -> list[str]:
    found = validator(name, any_provider_name=any_provider_name).iter_errors(instance)
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in found]


@functools.cache
def _response_validator(path: str, method: str, status: str) -> Any:
    import jsonschema

    spec = load_yaml(SPEC)
    operation = spec["paths"][path][method]["responses"][status]
    found = _nullable(operation["content"]["application/json"]["schema"])
    root = {**found, "components": {"schemas": dict(_schemas())}}
    return jsonschema.Draft202012Validator(root)


def response_errors(path: str, method: str, status: str, instance: Any) -> list[str]:
    """Errors of ``instance`` against the JSON schema of one operation's
    answer (``/embeddings``, ``post``, ``200``), for schemas written inline."""
    found = _response_validator(path, method, status).iter_errors(instance)
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in found]
