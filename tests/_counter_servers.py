"""The real Redis and PostgreSQL for the counter tests: a test that needs
one SKIPs when it is unreachable, except under CI=true, where it FAILs
(the same rule as tests/stores/conftest.py)."""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
import pytest
import redis.asyncio as aioredis

REDIS_URL = os.environ.get("JUNCTION_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
POSTGRES_URL = os.environ.get(
    "JUNCTION_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test"
)


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
        reason = f"{server} unreachable ({type(exc).__name__}: {exc})"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason}; CI=true requires it")
        pytest.skip(f"{reason}; start it to run these tests (CI=true makes this a failure)")


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
