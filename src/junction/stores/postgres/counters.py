"""Counters on PostgreSQL, for deployments with Postgres and no Redis.

An admission is one transaction: a transaction-scoped advisory lock per
counter name (taken in name order, so two admissions never deadlock), one
read of the counters' rows, one write (count, drop expired rows). Five
round trips (BEGIN, lock, read, write, COMMIT); Redis does it in one.
Tables: stores/migrations/postgres/0003_counters.sql.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import Any

import asyncpg

from junction.stores.protocols import Check, Correction, Spent, StoreUnavailable, Verdict
from junction.stores.windows import (
    LEASE_SECONDS,
    Plan,
    decide,
    lease_second,
    new_lease,
    plan,
    seed_buckets,
)

TIMEOUT = 1.0
"""Seconds a Postgres call may take before the store counts as unreachable."""

_LOCK = (
    "SELECT pg_advisory_xact_lock(hashtextextended(n, 0)) "
    "FROM (SELECT DISTINCT unnest($1::text[]) AS n ORDER BY 1) AS s"
)
_READ = """
SELECT name, bucket, amount FROM counters WHERE name = ANY($1::text[])
UNION ALL
SELECT name, 0, count(*)::float8 FROM counter_leases
 WHERE name = ANY($1::text[]) AND expires_at > $2 GROUP BY name
"""
_WRITE = """
WITH gone AS (
  DELETE FROM counters WHERE name = ANY($1::text[]) AND expires_at <= $2
), gone_leases AS (
  DELETE FROM counter_leases WHERE name = ANY($1::text[]) AND expires_at <= $2
), leases AS (
  INSERT INTO counter_leases (name, lease, expires_at)
  SELECT n, $3, $2 + $4 FROM unnest($5::text[]) AS n
)
INSERT INTO counters AS c (name, bucket, amount, expires_at)
SELECT * FROM unnest($6::text[], $7::bigint[], $8::float8[], $9::float8[])
ON CONFLICT (name, bucket) DO UPDATE
  SET amount = c.amount + EXCLUDED.amount,
      expires_at = greatest(c.expires_at, EXCLUDED.expires_at)
"""
_SETTLE = """
WITH released AS (
  DELETE FROM counter_leases WHERE lease = $1 AND name = ANY($2::text[])
)
UPDATE counters AS c SET amount = c.amount + d.delta
  FROM unnest($3::text[], $4::bigint[], $5::float8[]) AS d(name, bucket, delta)
 WHERE c.name = d.name AND c.bucket = d.bucket
