"""The shared fixtures other store tests stand on: a Redis key prefix of
this session's own."""

from __future__ import annotations

import redis.asyncio as aioredis


async def test_redis_prefix_is_this_sessions_own(redis_url: str, redis_prefix: str) -> None:
    client = aioredis.Redis.from_url(redis_url)
    try:
        assert redis_prefix.startswith("junction_test_")
        await client.set(f"{redis_prefix}probe", "1", ex=60)
        assert await client.get(f"{redis_prefix}probe") == b"1"
    finally:
        await client.aclose()
