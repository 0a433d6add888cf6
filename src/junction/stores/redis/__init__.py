"""The shared counters on Redis (limits and budgets across processes)."""

from __future__ import annotations

from junction.stores.redis.counters import RedisCounters

__all__ = ["RedisCounters"]
