"""Keys, teams and users in PostgreSQL (the shared backend).

One asyncpg pool per process; asyncpg prepares each statement once per
connection and reuses it. ``key_by_hash``, the per-request lookup, is one
indexed read. The schema comes from junction.stores.migrate.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import asyncpg

from junction.stores.postgres.connect import create_pool, unavailable
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
from junction.stores.urls import DatabaseURL, parse_database_url


def _marks(columns: Sequence[str]) -> list[str]:
    return [f"${i}" for i in range(1, len(columns) + 1)]


_KEYS = ", ".join(KEY_COLUMNS)
_TEAMS = ", ".join(TEAM_COLUMNS)
_USERS = ", ".join(USER_COLUMNS)
_ADD_KEY = insert_sql("keys", KEY_COLUMNS, _marks(KEY_COLUMNS))
_PUT_KEY = upsert_sql("keys", KEY_COLUMNS, _marks(KEY_COLUMNS))
_ADD_TEAM = insert_sql("teams", TEAM_COLUMNS, _marks(TEAM_COLUMNS))
_PUT_TEAM = upsert_sql("teams", TEAM_COLUMNS, _marks(TEAM_COLUMNS))
_ADD_USER = insert_sql("users", USER_COLUMNS, _marks(USER_COLUMNS))
_PUT_USER = upsert_sql("users", USER_COLUMNS, _marks(USER_COLUMNS))
_KEY_BY_HASH = f"SELECT {_KEYS} FROM keys WHERE key_hash = $1"
_KEY = f"SELECT {_KEYS} FROM keys WHERE id = $1"
_KEYS_WHERE = (
    f"SELECT {_KEYS} FROM keys WHERE ($1::text IS NULL OR team_id = $1)"
    " AND ($2::text IS NULL OR user_id = $2) ORDER BY created_at, id"
)
_TEAM = f"SELECT {_TEAMS} FROM teams WHERE id = $1"
_ALL_TEAMS = f"SELECT {_TEAMS} FROM teams ORDER BY created_at, id"
_USER = f"SELECT {_USERS} FROM users WHERE id = $1"
_USERS_WHERE = (
    f"SELECT {_USERS} FROM users WHERE ($1::text IS NULL OR team_id = $1) ORDER BY created_at, id"
)

_UNREACHABLE = (OSError, TimeoutError, asyncpg.InterfaceError, asyncpg.PostgresError)


class PostgresRecords:
    """:class:`~junction.stores.protocols.Records` on PostgreSQL."""

    def __init__(self, db: DatabaseURL, pool: asyncpg.Pool) -> None:
        self._db = db
        self._pool = pool

    @classmethod
    async def open(cls, url: str | DatabaseURL) -> PostgresRecords:
        db = parse_database_url(url) if isinstance(url, str) else url
        return cls(db, await create_pool(db))

    async def _one(self, sql: str, *args: Any) -> Row | None:
        try:
            row = await self._pool.fetchrow(sql, *args)
        except _UNREACHABLE as exc:
            raise self._error(exc) from None
        return None if row is None else tuple(row)

    async def _all(self, sql: str, *args: Any) -> list[Row]:
        try:
            rows = await self._pool.fetch(sql, *args)
        except _UNREACHABLE as exc:
            raise self._error(exc) from None
        return [tuple(r) for r in rows]

    async def _write(self, sql: str, args: Row) -> int:
        try:
            status: str = await self._pool.execute(sql, *args)
        except asyncpg.UniqueViolationError as exc:
            raise DuplicateRecord(exc.detail or str(exc)) from None
        except _UNREACHABLE as exc:
            raise self._error(exc) from None
        return int(status.rsplit(" ", 1)[-1])

    def _error(self, exc: BaseException) -> StoreUnavailable:
        error = unavailable(self._db, exc)
        if isinstance(exc, asyncpg.UndefinedTableError):
            error = StoreUnavailable(f"{error} (run `junction db upgrade`)")
        return error

    # --- keys --------------------------------------------------------------

    async def add_key(self, key: KeyRecord) -> None:
        await self._write(_ADD_KEY, key_row(key))

    async def put_key(self, key: KeyRecord) -> None:
        await self._write(_PUT_KEY, key_row(key))

    async def key_by_hash(self, key_hash: str) -> KeyRecord | None:
        row = await self._one(_KEY_BY_HASH, key_hash)
        return None if row is None else key_record(row)

    async def key(self, key_id: str) -> KeyRecord | None:
        row = await self._one(_KEY, key_id)
        return None if row is None else key_record(row)

    async def keys(self, *, team: str | None = None, user: str | None = None) -> list[KeyRecord]:
        return [key_record(r) for r in await self._all(_KEYS_WHERE, team, user)]

    # --- teams -------------------------------------------------------------

    async def add_team(self, team: TeamRecord) -> None:
        await self._write(_ADD_TEAM, team_row(team))

    async def put_team(self, team: TeamRecord) -> None:
        await self._write(_PUT_TEAM, team_row(team))

    async def team(self, team_id: str) -> TeamRecord | None:
        row = await self._one(_TEAM, team_id)
        return None if row is None else team_record(row)

    async def teams(self) -> list[TeamRecord]:
        return [team_record(r) for r in await self._all(_ALL_TEAMS)]

    async def delete_team(self, team_id: str) -> bool:
        return await self._write("DELETE FROM teams WHERE id = $1", (team_id,)) > 0

    # --- users -------------------------------------------------------------

    async def add_user(self, user: UserRecord) -> None:
        await self._write(_ADD_USER, user_row(user))

    async def put_user(self, user: UserRecord) -> None:
        await self._write(_PUT_USER, user_row(user))

    async def user(self, user_id: str) -> UserRecord | None:
        row = await self._one(_USER, user_id)
        return None if row is None else user_record(row)

    async def users(self, *, team: str | None = None) -> list[UserRecord]:
        return [user_record(r) for r in await self._all(_USERS_WHERE, team)]

    async def delete_user(self, user_id: str) -> bool:
        return await self._write("DELETE FROM users WHERE id = $1", (user_id,)) > 0

    async def close(self) -> None:
        await self._pool.close()
