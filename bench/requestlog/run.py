"""Fill a request log with synthetic rows on SQLite and on PostgreSQL (a fresh
database), then time the representative spend and log queries.

    PYTHONPATH=src python bench/requestlog/run.py [--rows 1000000] [--runs 40]
        [--pg postgresql://postgres@127.0.0.1:5432/test] [--backend sqlite|postgres|both]
        [--sqlite-file PATH] [--pg-database NAME]

Prints the load time, the rollup size, and p50/p95 per query (milliseconds).
The queries go through the same store methods the admin API calls.

``--sqlite-file`` / ``--pg-database`` keep the filled log (filled only when it
is empty) so the queries can be timed again without filling it again (on a
shared machine, at a quieter moment); bench/requestlog/rollup_paths.py reads it."""

from __future__ import annotations

import argparse
import asyncio
import math
import secrets
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]
from rich.console import Console
from rich.table import Table

from junction.requestlog import LogQuery, LogStore, SpendQuery, connect
from junction.requestlog.queries import Cursor
from junction.requestlog.synthetic import KEYS, MODELS, PROVIDERS, TEAMS, synthetic_rows

DAY = 86400.0
SPAN_DAYS = 30
BATCH = 5000


def _queries(end: float, store: LogStore) -> dict[str, Callable[[], Awaitable[Any]]]:
    def logs(**q: str) -> Callable[[], Awaitable[Any]]:
        query = LogQuery.parse({k: [v] for k, v in q.items()})
        return lambda: store.logs(query)

    def spend(**q: str) -> Callable[[], Awaitable[Any]]:
        query = SpendQuery.parse({k: [v] for k, v in q.items()})
        return lambda: store.spend(query)

    mid = end - 15 * DAY
    endpoints = [f"{p}-1" for p in PROVIDERS]  # a model served by five endpoints
    deep = Cursor(mid, "gen-syn-~").encode()
    return {
        "spend: 30 days by day x key": spend(group_by="day", by="key", start=str(end - 30 * DAY)),
        "spend: 7 days by day x model": spend(group_by="day", by="model", start=str(end - 7 * DAY)),
        "spend: 24 h by hour x team": spend(group_by="hour", by="team", start=str(end - DAY)),
        "spend: 30 days by day, one team": spend(
            group_by="day", by="user", team=TEAMS[3], start=str(end - 30 * DAY)
        ),
        "logs: newest 100": logs(limit="100"),
        "logs: one key, 100": logs(key=KEYS[7], limit="100"),
        "logs: rare key (tail), 100": logs(key=KEYS[190], limit="100"),
        "logs: model + status 502": logs(model=MODELS[2], status="502", limit="100"),
        "logs: tag, 100": logs(tag="batch", limit="100"),
        "logs: min_cost, 100": logs(min_cost="0.004", limit="100"),
        "logs: min_cost, top 0.1%, 100": logs(min_cost="0.00704", limit="100"),
        "logs: one day window": logs(start=str(mid - DAY), end=str(mid), limit="1000"),
        "logs: page deep in (cursor)": logs(cursor=deep, limit="100"),
        "logs: one id (generation)": lambda: store.get("gen-syn-1-00500000"),
        "endpoints page: busiest key": lambda: store.key_endpoint_stats(KEYS[0], endpoints, end),
        "endpoints page: rare key": lambda: store.key_endpoint_stats(KEYS[190], endpoints, end),
    }


async def _fill(store: LogStore, n: int, end: float) -> float:
    t0 = time.perf_counter()
    batch: list[tuple[Any, ...]] = []
    for row in synthetic_rows(n, start=end - SPAN_DAYS * DAY, span=SPAN_DAYS * DAY):
        batch.append(row)
        if len(batch) == BATCH:
            await store.write(batch)
            batch = []
    if batch:
        await store.write(batch)
    return time.perf_counter() - t0


async def _time(fn: Callable[[], Awaitable[Any]], runs: int) -> tuple[float, float, int]:
    await fn()  # warm
    samples = []
    found = 0
    for _ in range(runs):
        t0 = time.perf_counter()
        out = await fn()
        samples.append((time.perf_counter() - t0) * 1000)
        found = len(out) if isinstance(out, list | dict) else int(out is not None)
    samples.sort()
    p95 = samples[min(len(samples) - 1, int(len(samples) * 0.95))]
    return statistics.median(samples), p95, found


async def bench(name: str, url: str, rows: int, runs: int, table: Table) -> None:
    store = await connect(url)
    try:
        end = await filled_until(store)
        if end is None:
            end = float(int(time.time()) // 3600 * 3600)
            seconds = await _fill(store, rows, end)
            print(
                f"{name}: {rows:,} rows written in {seconds:.1f} s ({rows / seconds:,.0f} rows/s)"
            )
        else:
            print(f"{name}: the log was filled already (up to {end:.0f}); timing queries only")
        if name == "postgres":
            await store.pool.execute("ANALYZE")  # type: ignore[attr-defined]
        rollup = await store.spend(SpendQuery.parse({"group_by": ["hour"], "by": ["key"]}))
        size = await _rollup_rows(store)
        print(f"{name}: spend_hourly holds {size:,} rows ({len(rollup):,} hour x key groups)")
        for label, fn in _queries(end, store).items():
            p50, p95, found = await _time(fn, runs)
            table.add_row(name, label, f"{p50:.1f}", f"{p95:.1f}", str(found))
    finally:
        await store.close()


async def filled_until(store: LogStore) -> float | None:
    """The hour the synthetic rows of a kept log end at (None: the log is empty)."""
    newest = await store.logs(LogQuery.parse({"limit": ["1"]}))
    if not newest:
        return None
    return float(math.ceil(float(newest[0][1]) / 3600) * 3600)


async def _rollup_rows(store: LogStore) -> int:
    pool = getattr(store, "pool", None)
    if pool is not None:
        return int(await pool.fetchval("SELECT count(*) FROM spend_hourly"))
    reader = store._reader  # type: ignore[attr-defined]
    return int(
        await reader.run(lambda db: db.execute("SELECT count(*) FROM spend_hourly").fetchone()[0])
    )


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--backend", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--sqlite-file", help="keep the SQLite log in this file")
    parser.add_argument("--pg-database", help="keep the PostgreSQL log in this database")
    args = parser.parse_args()
    table = Table(title=f"request log queries, {args.rows:,} rows, {args.runs} runs each (ms)")
    for column in ("backend", "query", "p50", "p95", "rows"):
        table.add_column(column)
    if args.backend in ("sqlite", "both"):
        if args.sqlite_file:
            await bench("sqlite", f"sqlite:///{args.sqlite_file}", args.rows, args.runs, table)
        else:
            with tempfile.TemporaryDirectory() as tmp:
                url = f"sqlite:///{Path(tmp) / 'log.db'}"
                await bench("sqlite", url, args.rows, args.runs, table)
    if args.backend in ("postgres", "both"):
        name = args.pg_database or f"junction_bench_{secrets.token_hex(4)}"
        admin = await asyncpg.connect(args.pg)
        exists = await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if not exists:
            await admin.execute(f'CREATE DATABASE "{name}"')
        try:
            url = f"{args.pg.rsplit('/', 1)[0]}/{name}"
            await bench("postgres", url, args.rows, args.runs, table)
        finally:
            if not args.pg_database:
                await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await admin.close()
    Console(width=120).print(table)


if __name__ == "__main__":
    asyncio.run(main())
