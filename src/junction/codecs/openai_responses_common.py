"""Facts about the OpenAI Responses dialect shared by both directions."""

from __future__ import annotations

import uuid

from junction.types import ErrorKind, FinishReason

INCOMPLETE_REASONS: dict[str, FinishReason] = {
    "max_output_tokens": "length",
    "max_tokens": "length",
    "content_filter": "content_filter",
}
"""``incomplete_details.reason`` normalised (``max_tokens`` appears in the spec's example)."""

FINISH_TO_INCOMPLETE: dict[FinishReason, str] = {
    "length": "max_output_tokens",
    "content_filter": "content_filter",
}
"""Canonical finish reasons that make a Response ``incomplete``, with their reason."""

ERROR_CODES: dict[ErrorKind, str] = {
    "rate_limit": "rate_limit_exceeded",
    "invalid_request": "invalid_prompt",
    "unsupported_parameter": "invalid_prompt",
    "context_length_exceeded": "invalid_prompt",
    "request_too_large": "invalid_prompt",
}
"""Gateway error kinds in the vocabulary of ``ResponseError.code`` (an enum in
the spec); every other kind is ``server_error``."""

STREAM_ERROR_STATUS: dict[str, int] = {
    "rate_limit_exceeded": 429,
    "rate_limit": 429,
    "invalid_prompt": 400,
    "context_length_exceeded": 400,
    "server_error": 500,
    "insufficient_quota": 429,
}
"""HTTP status an in-stream error code stands for (anything else: 500)."""


def item_id(prefix: str) -> str:
    """A fresh item id: ``resp``, ``msg``, ``fc``, ``rs``."""
    return f"{prefix}_{uuid.uuid4().hex}"


def response_id(canonical: str) -> str:
    """The canonical response id as a Responses id (``resp_...``)."""
    if canonical.startswith("resp_"):
        return canonical
    if not canonical:
        return item_id("resp")
    return "resp_" + canonical
