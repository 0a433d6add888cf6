"""Bedrock request authentication: AWS SigV4 (botocore's signer) or a Bedrock API key.

``target.api_key`` says which:

- ``ACCESS_KEY_ID:SECRET_ACCESS_KEY`` or ``ACCESS_KEY_ID:SECRET_ACCESS_KEY:SESSION_TOKEN``
  (a colon in the key): the request is signed with SigV4 for service
  ``bedrock`` (``Authorization: AWS4-HMAC-SHA256 ...``, ``x-amz-date``, and
  ``x-amz-security-token`` with a session token). AWS access key ids, secret
  keys and session tokens never contain a colon.
- anything else: a Bedrock API key (``AWS_BEARER_TOKEN_BEDROCK``; base64, no
  colon), sent as ``Authorization: Bearer <key>``.
- no key, or ``Quirks.auth == "none"``: no credentials (the simulator, a proxy
  that signs).

The signing region is taken from an AWS host (``bedrock-runtime.<region>.amazonaws.com``,
also ``-fips`` and ``.amazonaws.com.cn``); for any other host (VPC endpoint, a
proxy, the simulator) it is ``target.api_version`` when set, else ``us-east-1``.

Signing is pure computation (hashes of the method, path, headers and body,
and the current time); nothing is sent from here. botocore's signer (a fifth
of a second to import) is loaded by :func:`prepare`, when the gateway builds
an endpoint that signs, not by a gateway without one.
"""

from __future__ import annotations

import functools
import re
from typing import Any, Literal
from urllib.parse import urlsplit

from junction.codecs.base import Target

SERVICE = "bedrock"


DEFAULT_REGION = "us-east-1"


_AWS_HOST = re.compile(
    r"^bedrock-runtime(?:-fips)?\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(?:\.cn)?$"
)


def region(target: Target) -> str:
    """The signing region for a target (see the module docstring)."""
    host = urlsplit(target.base_url).hostname or ""
    match = _AWS_HOST.match(host)
    if match:
        return match["region"]
    return target.api_version or DEFAULT_REGION


def is_sigv4_key(key: str) -> bool:
    return ":" in key


def prepare(target: Target) -> None:
    """Load the signer now for a target whose requests will be signed."""
    if _scheme(target) == "sigv4":
        _signer()


def _scheme(target: Target) -> Literal["none", "bearer", "sigv4"]:
    """How ``target``'s requests carry credentials: none, bearer or sigv4."""
    key = target.api_key
    if not key or target.quirks.auth == "none":
        return "none"
    return "sigv4" if is_sigv4_key(key) else "bearer"


@functools.cache
def _signer() -> tuple[Any, Any, Any]:
    """botocore's SigV4Auth, AWSRequest and Credentials."""
    from botocore.auth import SigV4Auth  # type: ignore[import-untyped]
    from botocore.awsrequest import AWSRequest  # type: ignore[import-untyped]
    from botocore.credentials import Credentials  # type: ignore[import-untyped]

    return SigV4Auth, AWSRequest, Credentials


def auth_headers(
    target: Target, method: str, url: str, headers: dict[str, str], body: bytes
) -> dict[str, str]:
    """``headers`` plus the credentials for ``target`` (signed over ``headers``)."""
    scheme, key = _scheme(target), target.api_key or ""
    if scheme == "none":
        return headers
    if scheme == "bearer":
        return {**headers, "authorization": f"Bearer {key}"}
    access_key, _, rest = key.partition(":")
    secret, _, token = rest.partition(":")
    sigv4_auth, aws_request, credentials_of = _signer()
    request = aws_request(method=method, url=url, data=body, headers=dict(headers))
    credentials = credentials_of(access_key, secret, token or None)
    sigv4_auth(credentials, SERVICE, region(target)).add_auth(request)
    return {name.lower(): str(value) for name, value in request.headers.items()}
