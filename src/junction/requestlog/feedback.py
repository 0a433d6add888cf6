"""Quality feedback on logged requests, beside the request log in the same database.

``POST /v1/feedback {id, score}`` (server/feedback.py) keeps the latest score a key gave
one of its own requests (table ``request_feedback``, migration ``0010_feedback``). The
router commands read it back joined with the log: ``rated`` (requests with feedback, for
``junction router train --from-logs``) and ``routed`` (requests a semantic router decided,
for ``junction router report``).
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from junction.requestlog.store import sqlite_path
from junction.stores.migrate import migration_sql
from junction.stores.sqlite.records import connect

if TYPE_CHECKING:  # asyncpg is loaded when the log is on PostgreSQL
    import asyncpg

T = TypeVar("T")
MIGRATION = "0010_feedback.sql"

_RATED = (
    "SELECT l.id, l.time, l.key_id, l.door, l.model_asked, l.model_used, l.router, l.cost,"
    " l.prompt_tokens, l.completion_tokens, l.status, l.body, f.score"
    " FROM request_feedback f JOIN request_log l ON l.id = f.request_id"
    " WHERE l.time >= {0} ORDER BY l.time, l.id"
)
_ROUTED = (
    "SELECT l.id, l.time, l.key_id, l.door, l.model_asked, l.model_used, l.router, l.cost,"
    " l.prompt_tokens, l.completion_tokens, l.status, l.body, f.score"
    " FROM request_log l LEFT JOIN request_feedback f ON f.request_id = l.id"
    " WHERE l.router IS NOT NULL AND l.time >= {0} ORDER BY l.time, l.id"
)


@dataclass(frozen=True, slots=True)
class LoggedRequest:
    """A logged request with what a router command needs (``score``: its feedback)."""

    id: str
    time: float
    key_id: str
    door: str
    model_asked: str
    model_used: str
    router: str | None
    """The router's choice as logged (JSON: name, model, score, shadow), if one decided."""
    cost: float | None
    prompt_tokens: int
    completion_tokens: int
    status: int
    body: str | None
    """The request body, when ``request_log.store_bodies`` kept it."""
    score: float | None


class FeedbackStore(Protocol):
    async def put(self, request_id: str, key_id: str, score: float, time: float) -> None: ...
    async def rated(self, since: float = 0.0) -> list[LoggedRequest]: ...
    async def routed(self, since: float = 0.0) -> list[LoggedRequest]: ...
    async def close(self) -> None: ...


async def open_feedback(url: str) -> FeedbackStore:
    """The feedback table of the request log's database, schema applied."""
    if url.startswith("sqlite:"):
        return await SqliteFeedback.open(sqlite_path(url))
    if url.startswith(("postgresql:", "postgres:")):
        return await PostgresFeedback.open(url)
    raise ValueError(f"feedback: unsupported database_url {url.split(':', 1)[0]!r}")


def _rows(found: list[Any]) -> list[LoggedRequest]:
    return [LoggedRequest(*tuple(r)) for r in found]


class SqliteFeedback:
    """One connection on its own thread (the log's own lanes are the log's)."""

    def __init__(self, path: str) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="junction-feedback")
        self._path = path
        self._db: sqlite3.Connection | None = None

    @classmethod
    async def open(cls, path: str) -> SqliteFeedback:
        store = cls(path)
        schema = migration_sql("sqlite", MIGRATION)
        await store._run(lambda db: db.executescript(schema))
        return store

    async def _run(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        def call() -> T:
            if self._db is None:
                self._db = connect(self._path)
            return fn(self._db)

        return await asyncio.get_running_loop().run_in_executor(self._pool, call)

    async def put(self, request_id: str, key_id: str, score: float, time: float) -> None:
        def write(db: sqlite3.Connection) -> None:
            with db:
                db.execute(
                    "INSERT INTO request_feedback (request_id, key_id, score, time)"
                    " VALUES (?, ?, ?, ?) ON CONFLICT (request_id) DO UPDATE SET"
                    " key_id = excluded.key_id, score = excluded.score, time = excluded.time",
                    (request_id, key_id, score, time),
                )

        await self._run(write)

    async def rated(self, since: float = 0.0) -> list[LoggedRequest]:
        sql = _RATED.format("?")
        return _rows(await self._run(lambda db: db.execute(sql, (since,)).fetchall()))

    async def routed(self, since: float = 0.0) -> list[LoggedRequest]:
        sql = _ROUTED.format("?")
        return _rows(await self._run(lambda db: db.execute(sql, (since,)).fetchall()))

    async def close(self) -> None:
        def shut(db: sqlite3.Connection) -> None:
            db.close()

        if self._db is not None:
            await self._run(shut)
            self._db = None
        self._pool.shutdown(wait=True)


class PostgresFeedback:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    @classmethod
    async def open(cls, url: str) -> PostgresFeedback:
        import asyncpg

        pool = await asyncpg.create_pool(url, min_size=1, max_size=2)
        async with pool.acquire() as conn:
            await conn.execute(migration_sql("postgres", MIGRATION))
        return cls(pool)

    async def put(self, request_id: str, key_id: str, score: float, time: float) -> None:
        await self.pool.execute(
            "INSERT INTO request_feedback (request_id, key_id, score, time)"
            " VALUES ($1, $2, $3, $4) ON CONFLICT (request_id) DO UPDATE SET"
            " key_id = excluded.key_id, score = excluded.score, time = excluded.time",
            request_id,
            key_id,
            score,
            time,
        )

    async def rated(self, since: float = 0.0) -> list[LoggedRequest]:
        return _rows(await self.pool.fetch(_RATED.format("$1"), since))

    async def routed(self, since: float = 0.0) -> list[LoggedRequest]:
        return _rows(await self.pool.fetch(_ROUTED.format("$1"), since))

    async def close(self) -> None:
        await self.pool.close()
