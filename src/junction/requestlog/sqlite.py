"""The embedded request log: stdlib sqlite3 in WAL mode, one writer thread and
one reader thread (WAL lets reads run while a batch commits)."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import msgspec

from junction.catalog.live import LiveStats
from junction.requestlog import endpoints
from junction.requestlog.queries import LogQuery, SpendQuery
from junction.requestlog.rollup import (
    aggregate,
    daily,
    daily_groups,
    daily_groups_upsert_sql,
    daily_upsert_sql,
    hourly_dims,
    hourly_dims_upsert_sql,
    upsert_sql,
)
from junction.requestlog.rows import COLUMNS
from junction.requestlog.store import migration
from junction.stores.sqlite.records import connect

T = TypeVar("T")
_INSERT = (
    f"INSERT OR IGNORE INTO request_log ({', '.join(COLUMNS)}) "
    f"VALUES ({', '.join('?' for _ in COLUMNS)})"
)
_TAGS = "INSERT OR IGNORE INTO request_log_tags (tag, time, id) VALUES (?, ?, ?)"
_UPSERT = upsert_sql(lambda i: "?")
_DAILY = daily_upsert_sql(lambda i: "?")
_DAY_GROUPS = daily_groups_upsert_sql(lambda i: "?")
_HOUR_DIMS = hourly_dims_upsert_sql(lambda i: "?")
_ATTEMPTS = endpoints.insert_attempts_sql(lambda i: "?")
_MINUTES = endpoints.upsert_minutes_sql(lambda i: "?")
_TAGS_AT = COLUMNS.index("tags")


def _q(i: int) -> str:
    return f"?{i}"


class _Lane:
    """One connection on its own thread: every call runs there."""

    def __init__(self, path: str, name: str) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)
        self._path = path
        self.db: sqlite3.Connection | None = None

    def _connect(self) -> None:
        self.db = connect(self._path)

    async def run(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        def call() -> T:
            if self.db is None:
                self._connect()
            assert self.db is not None
            return fn(self.db)

        return await asyncio.get_running_loop().run_in_executor(self._pool, call)

    async def close(self) -> None:
        def shut() -> None:
            if self.db is not None:
                self.db.close()
                self.db = None

        await asyncio.get_running_loop().run_in_executor(self._pool, shut)
        self._pool.shutdown(wait=True)


class SqliteLog:
    def __init__(self, path: str) -> None:
        self.path = path
        self._writer = _Lane(path, "junction-reqlog-w")
        self._reader = _Lane(path, "junction-reqlog-r")

    @classmethod
    async def open(cls, path: str) -> SqliteLog:
        log = cls(path)
        schema = migration("sqlite")
        await log._writer.run(lambda db: db.executescript(schema))
        return log

    async def write(self, rows: Sequence[tuple[Any, ...]]) -> None:
        rollups = aggregate(rows)
        days = daily(rollups)
        day_groups = daily_groups(rollups)
        hour_dims = hourly_dims(rollups)
        tags = tag_rows(rows)
        attempts = endpoints.attempt_rows(rows)
        minutes = endpoints.minute_rollup(attempts)

        def tx(db: sqlite3.Connection) -> None:
            db.execute("BEGIN IMMEDIATE")
            try:
                db.executemany(_INSERT, rows)
                db.executemany(_TAGS, tags)
                db.executemany(_UPSERT, rollups)
                db.executemany(_DAILY, days)
                db.executemany(_DAY_GROUPS, day_groups)
                db.executemany(_HOUR_DIMS, hour_dims)
                db.executemany(_ATTEMPTS, attempts)
                db.executemany(_MINUTES, minutes)
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

        await self._writer.run(tx)

    async def logs(self, query: LogQuery) -> list[tuple[Any, ...]]:
        sql, params = query.sql(_q)
        return await self._reader.run(lambda db: db.execute(sql, params).fetchall())

    async def spend(self, query: SpendQuery) -> list[tuple[Any, ...]]:
        sql, params = query.sql(_q)
        return await self._reader.run(lambda db: db.execute(sql, params).fetchall())

    async def get(self, row_id: str) -> tuple[Any, ...] | None:
        sql = f"SELECT {', '.join(COLUMNS)} FROM request_log WHERE id = ?"
        found: tuple[Any, ...] | None = await self._reader.run(
            lambda db: db.execute(sql, (row_id,)).fetchone()
        )
        return found

    async def delete_before(self, time: float) -> int:
        def tx(db: sqlite3.Connection) -> int:
            db.execute("BEGIN IMMEDIATE")
            try:
                db.execute("DELETE FROM request_log_tags WHERE time < ?", (time,))
                gone = db.execute("DELETE FROM request_log WHERE time < ?", (time,)).rowcount
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
            return gone

        return await self._writer.run(tx)

    async def key_endpoint_stats(
        self, key_id: str, endpoint_ids: Sequence[str], now: float
    ) -> dict[str, LiveStats]:
        if not endpoint_ids:
            return {}
        uptime_sql, samples_sql = endpoints.page_sql(_q, len(endpoint_ids))
        uptime_args, samples_args = endpoints.page_params(key_id, endpoint_ids, now)

        def read(db: sqlite3.Connection) -> dict[str, LiveStats]:
            uptimes = db.execute(uptime_sql, uptime_args).fetchall()
            samples = db.execute(samples_sql, samples_args).fetchall()
            return endpoints.page_stats(endpoint_ids, uptimes, samples)

        return await self._reader.run(read)

    async def trim_endpoint_stats(self, now: float) -> None:
        def tx(db: sqlite3.Connection) -> None:
            db.execute(
                "DELETE FROM key_endpoint_attempts WHERE time < ?",
                (now - endpoints.SAMPLES_KEPT_S,),
            )
            db.execute(
                "DELETE FROM key_endpoint_minutely WHERE minute < ?",
                (now - endpoints.MINUTES_KEPT_S,),
            )

        await self._writer.run(tx)

    async def close(self) -> None:
        await self._writer.close()
        await self._reader.close()


def tag_rows(rows: Sequence[tuple[Any, ...]]) -> list[tuple[str, float, str]]:
    out = []
    for row in rows:
        raw = row[_TAGS_AT]
        if raw and raw != "[]":
            for tag in msgspec.json.decode(raw):
                out.append((str(tag), row[1], row[0]))
    return out
