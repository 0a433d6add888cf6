"""The real PostgreSQL and Redis the integration tests use, and the one rule
for when they are missing: a test SKIPs, naming the server and how to
enable it, except under ``CI=true`` (set by .ci/run), where it FAILs."""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
from collections.abc import Iterator
from typing import NoReturn

import pytest

POSTGRES_ENV = "JUNCTION_TEST_POSTGRES_URL"
REDIS_ENV = "JUNCTION_TEST_REDIS_URL"
POSTGRES_URL = os.environ.get(POSTGRES_ENV, "postgresql://postgres@127.0.0.1:5432/test")
"""A database on the test server that may create and drop databases."""
REDIS_URL = os.environ.get(REDIS_ENV, "redis://127.0.0.1:6379/0")


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


def unavailable(reason: str) -> NoReturn:
    """Skip the test (fail it under CI=true): its server cannot be reached."""
    hint = f"; start it, or point ${POSTGRES_ENV} / ${REDIS_ENV} at one, to run this test"
    if in_ci():
        pytest.fail(f"CI=true and {reason}", pytrace=False)
    pytest.skip(reason + hint)


@contextlib.contextmanager
def fresh_postgres_database() -> Iterator[str]:
    """A new database on the test server (its URL), dropped afterwards. Sync,
    so that it is set up and torn down outside the test's event loop."""
    import asyncpg  # type: ignore[import-untyped]

    async def admin(sql: str) -> None:
        conn = await asyncpg.connect(POSTGRES_URL, timeout=3)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    name = f"junction_test_{secrets.token_hex(6)}"
    try:
        asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        unavailable(f"PostgreSQL unreachable at {POSTGRES_URL} ({type(exc).__name__}: {exc})")
    try:
        yield f"{POSTGRES_URL.rsplit('/', 1)[0]}/{name}"
    finally:
        asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
