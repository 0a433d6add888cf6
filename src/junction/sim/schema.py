"""Deterministic values that are valid against a JSON Schema.

Covers what tool parameters and structured outputs use in practice: types
(and type lists), ``enum`` / ``const``, objects with ``properties`` /
``required``, arrays with ``items`` / ``prefixItems`` / ``minItems`` /
``maxItems``, string ``minLength`` / ``maxLength`` / common ``format`` values,
numeric ``minimum`` / ``maximum`` / exclusive bounds / ``multipleOf``, local
``$ref`` (``#/$defs/...``, ``#/definitions/...``), ``anyOf`` / ``oneOf`` (the
first non-null branch) and ``allOf`` (merged). ``pattern`` is not solved.

String properties whose name says what they hold (``city``, ``location``,
``query``...) take a value drawn from the prompt when the prompt has one.

:func:`schema_in` finds a JSON Schema written into a prompt (instructor's JSON
modes, pydantic-ai's ``PromptedOutput``, hand-written "answer with JSON like
this schema" prompts).
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

_PLACE_NAMES = frozenset(
    {"city", "location", "place", "town", "country", "region", "destination", "origin", "state"}
)
_QUERY_NAMES = frozenset(
    {"query", "q", "search", "search_query", "question", "topic", "text", "prompt", "keywords"}
)
_FORMATS = {
    "date-time": "2024-01-01T00:00:00Z",
    "date": "2024-01-01",
    "time": "00:00:00Z",
    "email": "user@example.com",
    "uri": "https://example.com/",
    "url": "https://example.com/",
    "uuid": "00000000-0000-4000-8000-000000000000",
    "hostname": "example.com",
    "ipv4": "192.0.2.1",
    "ipv6": "2001:db8::1",
}
_PLACE = re.compile(r"\b(?:in|at|for|near|to|from)\s+([A-Z][\w'-]*(?:\s+[A-Z][\w'-]*)*)")
_CAPITALISED = re.compile(r"(?<=\s)([A-Z][a-z][\w'-]*)")
_MAX_DEPTH = 12
_SCHEMA_HINT = re.compile(r'"(?:properties|type)"\s*:')
_SCAN_CHARS = 65536
_SCAN_OBJECTS = 64


class SchemaValues:
    """Builds one value for a schema; ``prompt`` feeds place and query strings."""

    def __init__(self, root: dict[str, Any], prompt: str = "") -> None:
        self._root = root
        self._prompt = prompt.strip()

    def value(self) -> Any:
        return self._value(self._root, "", 0)

    def _value(self, schema: Any, name: str, depth: int) -> Any:
        if not isinstance(schema, dict) or depth > _MAX_DEPTH:
            return None if depth > _MAX_DEPTH else "value"
        schema = self._flatten(schema, depth)
        if "const" in schema:
            return schema["const"]
        if isinstance(schema.get("enum"), list) and schema["enum"]:
            return schema["enum"][0]
        kind = _kind(schema)
        if kind == "object":
            return self._object(schema, depth)
        if kind == "array":
            return self._array(schema, name, depth)
        if kind == "integer":
            return _integer(schema)
        if kind == "number":
            return _number(schema)
        if kind == "boolean":
            return True
        if kind == "null":
            return None
        return self._string(schema, name)

    def _flatten(self, schema: dict[str, Any], depth: int) -> dict[str, Any]:
        """Resolve ``$ref`` and pick / merge combinators into one plain schema."""
        for _ in range(_MAX_DEPTH):
            ref = schema.get("$ref")
            if isinstance(ref, str):
                rest = {k: v for k, v in schema.items() if k != "$ref"}
                schema = {**self._resolve(ref), **rest}
                continue
            branches = schema.get("anyOf") or schema.get("oneOf")
            if isinstance(branches, list) and branches:
                rest = {k: v for k, v in schema.items() if k not in ("anyOf", "oneOf")}
                schema = {**rest, **_first_non_null(branches)}
                continue
            parts = schema.get("allOf")
            if isinstance(parts, list) and parts:
                schema = _merge_all(schema, parts)
                continue
            return schema
        return schema

    def _resolve(self, ref: str) -> dict[str, Any]:
        if not ref.startswith("#"):
            return {}
        node: Any = self._root
        for token in ref.lstrip("#").strip("/").split("/"):
            if not token:
                continue
            token = token.replace("~1", "/").replace("~0", "~")
            if not isinstance(node, dict) or token not in node:
                return {}
            node = node[token]
        return node if isinstance(node, dict) else {}

    def _object(self, schema: dict[str, Any], depth: int) -> dict[str, Any]:
        props = schema.get("properties")
        out: dict[str, Any] = {}
        if isinstance(props, dict):
            for key, sub in props.items():
                out[key] = self._value(sub, key, depth + 1)
        required = schema.get("required")
        if isinstance(required, list):
            for key in required:
                if isinstance(key, str) and key not in out:
                    out[key] = "value"
        return out

    def _array(self, schema: dict[str, Any], name: str, depth: int) -> list[Any]:
        prefix = schema.get("prefixItems")
        out: list[Any] = []
        if isinstance(prefix, list):
            out = [self._value(sub, name, depth + 1) for sub in prefix]
        low = _int_of(schema.get("minItems"), 1)
        high = _int_of(schema.get("maxItems"), max(low, len(out), 1))
        count = min(max(low, len(out), 1), high)
        items = schema.get("items", {})
        while len(out) < count:
            out.append(self._value(items, name, depth + 1))
        return out[:count]

    def _string(self, schema: dict[str, Any], name: str) -> str:
        fmt = schema.get("format")
        if isinstance(fmt, str) and fmt in _FORMATS:
            return _FORMATS[fmt]
        text = self._from_prompt(name.lower()) or (name or "value")
        low = _int_of(schema.get("minLength"), 0)
        high = _int_of(schema.get("maxLength"), max(low, len(text)))
        if len(text) < low:
            text = text + "x" * (low - len(text))
        return text[:high]

    def _from_prompt(self, name: str) -> str:
        if not self._prompt:
            return ""
        if name in _PLACE_NAMES:
            return place_in(self._prompt)
        if name in _QUERY_NAMES:
            return self._prompt[:100]
        return ""


def schema_in(text: str) -> dict[str, Any] | None:
    """The first JSON Schema object written in ``text``, or None.

    A schema is a JSON object (inline or in a fenced block) with a
    ``properties`` object or ``"type": "object"``; an object that is not one
    is skipped whole. Only the first 64 KiB and 64 candidate objects are read.
    """
    if "{" not in text or _SCHEMA_HINT.search(text) is None:
        return None
    text = text[:_SCAN_CHARS]
    decoder = json.JSONDecoder()
    at = text.find("{")
    for _ in range(_SCAN_OBJECTS):
        if at < 0:
            return None
        try:
            value, end = decoder.raw_decode(text, at)
        except ValueError:
            at = text.find("{", at + 1)
            continue
        if isinstance(value, dict) and (
            isinstance(value.get("properties"), dict) or value.get("type") == "object"
        ):
            return value
        at = text.find("{", end)
    return None


def place_in(prompt: str) -> str:
    """A place named in ``prompt`` ("weather in Paris" -> "Paris"), or ""."""
    match = _PLACE.search(prompt)
    if match:
        return match.group(1)
    match = _CAPITALISED.search(prompt)
    return match.group(1) if match else ""


def _kind(schema: dict[str, Any]) -> str:
    kind = schema.get("type")
    if isinstance(kind, list):
        non_null = [k for k in kind if k != "null"]
        kind = non_null[0] if non_null else "null"
    if isinstance(kind, str):
        return kind
    if "properties" in schema or "required" in schema:
        return "object"
    if "items" in schema or "prefixItems" in schema:
        return "array"
    return "string"


def _first_non_null(branches: list[Any]) -> dict[str, Any]:
    for branch in branches:
        if isinstance(branch, dict) and branch.get("type") != "null":
            return branch
    first = branches[0]
    return first if isinstance(first, dict) else {}


def _merge_all(schema: dict[str, Any], parts: list[Any]) -> dict[str, Any]:
    merged: dict[str, Any] = {k: v for k, v in schema.items() if k != "allOf"}
    for part in parts:
        if not isinstance(part, dict):
            continue
        for key, val in part.items():
            if key == "properties" and isinstance(val, dict):
                merged["properties"] = {**merged.get("properties", {}), **val}
            elif key == "required" and isinstance(val, list):
                merged["required"] = [*merged.get("required", []), *val]
            else:
                merged.setdefault(key, val)
    return merged


def _int_of(value: Any, default: int) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def _bounds(schema: dict[str, Any]) -> tuple[float | None, float | None, bool, bool]:
    low, high = schema.get("minimum"), schema.get("maximum")
    ex_low, ex_high = schema.get("exclusiveMinimum"), schema.get("exclusiveMaximum")
    low_open = high_open = False
    if isinstance(ex_low, int | float) and not isinstance(ex_low, bool):
        low, low_open = ex_low, True
    if isinstance(ex_high, int | float) and not isinstance(ex_high, bool):
        high, high_open = ex_high, True
    lo = float(low) if isinstance(low, int | float) else None
    hi = float(high) if isinstance(high, int | float) else None
    return lo, hi, low_open, high_open


def _integer(schema: dict[str, Any]) -> int:
    lo, hi, lo_open, hi_open = _bounds(schema)
    step = schema.get("multipleOf")
    step_i = step if isinstance(step, int) and not isinstance(step, bool) and step > 0 else 1
    if lo is not None:
        start = math.floor(lo) + 1 if lo_open or lo != math.floor(lo) else int(lo)
        return math.ceil(start / step_i) * step_i
    if hi is not None:
        top = math.ceil(hi) - 1 if hi_open or hi != math.ceil(hi) else int(hi)
        return math.floor(min(1, top) / step_i) * step_i
    return step_i


def _number(schema: dict[str, Any]) -> float:
    lo, hi, lo_open, _ = _bounds(schema)
    step = schema.get("multipleOf")
    if isinstance(step, int | float) and not isinstance(step, bool) and step > 0:
        if lo is not None:
            value = math.ceil(lo / step) * step
            return float(value + step if lo_open and value <= lo else value)
        if hi is not None:
            return float(math.floor(min(0.0, hi - step) / step) * step)
        return float(step)
    if lo is not None and hi is not None:
        return (lo + hi) / 2
    if lo is not None:
        return lo + 1.5
    if hi is not None:
        return hi - 1.5
    return 1.5
