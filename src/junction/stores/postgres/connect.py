"""Reaching PostgreSQL: one pool per process, errors that name the server
(host and port, never the password)."""

from __future__ import annotations

import asyncio

import asyncpg

from junction.stores.protocols import StoreUnavailable
from junction.stores.urls import DatabaseURL

CONNECT_TIMEOUT = 5.0
COMMAND_TIMEOUT = 10.0
POOL_MIN = 1
POOL_MAX = 5


def unavailable(db: DatabaseURL, exc: BaseException) -> StoreUnavailable:
    """A :class:`StoreUnavailable` for ``exc``, naming host:port, never the password."""
    if isinstance(exc, OSError):
        reason = exc.strerror or type(exc).__name__
    elif isinstance(exc, TimeoutError | asyncio.TimeoutError):
        reason = f"no answer within {CONNECT_TIMEOUT:g} s"
    else:
        reason = str(exc).replace(db.url, db.shown) or type(exc).__name__
    return StoreUnavailable(f"PostgreSQL at {db.where} ({db.shown}): {reason}")


async def connect(db: DatabaseURL) -> asyncpg.Connection:
    """One connection (migrations)."""
    try:
        conn: asyncpg.Connection = await asyncpg.connect(
            db.url, timeout=CONNECT_TIMEOUT, command_timeout=COMMAND_TIMEOUT
        )
    except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        raise unavailable(db, exc) from None
    return conn


async def create_pool(db: DatabaseURL) -> asyncpg.Pool:
    """The process's pool: created once, ``POOL_MIN``..``POOL_MAX`` connections,
    each caching its prepared statements."""
    try:
        pool: asyncpg.Pool = await asyncpg.create_pool(
            db.url,
            min_size=POOL_MIN,
            max_size=POOL_MAX,
            timeout=CONNECT_TIMEOUT,
            command_timeout=COMMAND_TIMEOUT,
        )
    except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        raise unavailable(db, exc) from None
    return pool
