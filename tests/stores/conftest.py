"""Real servers for the store tests, and the one rule for when they are missing.

PostgreSQL (``$JUNCTION_TEST_POSTGRES_URL``, default
``postgresql://postgres@127.0.0.1:5432/test``) and Redis
(``$JUNCTION_TEST_REDIS_URL``, default ``redis://127.0.0.1:6379/0``).
Unreachable: the tests that need one SKIP, saying which server and how to
enable them; with ``CI=true`` they FAIL instead, so CI never passes by
skipping. Every test session gets its own PostgreSQL database
(``junction_test_<hex>``, dropped afterwards) and its own Redis key prefix
(its keys deleted afterwards; never FLUSHALL).

The rule itself is tests/_servers.py, which every folder's tests use.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit, urlunsplit

import pytest

from _servers import POSTGRES_ENV, POSTGRES_URL, REDIS_ENV, REDIS_URL, unavailable


def require(server: str, env: str, url: str, problem: str) -> None:
    """Skip (or, with CI=true, fail) a test whose server is unreachable."""
    unavailable(f"{server} unreachable at {url} ({problem}; ${env})")


def postgres_admin_url() -> str:
    return POSTGRES_URL


def redis_base_url() -> str:
    return REDIS_URL


def with_database(url: str, name: str) -> str:
    """``url`` pointing at database ``name``."""
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


async def _admin(url: str, sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(url, timeout=3)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def _admin_sync(url: str, sql: str) -> None:
    """Run ``sql`` on its own thread and loop (fixtures may be set up from
    inside the tests' running event loop)."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, _admin(url, sql)).result()


def postgres_problem(url: str) -> str | None:
    """None when ``url`` answers, else what went wrong."""
    import asyncpg

    try:
        _admin_sync(url, "SELECT 1")
    except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


def create_database(admin_url: str) -> str:
    """A fresh ``junction_test_<hex>`` database; its URL."""
    name = f"junction_test_{secrets.token_hex(6)}"
    _admin_sync(admin_url, f'CREATE DATABASE "{name}"')
    return with_database(admin_url, name)


def drop_database(admin_url: str, url: str) -> None:
    name = urlsplit(url).path.strip("/")
    _admin_sync(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def postgres_server() -> str:
    """The admin URL of a reachable PostgreSQL (skips or fails otherwise)."""
    url = postgres_admin_url()
    problem = postgres_problem(url)
    if problem is not None:
        require("PostgreSQL", POSTGRES_ENV, url, problem)
    return url


@pytest.fixture(scope="session")
def postgres_url(postgres_server: str) -> Iterator[str]:
    """A database of this test session's own, dropped afterwards."""
    url = create_database(postgres_server)
    yield url
    drop_database(postgres_server, url)


@pytest.fixture
def fresh_postgres_url(postgres_server: str) -> Iterator[Callable[[], str]]:
    """Makes empty databases for one test (migration tests), dropped afterwards."""
    made: list[str] = []

    def make() -> str:
        made.append(create_database(postgres_server))
        return made[-1]

    yield make
    for url in made:
        drop_database(postgres_server, url)


@pytest.fixture(scope="session")
def redis_url() -> str:
    """The URL of a reachable Redis (skips or fails otherwise); pair with
    ``redis_prefix`` for keys of this session's own."""
    import redis

    url = redis_base_url()
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
        client.ping()
        client.close()
    except Exception as exc:
        require("Redis", REDIS_ENV, url, f"{type(exc).__name__}: {exc}")
    return url


@pytest.fixture(scope="session")
def redis_prefix(redis_url: str) -> Iterator[str]:
    """A random key prefix for this session; its keys are deleted afterwards."""
    import redis

    prefix = f"junction_test_{secrets.token_hex(6)}:"
    yield prefix
    client = redis.Redis.from_url(redis_url, socket_connect_timeout=2)
    try:
        for key in client.scan_iter(match=f"{prefix}*", count=500):
            client.delete(key)
    finally:
        client.close()
