"""The response cache in Redis, shared by every process (``SET ... PX``)."""

from __future__ import annotations

from redis.asyncio import Redis

SOCKET_TIMEOUT = 0.5
"""Seconds a cache read or write may wait on Redis."""


class RedisCache:
    """A :class:`~junction.cache.ResponseCache` in Redis under ``prefix``
    (one client, made once, for every request)."""

    def __init__(self, client: Redis, prefix: str = "junction:cache:") -> None:
        self._redis = client
        self._prefix = prefix

    @classmethod
    def from_url(
        cls, url: str, prefix: str = "junction:cache:", timeout: float = SOCKET_TIMEOUT
    ) -> RedisCache:
        """A client that gives up after ``timeout`` seconds: a Redis that does
        not answer is a miss, not a request held up."""
        client = Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)
        return cls(client, prefix)

    async def get(self, key: str) -> bytes | None:
        found = await self._redis.get(self._prefix + key)
        return found.encode() if isinstance(found, str) else found

    async def put(self, key: str, value: bytes, ttl: float) -> None:
        await self._redis.set(self._prefix + key, value, px=max(1, int(ttl * 1000)))

    async def close(self) -> None:
        await self._redis.aclose()
