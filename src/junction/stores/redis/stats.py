"""Endpoint statistics shared by every process, with no Redis call on the hot path.

:class:`RedisStats` is the process's own :class:`EndpointStats` (every read
is local, O(1) as before) that also publishes what it records to the
routing stream (stores/redis/fanout.py) and replays what the other
processes recorded. So each process routes on everyone's traffic, a tick
(0.5 s) behind; a circuit that opens and a provider's ``retry-after`` are
published at once, so the others skip a failing endpoint within about a
second. Half-open probes stay per process (each may send one probe).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from junction.routing import EndpointStats, StatsConfig
from junction.stores.redis.fanout import Fanout

MAX_AGE_S = 60.0
"""Records older than this (a process that was cut off) are not replayed."""


class RedisStats(EndpointStats):
    """The shared :class:`~junction.routing.StatsStore`: local reads, fanned-out writes."""

    def __init__(
        self,
        fanout: Fanout,
        config: StatsConfig | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(config)
        self.fanout = fanout
        self.clock = clock
        self._replaying = False
        fanout.subscribe("r", self._replay_record)
        fanout.subscribe("o", self._replay_open)
        fanout.subscribe("c", self._replay_cool_down)

    def _offset(self) -> float:
        """Wall clock minus this store's clock."""
        return time.time() - self.clock()

    def record(
        self,
        endpoint_id: str,
        *,
        ok: bool,
        timeout: bool,
        status: int,
        ttft_ms: float | None,
        latency_ms: float,
        output_tokens: int,
        now: float,
    ) -> None:
        super().record(
            endpoint_id,
            ok=ok,
            timeout=timeout,
            status=status,
            ttft_ms=ttft_ms,
            latency_ms=latency_ms,
            output_tokens=output_tokens,
            now=now,
        )
        if not self._replaying:
            wall = now + self._offset()
            self.fanout.publish(
                ("r", endpoint_id, ok, timeout, status, ttft_ms, latency_ms, output_tokens, wall)
            )

    def _opened(self, endpoint_id: str, now: float) -> None:
        if not self._replaying:
            self.fanout.publish_now(("o", endpoint_id, now + self._offset()))

    def cool_down(self, endpoint_id: str, *, until: float, now: float) -> None:
        super().cool_down(endpoint_id, until=until, now=now)
        if not self._replaying:
            self.fanout.publish_now(
                ("c", endpoint_id, until + self._offset(), now + self._offset())
            )

    # -- what the other processes saw -------------------------------------------------

    def _local(self, wall: float) -> float | None:
        """``wall`` on this store's clock, or None when it is too old to replay."""
        offset = self._offset()
        now = self.clock()
        at = min(float(wall) - offset, now)
        return at if now - at <= MAX_AGE_S else None

    def _replay_record(self, event: list[Any]) -> None:
        _, endpoint_id, ok, timeout, status, ttft_ms, latency_ms, tokens, wall = event
        at = self._local(wall)
        if at is None:
            return
        self._replaying = True
        try:
            super().record(
                str(endpoint_id),
                ok=bool(ok),
                timeout=bool(timeout),
                status=int(status),
                ttft_ms=None if ttft_ms is None else float(ttft_ms),
                latency_ms=float(latency_ms),
                output_tokens=int(tokens),
                now=at,
            )
        finally:
            self._replaying = False

    def _replay_open(self, event: list[Any]) -> None:
        _, endpoint_id, wall = event
        at = self._local(wall)
        if at is not None:
            self.trip(str(endpoint_id), now=at)

    def _replay_cool_down(self, event: list[Any]) -> None:
        _, endpoint_id, until_wall, wall = event
        at = self._local(wall)
        if at is not None:
            until = float(until_wall) - self._offset()
            super().cool_down(str(endpoint_id), until=until, now=at)
