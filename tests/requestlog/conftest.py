"""Both backends for every log test: SQLite in a temp dir, and a fresh
PostgreSQL database on the real server (skipped when it cannot be reached,
except with CI=true, where that fails)."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Iterator
from pathlib import Path

import asyncpg  # type: ignore[import-untyped]
import pytest

from _servers import POSTGRES_URL, unavailable

PG_ADMIN = POSTGRES_URL


def _unreachable(why: str) -> None:
    unavailable(f"PostgreSQL unreachable at {PG_ADMIN} ({why})")


async def _admin(sql: str) -> None:
    conn = await asyncpg.connect(PG_ADMIN, timeout=3)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh database, dropped afterwards (sync: set up outside the test's loop)."""
    name = f"junction_test_{secrets.token_hex(6)}"
    try:
        asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        _unreachable(f"{type(exc).__name__}: {exc}")
    try:
        yield f"{PG_ADMIN.rsplit('/', 1)[0]}/{name}"
    finally:
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'log.db'}"
    url: str = request.getfixturevalue("pg_url")
    return url


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "store_bodies: serve with request_log.store_bodies on")
    config.addinivalue_line(
        "markers", "refused_rows_per_second(n): serve with request_log.refused_rows_per_second n"
    )
