"""The real Redis and PostgreSQL for the counter tests: a test that needs
one SKIPs when it is unreachable, except under CI=true, where it FAILs
(the rule of tests/_servers.py)."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
import redis.asyncio as aioredis

from _servers import POSTGRES_URL, REDIS_URL, unavailable


async def reachable(server: str) -> None:
    """Skip (or fail, under CI=true) when ``server`` does not answer."""
    try:
        if server == "redis":
            client = aioredis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
            try:
                await client.ping()
            finally:
                await client.aclose()
        else:
            conn = await asyncpg.connect(POSTGRES_URL, timeout=2)
            await conn.close()
    except (OSError, asyncpg.PostgresError, aioredis.RedisError) as exc:
        unavailable(f"{server} unreachable ({type(exc).__name__}: {exc})")


@asynccontextmanager
async def fresh_database(schema: str) -> AsyncIterator[str]:
    """A new database with ``schema`` applied, dropped afterwards."""
    name = f"junction_test_{secrets.token_hex(6)}"
    admin = await asyncpg.connect(POSTGRES_URL)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        base, _, _ = POSTGRES_URL.rpartition("/")
        url = f"{base}/{name}"
        conn = await asyncpg.connect(url)
        try:
            await conn.execute(schema)
        finally:
            await conn.close()
        yield url
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
