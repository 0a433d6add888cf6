"""OpenAI-family error bodies, read the same way by OpenAI Chat and OpenAI
Responses clients: every shape OpenAI-compatible vendors send, and the
error ``type`` strings junction writes."""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from email.utils import parsedate_to_datetime
from typing import Any

import msgspec

from junction.codecs.base import Target
from junction.types import (
    ErrorKind,
    UpstreamError,
    upstream_error,
)

ERROR_TYPES: dict[ErrorKind, str] = {
    "invalid_request": "invalid_request_error",
    "unsupported_parameter": "invalid_request_error",
    "context_length_exceeded": "invalid_request_error",
    "request_too_large": "invalid_request_error",
    "authentication": "authentication_error",
    "permission_denied": "permission_error",
    "not_found": "not_found_error",
    "rate_limit": "rate_limit_error",
    "timeout": "timeout_error",
    "server": "server_error",
    "provider_unavailable": "server_error",
    "overloaded": "server_error",
}
"""Gateway error kinds in OpenAI's ``error.type`` vocabulary."""


_json = msgspec.json.Encoder().encode


class ErrorFields(msgspec.Struct):
    message: str | None = None
    type: str | None = None
    param: str | None = None
    code: str | int | None = None
    status_code: int | None = None
    metadata: dict[str, Any] | None = None


def retry_after_seconds(headers: Mapping[str, str]) -> float | None:
    """``retry-after-ms`` or ``retry-after`` (seconds or an HTTP date)."""
    lower = {k.lower(): v for k, v in headers.items()}
    try:
        if (ms := lower.get("retry-after-ms")) is not None:
            return max(float(ms) / 1000.0, 0.0)
        value = lower.get("retry-after")
        if value is None:
            return None
        try:
            return max(float(value), 0.0)
        except ValueError:
            return max(parsedate_to_datetime(value).timestamp() - time.time(), 0.0)
    except (TypeError, ValueError):
        return None


_TAGS = re.compile(r"<[^>]+>")


def plain_text(body: bytes, status: int) -> str:
    text = " ".join(_TAGS.sub(" ", body.decode("utf-8", errors="replace")).split())
    return text[:300] or f"HTTP {status} with an empty body"


def error_fields(value: Any) -> ErrorFields | None:
    """The vendor's error object in any of the shapes seen in the wild."""
    if isinstance(value, list) and value:
        return error_fields(value[0])
    if isinstance(value, str):
        return ErrorFields(message=value)
    if not isinstance(value, dict):
        return None
    inner = value.get("error")
    if isinstance(inner, dict):
        value = inner
    elif isinstance(inner, str):
        return ErrorFields(message=inner, type=value.get("type"), code=value.get("code"))
    message = value.get("message") or value.get("detail")
    if message is None:
        return None
    fields = {k: value[k] for k in ("type", "param", "code", "metadata") if k in value}
    fields["message"] = message if isinstance(message, str) else _json(message).decode()
    try:
        return msgspec.convert(fields, ErrorFields)
    except msgspec.ValidationError:
        return ErrorFields(message=fields["message"])


def to_upstream(
    err: ErrorFields, status: int, target: Target, retry_after: float | None = None
) -> UpstreamError:
    message = err.message or "unknown error"
    raw = (err.metadata or {}).get("raw")
    if raw:
        message = f"{message}: {raw if isinstance(raw, str) else _json(raw).decode()}"
    code = None if err.code is None else str(err.code)
    out = upstream_error(
        target.provider, status, message, param=err.param, code=code, retry_after=retry_after
    )
    if code == "context_length_exceeded":
        out.kind = "context_length_exceeded"
    return out


def decode_error(
    status: int, headers: Mapping[str, str], body: bytes, target: Target
) -> UpstreamError:
    try:
        parsed: Any = msgspec.json.decode(body) if body.strip() else None
    except msgspec.DecodeError:
        parsed = None
    err = error_fields(parsed) or ErrorFields(message=plain_text(body, status))
    return to_upstream(err, status, target, retry_after_seconds(headers))


def invalid_response(target: Target, detail: str) -> UpstreamError:
    """A body the provider sent that cannot be read (a retryable 502)."""
    return UpstreamError(
        "provider_unavailable",
        f"{target.provider} returned an invalid response: {detail}",
        provider=target.provider,
        status=502,
        retryable=True,
    )
