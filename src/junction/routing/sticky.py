"""Sticky routing for prompt caches (OpenRouter's rule, aggregation.md 1.2).

After a response that *read* from the provider's prompt cache, later requests
of the same conversation go to the same endpoint, for as long as a cache
read there is cheaper than normal input. A conversation is forgotten after
10 minutes without use; at most ``max_keys`` conversations are kept (least
recently used dropped first).

The caller's part:

* build the key with :func:`conversation_key` (explicit session id, else the
  first system message and the first non-system message, as plain text);
* skip stickiness when the request has an explicit ``provider.order``;
* after selection, ``selection.promote(sticky.lookup(key, now))`` keeps the
  preferences in force: a remembered endpoint that the request's filters
  excluded is simply not promoted;
* after a response, call :meth:`StickyRoutes.remember` with its usage's
  ``cached_tokens`` and the endpoint's price.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict

from junction.catalog import Price

__all__ = ["StickyRoutes", "cache_pays", "conversation_key"]

_SESSION_MAX = 256


def conversation_key(
    *,
    model: str,
    account: str | None = None,
    session_id: str | None = None,
    first_system: str | None = None,
    first_user: str | None = None,
) -> str | None:
    """A key per account, model and conversation; ``None`` when nothing identifies one.

    ``session_id`` wins (truncated to 256 characters, OpenRouter's limit);
    otherwise the first system message and the first non-system message.
    """
    parts: tuple[str, ...]
    if session_id:
        parts = ("s", account or "", model, session_id[:_SESSION_MAX])
    elif first_system or first_user:
        parts = ("m", account or "", model, first_system or "", first_user or "")
    else:
        return None
    digest = hashlib.blake2b("\x00".join(parts).encode(), digest_size=16)
    return digest.hexdigest()


def cache_pays(price: Price | None) -> bool:
    """Whether a cache read at this endpoint is cheaper than normal input."""
    if price is None or price.cache_read is None or price.input is None:
        return False
    return price.cache_read < price.input


class StickyRoutes:
    """conversation key → endpoint id, with an idle TTL and an LRU bound."""

    __slots__ = ("_routes", "max_keys", "ttl_s")

    def __init__(self, *, ttl_s: float = 600.0, max_keys: int = 100_000) -> None:
        self.ttl_s = ttl_s
        self.max_keys = max_keys
        self._routes: OrderedDict[str, tuple[str, float]] = OrderedDict()

    def remember(
        self, key: str, endpoint_id: str, now: float, *, cached_tokens: int, price: Price | None
    ) -> bool:
        """Stick ``key`` to ``endpoint_id`` if the response read the cache and that pays.

        Returns whether it did. A response that did not read the cache leaves
        an existing entry alone (its idle clock keeps running).
        """
        if cached_tokens <= 0 or not cache_pays(price):
            return False
        self.stick(key, endpoint_id, now)
        return True

    def stick(self, key: str, endpoint_id: str, now: float) -> None:
        """Stick ``key`` to ``endpoint_id`` as of ``now``, unconditionally (a
        route another process remembered)."""
        routes = self._routes
        routes[key] = (endpoint_id, now)
        routes.move_to_end(key)
        while len(routes) > self.max_keys:
            routes.popitem(last=False)

    def lookup(self, key: str | None, now: float) -> str | None:
        """The endpoint ``key`` sticks to, or ``None``; a hit restarts the idle clock."""
        if key is None:
            return None
        entry = self._routes.get(key)
        if entry is None:
            return None
        endpoint_id, seen = entry
        if now - seen >= self.ttl_s:
            del self._routes[key]
            return None
        self._routes[key] = (endpoint_id, now)
        self._routes.move_to_end(key)
        return endpoint_id

    def forget(self, key: str) -> None:
        self._routes.pop(key, None)

    def __len__(self) -> int:
        return len(self._routes)
