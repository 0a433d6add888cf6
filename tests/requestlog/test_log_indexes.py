"""The SQLite request log's indexes: a min_cost filter reads the cost from
the time index (request_log_time_cost), and a log made before migration
0011 loses its (cost, time) index and its plain time index on upgrade,
rows kept and the cost filter still exact."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path
from typing import Any

from junction.requestlog import LogQuery, connect
from junction.requestlog.rows import COLUMNS
from junction.requestlog.synthetic import synthetic_rows
from junction.stores.migrate import MIGRATIONS, upgrade

START = 1_780_000_000.0
COST = COLUMNS.index("cost")


def _indexes(path: Path) -> dict[str, list[str]]:
    db = sqlite3.connect(path)
    try:
        names = db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'request_log'"
            " AND sql IS NOT NULL"
        ).fetchall()
        return {n: [c[2] for c in db.execute(f"PRAGMA index_info({n})")] for (n,) in names}
    finally:
        db.close()


def _plan(path: Path, query: LogQuery) -> str:
    sql, params = query.sql(lambda i: "?")
    db = sqlite3.connect(path)
    try:
        return " ".join(r[3] for r in db.execute(f"EXPLAIN QUERY PLAN {sql}", params))
    finally:
        db.close()


async def test_a_fresh_log_filters_cost_on_the_time_index(tmp_path: Path) -> None:
    path = tmp_path / "log.db"
    store = await connect(f"sqlite:///{path}")
    await store.close()
    found = _indexes(path)
    assert found["request_log_time_cost"] == ["time", "id", "cost"]
    assert not [n for n, cols in found.items() if cols[0] == "cost"]  # no random-place index
    query = LogQuery.parse({"min_cost": ["0.006"], "limit": ["10"]})
    assert "request_log_time_cost" in _plan(path, query)


async def test_a_log_from_before_0011_is_upgraded_and_keeps_its_rows(tmp_path: Path) -> None:
    # The migrations as shipped before 0011, and the indexes 0002 made then.
    old = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS, old)
    (old / "sqlite" / "0011_request_log_time_cost.sql").unlink()
    path = tmp_path / "log.db"
    url = f"sqlite:///{path}"
    await upgrade(url, old)
    rows: list[tuple[Any, ...]] = list(synthetic_rows(300, start=START, span=3600, seed=3))
    db = sqlite3.connect(path)
    with db:
        db.executescript(
            "DROP INDEX request_log_time_cost;"
            "CREATE INDEX request_log_time ON request_log (time, id);"
            "CREATE INDEX request_log_cost ON request_log (cost, time);"
        )
        marks = ", ".join("?" * len(COLUMNS))
        db.executemany(f"INSERT INTO request_log ({', '.join(COLUMNS)}) VALUES ({marks})", rows)
    db.close()
    store = await connect(url)  # applies 0011
    try:
        found = _indexes(path)
        assert "request_log_cost" not in found
        assert "request_log_time" not in found
        assert found["request_log_time_cost"] == ["time", "id", "cost"]
        query = LogQuery.parse({"min_cost": ["0.005"], "limit": ["1000"]})
        got = {r[0] for r in await store.logs(query)}
    finally:
        await store.close()
    want = {r[0] for r in rows if (r[COST] or -1) >= 0.005}
    assert want
    assert got == want
