"""Several processes on one SQLite file (the embedded store under
``junction serve --workers N``): WAL mode, and writes that never collide."""

from __future__ import annotations

import ast
import asyncio
import os
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

from junction.stores.migrate import migrations, upgrade
from junction.stores.sqlite.records import SQLiteRecords

ROOT = Path(__file__).parents[2]

WRITER = """
import asyncio, sys
from junction.stores.records import KeyRecord
from junction.stores.sqlite.records import SQLiteRecords

async def main(path, who, n):
    records = await SQLiteRecords.open(path)
    await asyncio.gather(*(
        records.add_key(KeyRecord(id=f"{who}_{i}", name="k", key_hash=f"{who}{i:060d}",
                                  prefix="sk", created_at=float(i)))
        for i in range(n)
    ))
    await records.close()

asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3])))
"""


async def test_the_file_is_in_wal_mode(tmp_path: Path) -> None:
    path = str(tmp_path / "j.db")
    await upgrade(f"sqlite:///{path}")
    records = await SQLiteRecords.open(path)
    await records.close()
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    finally:
        conn.close()


async def test_four_processes_write_one_file_at_once(tmp_path: Path) -> None:
    path = str(tmp_path / "j.db")
    await upgrade(f"sqlite:///{path}")
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    procs = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            WRITER,
            path,
            f"p{n}",
            "60",
            env=env,
            stderr=asyncio.subprocess.PIPE,
        )
        for n in range(4)
    ]
    for p in procs:
        _, err = await p.communicate()
        assert p.returncode == 0, err.decode()
    records = await SQLiteRecords.open(path)
    try:
        keys = await records.keys()
        assert len(keys) == 240
        assert await records.key_by_hash(f"p3{59:060d}") is not None
    finally:
        await records.close()


async def test_calls_run_off_the_event_loop_thread(tmp_path: Path) -> None:
    path = str(tmp_path / "j.db")
    await upgrade(f"sqlite:///{path}")
    records = await SQLiteRecords.open(path)
    seen: set[int] = set()
    try:
        for _ in range(3):
            seen.add(await records._run(lambda conn: threading.get_ident()))
    finally:
        await records.close()
    assert len(seen) == 1
    assert threading.get_ident() not in seen


def test_upgrade_from_processes_started_together(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'j.db'}"
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    code = (
        "import asyncio, sys; from junction.stores.migrate import upgrade; "
        "print(asyncio.run(upgrade(sys.argv[1])))"
    )
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", code, url], env=env, stdout=subprocess.PIPE, text=True
        )
        for _ in range(4)
    ]
    outs = [p.communicate(timeout=60)[0].strip() for p in procs]
    assert all(p.returncode == 0 for p in procs)
    applied = [name for out in outs for name in ast.literal_eval(out)]
    assert sorted(applied) == sorted(m.name for m in migrations("sqlite"))
