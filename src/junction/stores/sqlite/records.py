"""Keys, teams and users in one SQLite file (the embedded default).

Every call runs on one dedicated worker thread holding one connection, so
the event loop never blocks on the file. The file is in WAL mode (readers
never wait for the writer) with a busy timeout, and every write takes the
write lock up front (``BEGIN IMMEDIATE``), so several processes can share
one file. The schema comes from junction.stores.migrate.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any, TypeVar

from junction.stores.protocols import StoreUnavailable
from junction.stores.records import KeyRecord, TeamRecord, UserRecord
from junction.stores.rows import (
    KEY_COLUMNS,
    TEAM_COLUMNS,
    USER_COLUMNS,
    DuplicateRecord,
    Row,
    insert_sql,
    key_record,
    key_row,
    team_record,
    team_row,
    upsert_sql,
    user_record,
    user_row,
)

BUSY_TIMEOUT_MS = 10_000
"""How long a write waits for another process's write lock."""

T = TypeVar("T")

_KEYS = ", ".join(KEY_COLUMNS)
_TEAMS = ", ".join(TEAM_COLUMNS)
_USERS = ", ".join(USER_COLUMNS)


def _marks(columns: Sequence[str]) -> list[str]:
    return ["?"] * len(columns)


_ADD_KEY = insert_sql("keys", KEY_COLUMNS, _marks(KEY_COLUMNS))
_PUT_KEY = upsert_sql("keys", KEY_COLUMNS, _marks(KEY_COLUMNS))
_ADD_TEAM = insert_sql("teams", TEAM_COLUMNS, _marks(TEAM_COLUMNS))
_PUT_TEAM = upsert_sql("teams", TEAM_COLUMNS, _marks(TEAM_COLUMNS))
_ADD_USER = insert_sql("users", USER_COLUMNS, _marks(USER_COLUMNS))
_PUT_USER = upsert_sql("users", USER_COLUMNS, _marks(USER_COLUMNS))


def connect(path: str) -> sqlite3.Connection:
    """A connection in autocommit mode (transactions are explicit), WAL, busy
    timeout. Blocks (a worker thread's call, never the event loop's)."""
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    try:
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        _use_wal(conn)
        conn.execute("PRAGMA synchronous = NORMAL")
    except BaseException:
        conn.close()
        raise
    return conn


def _use_wal(conn: sqlite3.Connection) -> None:
    """Put the file in WAL mode. Switching needs the file to itself, and
    SQLite does not wait for that (the busy timeout does not cover it): a
    process opening a new file beside another one got "database is locked"
    at once. WAL is the file's own, so once it is set there is nothing to
    switch; until then the switch is tried again for up to the busy timeout."""
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    pause = 0.005
    while True:
        try:
            mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
            if str(mode).lower() in ("wal", "memory"):  # memory: a ":memory:" database
                return
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if str(mode).lower() == "wal":
                return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) and "busy" not in str(exc):
                raise
        if time.monotonic() >= deadline:
            raise sqlite3.OperationalError("database is locked (switching to WAL)")
        time.sleep(pause)
        pause = min(pause * 2, 0.1)


