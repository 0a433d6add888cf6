"""Errors that cross the request path.

Every failure a client can see is a :class:`GatewayError`: it carries the
HTTP status, a stable ``kind`` and a message written for the person who
must fix it. Ingress codecs render it in their own error shape. Upstream
failures are :class:`UpstreamError`, which also say whether the attempt loop
may try the next deployment.
"""

from __future__ import annotations

from typing import Literal

ErrorKind = Literal[
    "invalid_request",
    "authentication",
    "permission_denied",
    "not_found",
    "request_too_large",
    "context_length_exceeded",
    "rate_limit",
    "timeout",
    "server",
    "provider_unavailable",
    "overloaded",
    "unsupported_parameter",
]

_DEFAULT_STATUS: dict[ErrorKind, int] = {
    "invalid_request": 400,
    "unsupported_parameter": 400,
    "context_length_exceeded": 400,
    "authentication": 401,
    "permission_denied": 403,
    "not_found": 404,
    "request_too_large": 413,
    "rate_limit": 429,
    "timeout": 504,
    "server": 500,
    "provider_unavailable": 502,
    "overloaded": 503,
}


class GatewayError(Exception):
    """A failure with a status and a message fit to show the client."""

    def __init__(
        self,
        kind: ErrorKind,
        message: str,
        *,
        status: int | None = None,
        param: str | None = None,
        code: str | None = None,
        retry_after: float | None = None,
        headers: tuple[tuple[str, str], ...] = (),
    ) -> None:
        super().__init__(message)
        self.kind: ErrorKind = kind
        self.message = message
        self.status = status if status is not None else _DEFAULT_STATUS[kind]
        self.param = param
        self.code = code
        self.retry_after = retry_after
        self.headers = headers
        """Response headers the error carries (rate-limit state)."""


class UpstreamError(GatewayError):
    """A provider answered with an error, or could not be reached.

    ``retryable`` says whether the next deployment may be tried (429, 5xx,
    timeouts, connection failures before the first byte); ``provider`` names
    the deployment that failed.
    """

    def __init__(
        self,
        kind: ErrorKind,
        message: str,
        *,
        provider: str,
        status: int | None = None,
        retryable: bool = False,
        upstream_status: int | None = None,
        param: str | None = None,
        code: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(
            kind, message, status=status, param=param, code=code, retry_after=retry_after
        )
        self.provider = provider
        self.retryable = retryable
        self.upstream_status = upstream_status


def kind_for_status(status: int) -> ErrorKind:
    """The error kind a provider's HTTP status means."""
    if status == 401:
        return "authentication"
    if status == 403:
        return "permission_denied"
    if status == 404:
        return "not_found"
    if status in (408, 504):
        return "timeout"
    if status == 413:
        return "request_too_large"
    if status == 429:
        return "rate_limit"
    if status in (503, 529):
        return "overloaded"
    if status == 502:
        return "provider_unavailable"
    if status >= 500:
        return "server"
    return "invalid_request"


def is_retryable_status(status: int) -> bool:
    return status in (408, 409, 429) or status >= 500


def upstream_error(
    provider: str,
    status: int,
    detail: str,
    *,
    param: str | None = None,
    code: str | None = None,
    retry_after: float | None = None,
) -> UpstreamError:
    """The gateway's view of a provider's error response.

    The client sees the provider's status where it is meaningful to them
    (400, 401, 403, 404, 408, 429) and 502 / 503 / 504 for the provider's own
    failures, with a message that names the provider.
    """
    kind = kind_for_status(status)
    client_status = {
        "server": 502,
        "provider_unavailable": 502,
        "overloaded": 503,
        "timeout": 504 if status == 504 else 408,
    }.get(kind, status if status < 500 else 502)
    if kind == "authentication":
        # The client's key is fine; the gateway's key for this provider is not.
        detail = f"the gateway's credentials for this provider were rejected: {detail}"
    return UpstreamError(
        kind,
        f"{provider} returned {status}: {detail}",
        provider=provider,
        status=client_status,
        retryable=is_retryable_status(status),
        upstream_status=status,
        param=param,
        code=code,
        retry_after=retry_after,
    )
