"""Validators for the published OpenAI OpenAPI document in tests/fixtures/specs."""

from __future__ import annotations

import functools
from typing import Any

from _cassettes import SPECS, load_yaml, require

SPEC = SPECS / "openai-openapi.yaml"


def nullable(node: Any) -> Any:
    """OpenAPI 3.0 ``nullable: true`` (still used in places) as JSON Schema."""
    if isinstance(node, list):
        return [nullable(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {k: nullable(v) for k, v in node.items() if k != "nullable"}
    if node.get("nullable") is True:
        return {"anyOf": [out, {"type": "null"}]}
    return out


@functools.cache
def _components() -> dict[str, Any]:
    spec = load_yaml(SPEC)
    return {"schemas": nullable(spec["components"]["schemas"])}


@functools.cache
def validator(name: str) -> Any:
    require(SPEC)
    import jsonschema

    schema = {"$ref": f"#/components/schemas/{name}", "components": _components()}
    return jsonschema.Draft202012Validator(schema)
