"""Data URLs, tool-call argument objects and tool-call ids, as every dialect
writes and reads them."""

from __future__ import annotations

import uuid
from typing import Any

import msgspec

from junction.types import GatewayError, ToolCallPart


def parse_data_url(url: str) -> tuple[str, str] | None:
    """``data:<media type>;base64,<data>`` -> (data, media type without its
    parameters, ``application/octet-stream`` when empty); None otherwise."""
    found = split_data_url(url)
    if found is None:
        return None
    media_type, data = found
    return data, media_type.split(";", 1)[0] or "application/octet-stream"


def data_url(data: str, media_type: str | None) -> str:
    return f"data:{media_type or 'application/octet-stream'};base64,{data}"


def new_tool_call_id() -> str:
    return "call_" + uuid.uuid4().hex[:24]


def split_data_url(url: str) -> tuple[str, str] | None:
    """``data:<media>;base64,<data>`` -> (media_type, data); None otherwise."""
    if not url.startswith("data:"):
        return None
    head, sep, data = url[5:].partition(",")
    if not sep or not head.endswith(";base64"):
        return None
    return head[: -len(";base64")], data


def arguments_object(part: ToolCallPart, path: str, needs: str) -> dict[str, Any]:
    """A tool call's JSON-text arguments as the object a wire format needs
    (``needs`` says which, for the error: "Anthropic needs tool_use input")."""
    if not part.arguments.strip():
        return {}
    try:
        value = msgspec.json.decode(part.arguments)
    except msgspec.DecodeError:
        value = None
    if not isinstance(value, dict):
        raise GatewayError(
            "invalid_request",
            f"tool call {part.id!r} ({part.name}) has arguments that are not a JSON object; "
            f"{needs} as an object",
            param=f"{path}.arguments",
        )
    return value


def arguments_or_empty(part: ToolCallPart) -> dict[str, Any]:
    """A tool call's arguments as an object, ``{}`` where they are not one
    (what a server writes back: it never refuses its own history)."""
    try:
        value = msgspec.json.decode(part.arguments or "{}")
    except msgspec.DecodeError:
        return {}
    return value if isinstance(value, dict) else {}
