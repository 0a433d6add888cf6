"""The routing state a process shares through Redis: statistics and sticky routes."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from redis.asyncio import Redis

from junction.stores.redis.fanout import Fanout
from junction.stores.redis.stats import RedisStats
from junction.stores.redis.sticky import RedisSticky


@dataclass(slots=True)
class SharedRouting:
    fanout: Fanout
    stats: RedisStats
    sticky: RedisSticky | None

    def start(self) -> None:
        self.fanout.start()

    async def close(self) -> None:
        await self.fanout.close()


def shared_routing(
    url: str,
    *,
    prefix: str = "junction",
    sticky: bool = True,
    clock: Callable[[], float] = time.monotonic,
    interval_s: float = 0.5,
) -> SharedRouting:
    """Statistics and sticky routes on the Redis at ``url``, keys under ``prefix``.
    No connection is made here: the first tick connects (and logs if it cannot)."""
    redis = Redis.from_url(url, socket_timeout=1.0, socket_connect_timeout=1.0)
    fanout = Fanout(redis, stream=f"{prefix}:routing", interval_s=interval_s)
    return SharedRouting(
        fanout,
        RedisStats(fanout, clock=clock),
        RedisSticky(fanout, clock=clock) if sticky else None,
    )
