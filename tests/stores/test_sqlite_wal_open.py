"""Opening one new SQLite file from many connections at once
(stores/sqlite/records.py ``connect``, used by every embedded store).

Switching a file to WAL needs it to itself, and SQLite answers "database is
locked" at once when two connections race for that, whatever the busy
timeout: processes started together (several workers, a migration beside a
gateway) failed to open their stores now and then. ``connect`` retries the
switch until the busy timeout. Threads stand in for processes here: each
has its own connection, and the race is SQLite's file locking either way.
"""

from __future__ import annotations

import threading
from pathlib import Path

from junction.stores.sqlite.records import connect

OPENERS = 12
TRIALS = 60


def _open_together(path: Path) -> list[str]:
    errors: list[str] = []
    start = threading.Barrier(OPENERS)

    def open_one() -> None:
        start.wait()
        try:
            conn = connect(str(path))
            try:
                conn.execute("CREATE TABLE IF NOT EXISTS t (x)")
                assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
            finally:
                conn.close()
        except Exception as exc:  # every failure is the finding
            errors.append(f"{type(exc).__name__}: {exc}")

    threads = [threading.Thread(target=open_one) for _ in range(OPENERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


def test_many_connections_open_a_new_file_at_once(tmp_path: Path) -> None:
    failed = {}
    for trial in range(TRIALS):
        errors = _open_together(tmp_path / f"t{trial}.db")
        if errors:
            failed[trial] = errors
    assert failed == {}
