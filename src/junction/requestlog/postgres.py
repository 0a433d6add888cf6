"""The shared request log: PostgreSQL through an asyncpg pool."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import asyncpg

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
from junction.requestlog.sqlite import tag_rows
from junction.requestlog.store import migration

_INSERT = (
    f"INSERT INTO request_log ({', '.join(COLUMNS)}) "
    f"VALUES ({', '.join(f'${i + 1}' for i in range(len(COLUMNS)))}) ON CONFLICT (id) DO NOTHING"
)
_TAGS = "INSERT INTO request_log_tags (tag, time, id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING"
_UPSERT = upsert_sql(lambda i: f"${i}")
_DAILY = daily_upsert_sql(lambda i: f"${i}")
_DAY_GROUPS = daily_groups_upsert_sql(lambda i: f"${i}")
_HOUR_DIMS = hourly_dims_upsert_sql(lambda i: f"${i}")


def _q(i: int) -> str:
    return f"${i}"


_ATTEMPTS = endpoints.insert_attempts_sql(_q)
_MINUTES = endpoints.upsert_minutes_sql(_q)


class PostgresLog:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    @classmethod
    async def open(cls, url: str, *, max_size: int = 4) -> PostgresLog:
        pool = await asyncpg.create_pool(url, min_size=1, max_size=max_size)
        async with pool.acquire() as conn:
            await conn.execute(migration("postgres"))
        return cls(pool)

    async def write(self, rows: Sequence[tuple[Any, ...]]) -> None:
        rollups = aggregate(rows)
        days = daily(rollups)
        day_groups = daily_groups(rollups)
        hour_dims = hourly_dims(rollups)
        tags = tag_rows(rows)
        attempts = endpoints.attempt_rows(rows)
        minutes = endpoints.minute_rollup(attempts)
        async with self.pool.acquire() as conn, conn.transaction():
            await conn.executemany(_INSERT, rows)
            if tags:
                await conn.executemany(_TAGS, tags)
            await conn.executemany(_UPSERT, rollups)
            await conn.executemany(_DAILY, days)
            await conn.executemany(_DAY_GROUPS, day_groups)
            await conn.executemany(_HOUR_DIMS, hour_dims)
            if attempts:
                await conn.executemany(_ATTEMPTS, attempts)
                await conn.executemany(_MINUTES, minutes)

    async def logs(self, query: LogQuery) -> list[tuple[Any, ...]]:
        sql, params = query.sql(_q)
        return [tuple(r) for r in await self.pool.fetch(sql, *params)]

    async def spend(self, query: SpendQuery) -> list[tuple[Any, ...]]:
        sql, params = query.sql(_q)
        return [tuple(r) for r in await self.pool.fetch(sql, *params)]

    async def get(self, row_id: str) -> tuple[Any, ...] | None:
        sql = f"SELECT {', '.join(COLUMNS)} FROM request_log WHERE id = $1"
        found = await self.pool.fetchrow(sql, row_id)
        return tuple(found) if found is not None else None

    async def delete_before(self, time: float) -> int:
        async with self.pool.acquire() as conn, conn.transaction():
            await conn.execute("DELETE FROM request_log_tags WHERE time < $1", time)
            status: str = await conn.execute("DELETE FROM request_log WHERE time < $1", time)
        return int(status.rsplit(" ", 1)[-1])

    async def key_endpoint_stats(
        self, key_id: str, endpoint_ids: Sequence[str], now: float
    ) -> dict[str, LiveStats]:
        if not endpoint_ids:
            return {}
        uptime_sql, samples_sql = endpoints.page_sql(_q, len(endpoint_ids))
        uptime_args, samples_args = endpoints.page_params(key_id, endpoint_ids, now)
        async with self.pool.acquire() as conn, conn.transaction():
            # A handful of short index ranges: starting parallel workers for them
            # (which the planner does, misjudging the UNION's size) costs more than it saves.
            await conn.execute("SET LOCAL max_parallel_workers_per_gather = 0")
            uptimes = await conn.fetch(uptime_sql, *uptime_args)
            samples = await conn.fetch(samples_sql, *samples_args)
        return endpoints.page_stats(endpoint_ids, uptimes, samples)

    async def trim_endpoint_stats(self, now: float) -> None:
        async with self.pool.acquire() as conn, conn.transaction():
            await conn.execute(
                "DELETE FROM key_endpoint_attempts WHERE time < $1",
                now - endpoints.SAMPLES_KEPT_S,
            )
            await conn.execute(
                "DELETE FROM key_endpoint_minutely WHERE minute < $1",
                int(now - endpoints.MINUTES_KEPT_S),
            )

    async def close(self) -> None:
        await self.pool.close()
