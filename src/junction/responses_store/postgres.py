"""Stored Responses in PostgreSQL (asyncpg pool), shared by every process."""

from __future__ import annotations

import asyncpg

from junction.responses_store.protocol import StoredResponse
from junction.responses_store.schema import COLUMNS, migration


class PostgresResponseStore:
    """A :class:`~junction.responses_store.ResponseStore` in one PostgreSQL table."""

    def __init__(self, dsn: str, max_connections: int = 4) -> None:
        self._dsn = dsn
        self._max = max_connections
        self._pool: asyncpg.Pool | None = None

    async def open(self) -> None:
        self._pool = await asyncpg.create_pool(self._dsn, min_size=1, max_size=self._max)
        async with self._pool.acquire() as conn:
            await conn.execute(migration("postgres"))

    def _p(self) -> asyncpg.Pool:
        if self._pool is None:
            raise RuntimeError("PostgresResponseStore.open() was not called")
        return self._pool

    async def get(self, response_id: str, now: float) -> StoredResponse | None:
        row = await self._p().fetchrow(
            f"SELECT {COLUMNS} FROM responses WHERE id = $1 AND expires_at > $2",
            response_id,
            now,
        )
        if row is None:
            return None
        return StoredResponse(
            row[0], row[1], row[2], row[3], row[4], row[5].encode(), row[6].encode()
        )

    async def put(self, record: StoredResponse) -> None:
        await self._p().execute(
            f"INSERT INTO responses ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7) "
            "ON CONFLICT (id) DO UPDATE SET owner = EXCLUDED.owner, "
            "previous_id = EXCLUDED.previous_id, created_at = EXCLUDED.created_at, "
            "expires_at = EXCLUDED.expires_at, response = EXCLUDED.response, "
            "input_items = EXCLUDED.input_items",
            record.id,
            record.owner,
            record.previous_id,
            record.created_at,
            record.expires_at,
            record.response.decode(),
            record.input_items.decode(),
        )

    async def delete(self, response_id: str) -> bool:
        status: str = await self._p().execute("DELETE FROM responses WHERE id = $1", response_id)
        return status != "DELETE 0"

    async def purge(self, now: float) -> int:
        status: str = await self._p().execute("DELETE FROM responses WHERE expires_at <= $1", now)
        return int(status.rsplit(" ", 1)[-1])

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None
