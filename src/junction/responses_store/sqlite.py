"""Stored Responses in SQLite: stdlib ``sqlite3`` on one dedicated thread,
so the event loop never waits on the disk."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from junction.responses_store.protocol import StoredResponse
from junction.responses_store.schema import COLUMNS, migration
from junction.stores.sqlite.records import connect

_T = TypeVar("_T")


class SqliteResponseStore:
    """A :class:`~junction.responses_store.ResponseStore` in one SQLite file
    (WAL mode; every statement on the store's own thread)."""

    def __init__(self, path: str) -> None:
        self._path = path
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="junction-responses")
        self._db: sqlite3.Connection | None = None

    async def open(self) -> None:
        await self._run(self._connect)

    def _connect(self) -> None:
        db = connect(self._path)
        db.executescript(migration("sqlite"))
        self._db = db

    async def _run(self, work: Callable[[], _T]) -> _T:
        return await asyncio.get_running_loop().run_in_executor(self._thread, work)

    def _conn(self) -> sqlite3.Connection:
        if self._db is None:
            raise RuntimeError("SqliteResponseStore.open() was not called")
        return self._db

    async def get(self, response_id: str, now: float) -> StoredResponse | None:
        def work() -> StoredResponse | None:
            row = (
                self._conn()
                .execute(
                    f"SELECT {COLUMNS} FROM responses WHERE id = ? AND expires_at > ?",
                    (response_id, now),
                )
                .fetchone()
            )
            if row is None:
                return None
            return StoredResponse(
                row[0], row[1], row[2], row[3], row[4], row[5].encode(), row[6].encode()
            )

        return await self._run(work)

    async def put(self, record: StoredResponse) -> None:
        values = (
            record.id,
            record.owner,
            record.previous_id,
            record.created_at,
            record.expires_at,
            record.response.decode(),
            record.input_items.decode(),
        )

        def work() -> None:
            self._conn().execute(
                f"INSERT OR REPLACE INTO responses ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)",
                values,
            )

        await self._run(work)

    async def delete(self, response_id: str) -> bool:
        def work() -> bool:
            cur = self._conn().execute("DELETE FROM responses WHERE id = ?", (response_id,))
            return cur.rowcount > 0

        return await self._run(work)

    async def purge(self, now: float) -> int:
        def work() -> int:
            cur = self._conn().execute("DELETE FROM responses WHERE expires_at <= ?", (now,))
            return cur.rowcount

        return await self._run(work)

    async def close(self) -> None:
        def work() -> None:
            if self._db is not None:
                self._db.close()
                self._db = None

        await self._run(work)
        self._thread.shutdown(wait=True)