"""
_PURGE = """
WITH gone AS (DELETE FROM counter_leases WHERE expires_at <= $1)
DELETE FROM counters WHERE expires_at <= $1
"""
PURGE_EVERY = 60.0
"""Seconds between sweeps of expired rows of counters no longer used
(an admission already drops its own counters' expired rows)."""
_SEED_LOCK = "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))"
_SEED = """
INSERT INTO counters (name, bucket, amount, expires_at)
SELECT $1, b, a, e FROM unnest($2::bigint[], $3::float8[], $4::float8[]) AS s(b, a, e)
 WHERE NOT EXISTS (SELECT 1 FROM counters WHERE name = $1 AND expires_at > $5)
ON CONFLICT (name, bucket) DO NOTHING
"""

_ERRORS = (asyncpg.PostgresError, asyncpg.InterfaceError, OSError, asyncio.TimeoutError)


async def _no_reset(conn: asyncpg.Connection) -> None:
    """Connections keep no session state here (the locks are the
    transaction's), so a released connection needs no reset round trip."""


def _row_bucket(p: Plan, now: float) -> int:
    return p.bucket(now) if p.layout == "buckets" else 0


def _expires(p: Plan, now: float, bucket: int | None = None) -> float:
    if p.layout == "buckets":
        return ((p.bucket(now) if bucket is None else bucket) + p.span) * p.size
    return now + p.ttl(now)


class PostgresCounters:
    """:class:`~junction.stores.protocols.Counters` in one PostgreSQL
    database (the tables of migration 0003), shared by every process on it."""

    def __init__(self, url: str, *, timeout: float = TIMEOUT) -> None:
        self._url = url
        self._timeout = timeout
        self._pool: asyncpg.Pool | None = None
        self._opening = asyncio.Lock()
        self._next_purge = 0.0

    async def _connection_pool(self) -> asyncpg.Pool:
        if self._pool is None:
            async with self._opening:
                if self._pool is None:
                    self._pool = await asyncpg.create_pool(
                        self._url,
                        min_size=1,
                        max_size=10,
                        timeout=self._timeout,
                        command_timeout=self._timeout,
                        reset=_no_reset,
                    )
        return self._pool

    async def admit(self, checks: Sequence[Check], now: float) -> Verdict:
        plans = [plan(c) for c in checks]
        names = [c.counter for c in checks]
        try:
            pool = await self._connection_pool()
            async with pool.acquire() as conn, conn.transaction():
                await conn.execute(_LOCK, names)
                rows = await conn.fetch(_READ, names, now)
                verdict = _decide(checks, plans, rows, now)
                if verdict.admitted:
                    await conn.execute(_WRITE, *_writes(checks, plans, names, verdict.lease, now))
            if time.monotonic() >= self._next_purge:
                self._next_purge = time.monotonic() + PURGE_EVERY
                await pool.execute(_PURGE, now)
        except _ERRORS as exc:
            raise StoreUnavailable(f"PostgreSQL: {type(exc).__name__}: {exc}") from exc
        return verdict

    async def settle(self, lease: str, corrections: Sequence[Correction], now: float) -> None:
        if not lease or not corrections:
            return
        admitted = lease_second(lease)
        released: list[str] = []
        names: list[str] = []
        buckets: list[int] = []
        deltas: list[float] = []
        for fix in corrections:
            check = fix.check
            p = plan(check)
            if p.layout == "leases":
                released.append(check.counter)
            elif check.kind != "requests":
                names.append(check.counter)
                buckets.append(_row_bucket(p, admitted))
                deltas.append(fix.actual - check.amount)
        try:
            pool = await self._connection_pool()
            await pool.execute(_SETTLE, lease, released, names, buckets, deltas)
        except _ERRORS as exc:
            raise StoreUnavailable(f"PostgreSQL: {type(exc).__name__}: {exc}") from exc

    async def seed(self, check: Check, spent: Spent, now: float) -> None:
        p = plan(check)
        if p.layout == "leases":
            raise ValueError(f"{check.counter}: only a spend counter is seeded")
        if p.layout == "total":
            rows = {0: sum(usd for _, usd in spent)}
        else:
            rows = seed_buckets(p, spent, now)
        buckets = list(rows)
        expires = [_expires(p, now, b if p.layout == "buckets" else None) for b in buckets]
        try:
            pool = await self._connection_pool()
            async with pool.acquire() as conn, conn.transaction():
                await conn.execute(_SEED_LOCK, check.counter)
                await conn.execute(_SEED, check.counter, buckets, list(rows.values()), expires, now)
        except _ERRORS as exc:
            raise StoreUnavailable(f"PostgreSQL: {type(exc).__name__}: {exc}") from exc

    async def peek(self, checks: Sequence[Check], now: float) -> Verdict:
        """One read of the counters' rows, no lock and no write."""
        plans = [plan(c) for c in checks]
        try:
            pool = await self._connection_pool()
            rows = await pool.fetch(_READ, [c.counter for c in checks], now)
        except _ERRORS as exc:
            raise StoreUnavailable(f"PostgreSQL: {type(exc).__name__}: {exc}") from exc
        return decide(checks, plans, _stored(rows), now)

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None


def _decide(
    checks: Sequence[Check], plans: Sequence[Plan], rows: Sequence[Any], now: float
) -> Verdict:
    verdict = decide(checks, plans, _stored(rows), now)
    if verdict.admitted:
        verdict.lease = new_lease(now)
    return verdict


def _stored(rows: Sequence[Any]) -> dict[str, list[tuple[int, float]]]:
    by_name: dict[str, list[tuple[int, float]]] = {}
    for row in rows:
        by_name.setdefault(row["name"], []).append((int(row["bucket"]), float(row["amount"])))
    return by_name


def _writes(
    checks: Sequence[Check], plans: Sequence[Plan], names: list[str], lease: str, now: float
) -> tuple[Any, ...]:
    leased: list[str] = []
    rows: tuple[list[str], list[int], list[float], list[float]] = ([], [], [], [])
    for check, p in zip(checks, plans, strict=True):
        if p.layout == "leases":
            leased.append(check.counter)
            continue
        for column, value in zip(
            rows, (check.counter, _row_bucket(p, now), check.amount, _expires(p, now)), strict=True
        ):
            column.append(value)  # type: ignore[attr-defined]
    return (names, now, lease, LEASE_SECONDS, leased, *rows)
