"""Turning anything that goes wrong into the ingress's own error shape."""

from __future__ import annotations

import logging
from collections.abc import Callable

import msgspec

from junction.redact import Redactor
from junction.server.asgi import Response
from junction.types import GatewayError

log = logging.getLogger("junction.server")

ErrorEncoder = Callable[[GatewayError], bytes]


def as_gateway_error(exc: BaseException) -> GatewayError:
    """A client-fit error for any exception; unexpected ones are logged with
    their traceback here and reach the client only as a generic message."""
    if isinstance(exc, GatewayError):
        return exc
    if isinstance(exc, msgspec.DecodeError):
        return GatewayError("invalid_request", f"Request body is not valid JSON: {exc}")
    if isinstance(exc, msgspec.ValidationError):
        return GatewayError("invalid_request", f"Invalid request: {exc}")
    log.error("unexpected error while handling a request", exc_info=exc)
    return GatewayError(
        "server", "junction hit an internal error handling this request; it has been logged."
    )


def client_error(exc: BaseException, redactor: Redactor | None) -> GatewayError:
    """:func:`as_gateway_error`, scrubbed of the config's secrets (defence in
    depth: upstream errors are already scrubbed where they enter)."""
    err = as_gateway_error(exc)
    return redactor.scrub_error(err) if redactor is not None else err


def error_response(err: GatewayError, encode: ErrorEncoder) -> Response:
    headers: list[tuple[str, str]] = []
    if err.retry_after is not None:
        headers.append(("retry-after", str(max(0, round(err.retry_after)))))
    return Response(encode(err), err.status, headers)
