"""What each dashboard page asks of a large request log: fill a SQLite log with
synthetic rows (30 days; src/junction/requestlog/synthetic.py), then time the
queries the pages make, through the same functions the endpoints call.

    PYTHONPATH=src python bench/dashboard/run.py [--rows 1000000] [--runs 10]

Prints p50 / p95 per page query (milliseconds) and how many rows each read.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from junction.config import RequestLogSettings, parse_config
from junction.gateway import Gateway
from junction.requestlog import LogQuery, RequestLog, RequestLogWriter, SpendQuery, connect
from junction.requestlog.rows import Redaction
from junction.requestlog.synthetic import synthetic_rows
from junction.server.dashboard import api, charts
from junction.transport import Transport

DAY = 86400.0
BATCH = 5000


@dataclass
class State:
    gateway: Gateway
    request_log: RequestLog


async def _fill(log: RequestLog, n: int, end: float) -> float:
    t0 = time.perf_counter()
    batch: list[tuple[Any, ...]] = []
    for row in synthetic_rows(n, start=end - 30 * DAY, span=30 * DAY):
        batch.append(row)
        if len(batch) == BATCH:
            await log.store.write(batch)
            batch = []
    if batch:
        await log.store.write(batch)
    return time.perf_counter() - t0


async def _time(fn: Callable[[], Awaitable[Any]], runs: int) -> tuple[float, float, str]:
    out = await fn()
    samples = []
    for _ in range(runs):
        t0 = time.perf_counter()
        out = await fn()
        samples.append((time.perf_counter() - t0) * 1000)
    samples.sort()
    p95 = samples[min(len(samples) - 1, int(len(samples) * 0.95))]
    if isinstance(out, dict) and "sampled" in out:
        read = f"{out['sampled']:,} of {out['requests']:,}"
    else:
        read = (
            f"{len(out):,} bytes"
            if isinstance(out, str)
            else f"{len(out):,}"
            if isinstance(out, list)
            else "1"
        )
    return statistics.median(samples), p95, read


def _pages(st: State, end: float) -> dict[str, Callable[[], Awaitable[Any]]]:
    store = st.request_log.store

    def spend(group_by: str, days: int) -> Callable[[], Awaitable[Any]]:
        q = SpendQuery.parse(
            {
                "group_by": [group_by],
                "by": ["model"],
                "start": [str(end - days * DAY)],
                "end": [str(end)],
            }
        )
        return lambda: store.spend(q)

    def window(days: int) -> dict[str, list[str]]:
        return {"start": [str(end - days * DAY)], "end": [str(end)]}

    async def chart() -> str:
        rows = await spend("hour", 7)()
        labels = [str(i) for i in range(168)]
        series = [("x", [float(r[2]) for r in rows[:168]])]
        return charts.stacked_bars("Requests", labels, series)

    first = LogQuery.parse({"limit": ["50"]})
    return {
        "overview: spend 24 h by hour x model": spend("hour", 1),
        "overview: spend 7 days by hour x model": spend("hour", 7),
        "overview: spend 30 days by day x model": spend("day", 30),
        "overview: latency percentiles, 24 h": lambda: api.latency_view(st, window(1)),
        "overview: latency percentiles, 7 days": lambda: api.latency_view(st, window(7)),
        "overview: latency percentiles, 30 days": lambda: api.latency_view(st, window(30)),
        "overview: one chart drawn (7 days)": chart,
        "routing: decisions and shares, 24 h": lambda: api.routing_view(st, window(1)),
        "routing: decisions and shares, 30 days": lambda: api.routing_view(st, window(30)),
        "requests: newest 50": lambda: store.logs(first),
        "requests: one request": lambda: store.get("gen-syn-1-00000500"),
    }


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        store = await connect(f"sqlite:///{Path(tmp) / 'log.db'}")
        settings = RequestLogSettings()
        log = RequestLog(store, RequestLogWriter(store), settings, Redaction())
        gateway = Gateway(parse_config("models: {}", {}), Transport())
        end = float(int(time.time()) // 3600 * 3600)
        seconds = await _fill(log, args.rows, end)
        print(f"sqlite: {args.rows:,} rows written in {seconds:.0f} s")
        table = Table(title=f"dashboard queries, {args.rows:,} rows, {args.runs} runs (ms)")
        for column in ("page query", "p50", "p95", "rows read"):
            table.add_column(column)
        for label, fn in _pages(State(gateway, log), end).items():
            p50, p95, read = await _time(fn, args.runs)
            table.add_row(label, f"{p50:.1f}", f"{p95:.1f}", read)
        await store.close()
        await gateway.close()
    Console(width=120).print(table)


if __name__ == "__main__":
    asyncio.run(main())
