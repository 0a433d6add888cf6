"""Request-body validation, as every door and the simulator report it: a
msgspec error becomes a 400 :class:`GatewayError` naming the JSON path of
the mistake (``param``), and fields a wire struct does not know are kept."""

from __future__ import annotations

import re
from collections.abc import Collection
from typing import Any

import msgspec

from junction.types import GatewayError

_PATH = re.compile(r" - at `\$\.?([^`]*)`$")
"""msgspec's suffix that locates a validation error: `` - at `$.messages[0]` ``."""

_RAW_FIELDS = msgspec.json.Decoder(dict[str, msgspec.Raw])


def invalid(message: str, param: str | None = None) -> GatewayError:
    return GatewayError("invalid_request", message, param=param)


def split_path(exc: msgspec.ValidationError) -> tuple[str, str | None]:
    """A validation error's message without its location, and the location
    as a parameter path (``messages[0].role``; None at the top level)."""
    text = str(exc)
    match = _PATH.search(text)
    if match is None:
        return text, None
    return text[: match.start()], match.group(1) or None


def invalid_body(exc: msgspec.ValidationError, what: str) -> GatewayError:
    """``{what} at {path}: {message}`` (``invalid request body at
    messages[0].role: Expected `str`, got `int```)."""
    message, param = split_path(exc)
    where = f" at {param}" if param else ""
    return invalid(f"{what}{where}: {message}", param)


def decode_error(exc: msgspec.DecodeError) -> GatewayError:
    """OpenAI's wording: ``Request body is not valid JSON`` or ``Invalid
    request body: <msgspec's message with its location>``."""
    if not isinstance(exc, msgspec.ValidationError):
        return invalid(f"Request body is not valid JSON: {exc}")
    _, param = split_path(exc)
    return invalid(f"Invalid request body: {exc}", param)


def unknown_fields(body: bytes, known: Collection[str]) -> dict[str, Any]:
    """The body's top-level fields that are not in ``known``, decoded (the
    request's ``extra``)."""
    fields = _RAW_FIELDS.decode(body)
    return {k: msgspec.json.decode(v) for k, v in fields.items() if k not in known}
