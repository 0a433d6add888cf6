"""The per-request cache controls, read from the request's headers."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from junction.types import GatewayError

TTL_HEADER = "x-junction-cache-ttl"
NAMESPACE_HEADER = "x-junction-cache-namespace"
MAX_NAMESPACE = 128


@dataclass(frozen=True, slots=True)
class CacheOptions:
    """What one request lets the cache do."""

    read: bool = True
    """Answer from the cache (``cache-control: no-cache`` says no)."""
    write: bool = True
    """Keep the answer (``no-store`` says no, and implies no reading either,
    as in HTTP; a TTL of 0 says no)."""
    ttl: float = 0.0
    """Seconds to keep the answer."""
    namespace: str = ""
    """Entries are shared only within a namespace."""


def cache_options(headers: Mapping[str, str], default_ttl: float) -> CacheOptions:
    """The request's options (``headers`` with lower-case names). Raises
    :class:`GatewayError` (``invalid_request``) for a TTL that is not a
    number of seconds, or a namespace that is too long."""
    directives = {
        d.strip().lower() for d in headers.get("cache-control", "").split(",") if d.strip()
    }
    no_store = "no-store" in directives
    ttl = default_ttl
    given = headers.get(TTL_HEADER)
    if given is not None:
        try:
            ttl = float(given)
        except ValueError:
            ttl = -1.0
        if not ttl >= 0 or ttl == float("inf"):
            raise GatewayError(
                "invalid_request",
                f"{TTL_HEADER} must be a number of seconds, 0 or more (got {given!r}).",
                param=TTL_HEADER,
            )
    namespace = headers.get(NAMESPACE_HEADER, "").strip()
    if len(namespace) > MAX_NAMESPACE:
        raise GatewayError(
            "invalid_request",
            f"{NAMESPACE_HEADER} is longer than {MAX_NAMESPACE} characters.",
            param=NAMESPACE_HEADER,
        )
    return CacheOptions(
        read=not no_store and "no-cache" not in directives,
        write=not no_store and ttl > 0,
        ttl=ttl,
        namespace=namespace,
    )
