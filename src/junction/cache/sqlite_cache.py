"""The response cache in a SQLite file (the embedded default file, or its
own): one connection on its own thread, so the event loop never waits on
the disk; entries expire on the wall clock (they outlive a restart)."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from importlib import resources
from typing import TypeVar

from junction.stores.sqlite.records import connect

T = TypeVar("T")

_PUT = (
    "INSERT INTO response_cache (key, value, expires) VALUES (?, ?, ?) ON CONFLICT (key) "
    "DO UPDATE SET value = excluded.value, expires = excluded.expires"
)
PURGE_EVERY = 1000
"""Writes between two sweeps of expired entries."""


def schema() -> str:
    """``stores/migrations/sqlite/0008_response_cache.sql`` (a file of its own
    is never migrated, so the cache applies its table itself)."""
    folder = resources.files("junction.stores").joinpath("migrations", "sqlite")
    return folder.joinpath("0008_response_cache.sql").read_text(encoding="utf-8")


class SqliteCache:
    """A :class:`~junction.cache.ResponseCache` in the table ``response_cache``."""

    def __init__(self, path: str, clock: Callable[[], float] = time.time) -> None:
        self.path = path
        self._clock = clock
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="junction-cache")
        self._db: sqlite3.Connection | None = None
        self._writes = 0

    def _connection(self) -> sqlite3.Connection:
        if self._db is None:
            db = connect(self.path)
            db.executescript(schema())
            self._db = db
        return self._db

    async def _run(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, lambda: fn(self._connection()))

    async def get(self, key: str) -> bytes | None:
        now = self._clock()

        def find(db: sqlite3.Connection) -> bytes | None:
            row = db.execute(
                "SELECT value FROM response_cache WHERE key = ? AND expires > ?", (key, now)
            ).fetchone()
            return bytes(row[0]) if row is not None else None

        return await self._run(find)

    async def put(self, key: str, value: bytes, ttl: float) -> None:
        now = self._clock()
        self._writes += 1
        purge = self._writes % PURGE_EVERY == 0

        def write(db: sqlite3.Connection) -> None:
            db.execute(_PUT, (key, value, now + ttl))
            if purge:
                db.execute("DELETE FROM response_cache WHERE expires <= ?", (now,))

        await self._run(write)

    async def close(self) -> None:
        def shut() -> None:
            if self._db is not None:
                self._db.close()
                self._db = None

        await asyncio.get_running_loop().run_in_executor(self._pool, shut)
        self._pool.shutdown(wait=True)
