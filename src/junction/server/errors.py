"""Turning anything that goes wrong into the ingress's own error shape."""

from __future__ import annotations

import logging
import math
from collections.abc import Callable

import msgspec

from junction.redact import Redactor
from junction.server.asgi import Response
from junction.types import ErrorKind, GatewayError, UpstreamError

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


# junction's error kinds in OpenRouter's ``ApiErrorType`` vocabulary.
_OPENROUTER_ERROR_TYPES: dict[ErrorKind, str] = {
    "invalid_request": "invalid_request",
    "unsupported_parameter": "invalid_request",
    "context_length_exceeded": "context_length_exceeded",
    "request_too_large": "payload_too_large",
    "authentication": "authentication",
    "permission_denied": "permission_denied",
    "not_found": "not_found",
    "rate_limit": "rate_limit_exceeded",
    "timeout": "timeout",
    "server": "server",
    "provider_unavailable": "provider_unavailable",
    "overloaded": "provider_overloaded",
}


class OpenRouterErrorData(msgspec.Struct, omit_defaults=True):
    """OpenRouter's error object: ``code`` is the HTTP status."""

    code: int
    message: str
    metadata: dict[str, str] | None = None


class OpenRouterErrorEnvelope(msgspec.Struct):
    error: OpenRouterErrorData


def openrouter_error_data(err: GatewayError) -> OpenRouterErrorData:
    """``err`` as OpenRouter's error object. ``metadata`` carries the
    ``error_type`` (OpenRouter's ``ApiErrorType``), the request field to
    fix (``param``), junction's machine-readable reason (``reason``, the
    ``code`` OpenAI's shape carries: ``model_not_found``...) and the
    deployment that failed (``provider_name``), each when known."""
    metadata = {"error_type": _OPENROUTER_ERROR_TYPES.get(err.kind, "unmapped")}
    if err.param is not None:
        metadata["param"] = err.param
    if err.code is not None:
        metadata["reason"] = err.code
    if isinstance(err, UpstreamError):
        metadata["provider_name"] = err.provider
    return OpenRouterErrorData(code=err.status, message=err.message, metadata=metadata)


_encode_envelope = msgspec.json.Encoder().encode


def encode_openrouter_error(err: GatewayError) -> bytes:
    """``{"error": {"code": <status>, "message", "metadata"}}``: OpenRouter's
    ``ErrorResponse``, which its SDKs read into their typed errors."""
    return _encode_envelope(OpenRouterErrorEnvelope(error=openrouter_error_data(err)))


def error_response(err: GatewayError, encode: ErrorEncoder) -> Response:
    headers: list[tuple[str, str]] = []
    if err.retry_after is not None:
        headers.append(("retry-after", str(max(0, math.ceil(err.retry_after)))))
    headers.extend(err.headers)
    return Response(encode(err), err.status, headers)
