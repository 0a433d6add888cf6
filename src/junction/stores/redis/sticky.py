"""Sticky routes shared by every process.

:class:`RedisSticky` is the process's own :class:`StickyRoutes` (lookups are
local: no Redis call on the request path) whose new routes go out on the
routing stream (stores/redis/fanout.py) with the next tick and come in to
every other process the same way: a background-pulled copy. A route reaches
the others within about a second, sooner than a conversation's next turn
(the model has to answer first); a process that starts later reads the
stream's last ``history_s`` (10 minutes, the routes' idle TTL) at start.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from junction.catalog import Price
from junction.routing import StickyRoutes
from junction.stores.redis.fanout import Fanout


class RedisSticky(StickyRoutes):
    """conversation key → endpoint id, shared through the routing stream."""

    __slots__ = ("clock", "fanout")

    def __init__(
        self,
        fanout: Fanout,
        *,
        ttl_s: float = 600.0,
        max_keys: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(ttl_s=ttl_s, max_keys=max_keys)
        self.fanout = fanout
        self.clock = clock
        fanout.subscribe("s", self._replay)

    def remember(
        self, key: str, endpoint_id: str, now: float, *, cached_tokens: int, price: Price | None
    ) -> bool:
        stuck = super().remember(key, endpoint_id, now, cached_tokens=cached_tokens, price=price)
        if stuck:
            wall = now + time.time() - self.clock()
            self.fanout.publish(("s", key, endpoint_id, wall))
        return stuck

    def _replay(self, event: list[Any]) -> None:
        _, key, endpoint_id, wall = event
        now = self.clock()
        at = min(float(wall) - (time.time() - now), now)
        if now - at < self.ttl_s:
            self.stick(str(key), str(endpoint_id), at)
