"""What a request-log backend does: write a batch (rows and rollups in one
transaction), answer the admin queries and a key's endpoint statistics,
find one row, forget old rows."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from junction.catalog.live import LiveStats
from junction.requestlog.queries import LogQuery, SpendQuery
from junction.stores.migrate import migration_sql
from junction.stores.urls import Backend

SCHEMA = ("0002_request_log.sql", "0006_key_endpoint_stats.sql", "0007_spend_rollups.sql")
"""The request log's migrations (each statement ``IF NOT EXISTS``)."""


class LogStore(Protocol):
    async def write(self, rows: Sequence[tuple[Any, ...]]) -> None: ...
    async def logs(self, query: LogQuery) -> list[tuple[Any, ...]]: ...
    async def spend(self, query: SpendQuery) -> list[tuple[Any, ...]]: ...
    async def get(self, row_id: str) -> tuple[Any, ...] | None: ...
    async def delete_before(self, time: float) -> int: ...
    async def key_endpoint_stats(
        self, key_id: str, endpoints: Sequence[str], now: float
    ) -> dict[str, LiveStats]:
        """A key's own statistics of each endpoint (requestlog/endpoints.py)."""
        ...

    async def trim_endpoint_stats(self, now: float) -> None:
        """Forget the samples and minutes the endpoints page no longer reads."""
        ...

    async def close(self) -> None: ...


def migration(backend: Backend) -> str:
    """The request log's schema (the migration runner applies the same files)."""
    return migration_sql(backend, *SCHEMA)


async def connect(url: str) -> LogStore:
    """The backend for ``sqlite:///path`` or ``postgresql://...``, schema applied
    (every pending migration: the log's columns grow in later ones)."""
    from junction.stores.migrate import upgrade

    await upgrade(url)
    if url.startswith("sqlite:"):
        from junction.requestlog.sqlite import SqliteLog

        return await SqliteLog.open(sqlite_path(url))
    if url.startswith(("postgresql:", "postgres:")):
        from junction.requestlog.postgres import PostgresLog

        return await PostgresLog.open(url)
    raise ValueError(f"request log: unsupported database_url {url.split(':', 1)[0]!r}")


def sqlite_path(url: str) -> str:
    """``sqlite:///rel.db`` → ``rel.db``; ``sqlite:////abs.db`` → ``/abs.db``."""
    rest = url.removeprefix("sqlite:")
    return rest[3:] if rest.startswith("///") else rest.lstrip("/") or ":memory:"
