"""What one request-log row costs to write on SQLite, in CPU time of this
process (the event loop's share and the writer thread's), per row.

Writes through the store the gateway uses (``SqliteLog.write``: the rows,
their rollups and the endpoint statistics in one transaction, 500 rows a
batch), into a log already holding ``--warm`` rows, for two kinds of
traffic:

- ``one key``: every row from one key, one model, no team or user, all
  200s (the shape of bench/overhead's features run);
- ``mixed``: the synthetic rows of bench/requestlog/run.py (200 keys,
  2,000 users, five models, 3% errors).

    PYTHONPATH=src python bench/requestlog/write_cost.py [--warm 40000] [--rows 20000] [--runs 3]

Prints the median and range over the runs (µs per row). To compare two
trees, run it with each one's ``src`` on PYTHONPATH.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from junction.requestlog import connect
from junction.requestlog.rows import COLUMNS
from junction.requestlog.synthetic import synthetic_rows

BATCH = 500


ONE_KEY = {
    "key_id": "key-1",
    "key_name": "key-1",
    "team": "",
    "user_id": "",
    "model_asked": "m",
    "model_used": "m",
    "provider": "openai",
    "endpoint": "openai-1",
    "status": 200,
    "error": None,
    "tags": "[]",
}
_AT = {COLUMNS.index(name): value for name, value in ONE_KEY.items()}


def one_key(row: tuple[Any, ...]) -> tuple[Any, ...]:
    """The row as the features run writes it: one key and model, no team or user, a 200."""
    return tuple(_AT.get(i, value) for i, value in enumerate(row))


async def cost(rows: list[tuple[Any, ...]], warm: int) -> float:
    """CPU µs per row written after the first ``warm`` rows."""
    with tempfile.TemporaryDirectory() as d:
        log = await connect(f"sqlite:///{Path(d) / 'log.db'}")
        try:
            for i in range(0, warm, BATCH):
                await log.write(rows[i : i + BATCH])
            started = time.process_time()
            for i in range(warm, len(rows), BATCH):
                await log.write(rows[i : i + BATCH])
            spent = time.process_time() - started
        finally:
            await log.close()
    return spent / (len(rows) - warm) * 1e6


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--warm", type=int, default=40_000, help="rows in the log before timing")
    ap.add_argument("--rows", type=int, default=20_000, help="rows timed")
    ap.add_argument("--runs", type=int, default=3)
    a = ap.parse_args()
    now = time.time()
    mixed = list(synthetic_rows(a.warm + a.rows, start=now - 3600, span=3600))
    traffic = {"one key": [one_key(r) for r in mixed], "mixed": mixed}
    print(f"SQLite request log, {a.rows:,} rows timed after {a.warm:,}, {a.runs} runs")
    print("| traffic | CPU µs per row, median | range |")
    print("|---|--:|--:|")
    for name, rows in traffic.items():
        runs = [asyncio.run(cost(rows, a.warm)) for _ in range(a.runs)]
        print(f"| {name} | {statistics.median(runs):.1f} | {min(runs):.1f} to {max(runs):.1f} |")


if __name__ == "__main__":
    main()