class SQLiteRecords:
    """:class:`~junction.stores.protocols.Records` on one SQLite file."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="junction-sqlite")
        self._conn: sqlite3.Connection | None = None
        self._closed = False

    @classmethod
    async def open(cls, path: str) -> SQLiteRecords:
        """Open ``path`` now (so a bad file fails here, not on the first request)."""
        records = cls(path)
        try:
            await records._run(lambda conn: None)
        except BaseException:
            await records.close()
            raise
        return records

    # --- the worker thread -------------------------------------------------

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            self._conn = connect(self.path)
        return self._conn

    def _call(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        try:
            return fn(self._connection())
        except sqlite3.IntegrityError as exc:
            if "UNIQUE" in str(exc):
                raise DuplicateRecord(str(exc)) from None
            raise StoreUnavailable(f"SQLite {self.path}: {exc}") from None
        except sqlite3.Error as exc:
            hint = " (run `junction db upgrade`)" if "no such table" in str(exc) else ""
            raise StoreUnavailable(f"SQLite {self.path}: {exc}{hint}") from None

    async def _run(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self._call, fn)

    async def _one(self, sql: str, args: Sequence[Any]) -> Row | None:
        def go(conn: sqlite3.Connection) -> Row | None:
            row: Row | None = conn.execute(sql, args).fetchone()
            return row

        return await self._run(go)

    async def _all(self, sql: str, args: Sequence[Any] = ()) -> list[Row]:
        return await self._run(lambda conn: conn.execute(sql, args).fetchall())

    async def _write(self, sql: str, args: Sequence[Any]) -> int:
        return await self._run(partial(_write, sql=sql, args=args))

    # --- keys --------------------------------------------------------------

    async def add_key(self, key: KeyRecord) -> None:
        await self._write(_ADD_KEY, key_row(key))

    async def put_key(self, key: KeyRecord) -> None:
        await self._write(_PUT_KEY, key_row(key))

    async def key_by_hash(self, key_hash: str) -> KeyRecord | None:
        row = await self._one(f"SELECT {_KEYS} FROM keys WHERE key_hash = ?", (key_hash,))
        return None if row is None else key_record(row)

    async def key(self, key_id: str) -> KeyRecord | None:
        row = await self._one(f"SELECT {_KEYS} FROM keys WHERE id = ?", (key_id,))
        return None if row is None else key_record(row)

    async def keys(self, *, team: str | None = None, user: str | None = None) -> list[KeyRecord]:
        where, args = _filters(team_id=team, user_id=user)
        rows = await self._all(f"SELECT {_KEYS} FROM keys{where} ORDER BY created_at, id", args)
        return [key_record(r) for r in rows]

    # --- teams -------------------------------------------------------------

    async def add_team(self, team: TeamRecord) -> None:
        await self._write(_ADD_TEAM, team_row(team))

    async def put_team(self, team: TeamRecord) -> None:
        await self._write(_PUT_TEAM, team_row(team))

    async def team(self, team_id: str) -> TeamRecord | None:
        row = await self._one(f"SELECT {_TEAMS} FROM teams WHERE id = ?", (team_id,))
        return None if row is None else team_record(row)

    async def teams(self) -> list[TeamRecord]:
        rows = await self._all(f"SELECT {_TEAMS} FROM teams ORDER BY created_at, id")
        return [team_record(r) for r in rows]

    async def delete_team(self, team_id: str) -> bool:
        return await self._write("DELETE FROM teams WHERE id = ?", (team_id,)) > 0

    # --- users -------------------------------------------------------------

    async def add_user(self, user: UserRecord) -> None:
        await self._write(_ADD_USER, user_row(user))

    async def put_user(self, user: UserRecord) -> None:
        await self._write(_PUT_USER, user_row(user))

    async def user(self, user_id: str) -> UserRecord | None:
        row = await self._one(f"SELECT {_USERS} FROM users WHERE id = ?", (user_id,))
        return None if row is None else user_record(row)

    async def users(self, *, team: str | None = None) -> list[UserRecord]:
        where, args = _filters(team_id=team)
        rows = await self._all(f"SELECT {_USERS} FROM users{where} ORDER BY created_at, id", args)
        return [user_record(r) for r in rows]

    async def delete_user(self, user_id: str) -> bool:
        return await self._write("DELETE FROM users WHERE id = ?", (user_id,)) > 0

    async def close(self) -> None:
        def shut(conn: sqlite3.Connection) -> None:
            conn.close()
            self._conn = None

        if self._closed:
            return
        self._closed = True
        if self._conn is not None:
            await self._run(shut)
        self._executor.shutdown(wait=True)


def _write(conn: sqlite3.Connection, *, sql: str, args: Sequence[Any]) -> int:
    """One statement in its own write transaction (the lock taken up front)."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        count = conn.execute(sql, args).rowcount
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
    return count


def _filters(**columns: str | None) -> tuple[str, list[Any]]:
    parts = [(f"{name} = ?", value) for name, value in columns.items() if value is not None]
    if not parts:
        return "", []
    return " WHERE " + " AND ".join(p for p, _ in parts), [v for _, v in parts]
