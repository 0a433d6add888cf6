"""Data URLs and tool-call ids, as every dialect writes and reads them."""

from __future__ import annotations

import uuid


def parse_data_url(url: str) -> tuple[str, str] | None:
    """``data:<media type>;base64,<data>`` -> (data, media type); None otherwise."""
    if not url.startswith("data:"):
        return None
    head, sep, data = url.partition(",")
    if not sep or not head.endswith(";base64"):
        return None
    media_type = head[5:-7].split(";", 1)[0]
    return data, media_type or "application/octet-stream"


def data_url(data: str, media_type: str | None) -> str:
    return f"data:{media_type or 'application/octet-stream'};base64,{data}"


def new_tool_call_id() -> str:
    return "call_" + uuid.uuid4().hex[:24]
