"""The per-request cache controls, read from the request's headers."""

from __future__ import annotations

import math
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
    """Keep the answer (``cache-control: no-store`` says no, and so does a TTL of 0)."""
    ttl: float = 0.0
    """Seconds to keep the answer."""
    namespace: str = ""
    """Entries are shared only within a namespace."""


def cache_options(
    headers: Mapping[str, str], default_ttl: float, max_ttl: float = math.inf
) -> CacheOptions:
    """The request's options (``headers`` with lower-case names). Raises
    :class:`GatewayError` (``invalid_request``, naming the header) for a TTL
    that is not a number of seconds from 0 to ``max_ttl``, or a namespace
    that is too long."""
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
        if not 0 <= ttl <= max_ttl or ttl == math.inf:
            span = f"from 0 to {max_ttl:g}" if max_ttl < math.inf else "0 or more"
            raise GatewayError(
                "invalid_request",
                f"{TTL_HEADER} must be a number of seconds, {span} (got {given[:40]!r}).",
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
        read="no-cache" not in directives,
        write=not no_store and ttl > 0,
        ttl=ttl,
        namespace=namespace,
    )
