"""What the derived spend rollups buy: each spend query of run.py timed as the
admin API answers it (SpendQuery: the smallest rollup that answers it) and
from ``spend_hourly`` alone (every group, every hour: the plan of a filtered
query before migration 0007), alternating on one connection, so both see the
same load on a shared machine.

    PYTHONPATH=src python bench/requestlog/run.py --sqlite-file /tmp/log.db \\
        --pg-database junction_bench_keep        # fill once, keep
    PYTHONPATH=src python bench/requestlog/rollup_paths.py --sqlite-file /tmp/log.db \\
        --pg postgresql://postgres@127.0.0.1:5432/junction_bench_keep [--runs 20]

Prints p50 / p95 (ms) of both plans and the ratio of the p50s, after checking
that both give the same groups and sums."""

from __future__ import annotations

import argparse
import asyncio
import math
import sqlite3
import statistics
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import asyncpg  # type: ignore[import-untyped]
from rich.console import Console
from rich.table import Table

from junction.requestlog.queries import SPEND_DIMENSIONS, SpendQuery
from junction.requestlog.rollup import ROLLUP_SUMS
from junction.requestlog.synthetic import TEAMS

DAY = 86400.0
Fetch = Callable[[str, list[Any]], Awaitable[list[tuple[Any, ...]]]]


def _queries(end: float) -> dict[str, SpendQuery]:
    def q(**fields: str) -> SpendQuery:
        return SpendQuery.parse({k: [v] for k, v in fields.items()})

    return {
        "30 days by day x key": q(group_by="day", by="key", start=str(end - 30 * DAY)),
        "7 days by day x model": q(group_by="day", by="model", start=str(end - 7 * DAY)),
        "24 h by hour x team": q(group_by="hour", by="team", start=str(end - DAY)),
        "30 days by day x user, one team": q(
            group_by="day", by="user", team=TEAMS[3], start=str(end - 30 * DAY)
        ),
    }


def hourly_only(query: SpendQuery, ph: Callable[[int], str]) -> tuple[str, list[Any]]:
    """``query`` answered from ``spend_hourly`` alone."""
    params: list[Any] = []

    def p(value: Any) -> str:
        params.append(value)
        return ph(len(params))

    bucket = "hour" if query.group_by == "hour" else "(hour / 86400) * 86400"
    where = []
    if query.start is not None:
        where.append(f"hour >= {p(int(query.start) // 3600 * 3600)}")
    if query.end is not None:
        where.append(f"hour < {p(math.ceil(query.end))}")
    for column, value in query.equals:
        where.append(f"{column} = {p(value)}")
    clause = f" WHERE {' AND '.join(where)}" if where else ""
    sums = ", ".join(f"SUM({s})" for s in ROLLUP_SUMS)
    dim = f"{SPEND_DIMENSIONS[query.by]} || ''"
    sql = (
        f"SELECT {bucket} AS period, {dim} AS dim, {sums} FROM spend_hourly{clause} "
        "GROUP BY 1, 2 ORDER BY 1, 2"
    )
    return sql, params


def _same(a: Sequence[Sequence[Any]], b: Sequence[Sequence[Any]]) -> bool:
    if [tuple(r[:2]) for r in a] != [tuple(r[:2]) for r in b]:
        return False
    return all(
        math.isclose(float(x or 0), float(y or 0), rel_tol=1e-9, abs_tol=1e-9)
        for ra, rb in zip(a, b, strict=True)
        for x, y in zip(ra[2:], rb[2:], strict=True)
    )


async def compare(
    name: str, fetch: Fetch, ph: Callable[[int], str], end: float, runs: int, table: Table
) -> None:
    for label, query in _queries(end).items():
        plans = {"rollups": query.sql(ph), "spend_hourly alone": hourly_only(query, ph)}
        answers = {k: await fetch(sql, params) for k, (sql, params) in plans.items()}  # warm
        if not _same(answers["rollups"], answers["spend_hourly alone"]):
            raise AssertionError(f"{name} {label}: the two plans disagree")
        samples: dict[str, list[float]] = {k: [] for k in plans}
        for _ in range(runs):
            for k, (sql, params) in plans.items():
                t0 = time.perf_counter()
                await fetch(sql, params)
                samples[k].append((time.perf_counter() - t0) * 1000)
        cells = []
        for k in plans:
            found = sorted(samples[k])
            p95 = found[min(len(found) - 1, int(len(found) * 0.95))]
            cells += [f"{statistics.median(found):.1f}", f"{p95:.1f}"]
        ratio = statistics.median(samples["spend_hourly alone"]) / statistics.median(
            samples["rollups"]
        )
        table.add_row(name, label, *cells, f"{ratio:.1f}x")


def _end(newest: float) -> float:
    return float(math.ceil(newest / 3600) * 3600)


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sqlite-file")
    parser.add_argument("--pg", help="a PostgreSQL database filled by run.py --pg-database")
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    table = Table(title=f"spend queries, two plans, {args.runs} runs each, alternating (ms)")
    for column in ("backend", "query", "rollups p50", "p95", "hourly p50", "p95", "hourly/rollups"):
        table.add_column(column)
    if args.sqlite_file:
        db = sqlite3.connect(f"file:{args.sqlite_file}?mode=ro", uri=True)

        async def sqlite_fetch(sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
            return db.execute(sql, params).fetchall()

        end = _end(db.execute("SELECT max(time) FROM request_log").fetchone()[0])
        await compare("sqlite", sqlite_fetch, lambda i: f"?{i}", end, args.runs, table)
        db.close()
    if args.pg:
        conn = await asyncpg.connect(args.pg)

        async def pg_fetch(sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
            return [tuple(r) for r in await conn.fetch(sql, *params)]

        end = _end(float(await conn.fetchval("SELECT max(time) FROM request_log")))
        await compare("postgres", pg_fetch, lambda i: f"${i}", end, args.runs, table)
        await conn.close()
    Console(width=130).print(table)


if __name__ == "__main__":
    asyncio.run(main())
