"""The migration runner on SQLite and PostgreSQL: ordered, once each,
all-or-nothing, safe to start from several processes at once."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import asyncpg
import pytest

from junction.config import ConfigError
from junction.stores.migrate import MIGRATIONS, migrations, status, upgrade
from junction.stores.protocols import StoreUnavailable


def shipped(url: str) -> list[str]:
    """The migrations in the package for ``url``'s backend (other features
    add their own files; a backend may have files the other has not)."""
    return [m.name for m in migrations("sqlite" if url.startswith("sqlite") else "postgres")]


ROOT = Path(__file__).parents[2]


@pytest.fixture(params=["sqlite", "postgres"])
def fresh_url(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[], str]:
    """Makes URLs of empty databases of the parametrised backend."""
    if request.param == "postgres":
        make: Callable[[], str] = request.getfixturevalue("fresh_postgres_url")
        return make
    counter = iter(range(1_000))
    return lambda: f"sqlite:///{tmp_path / f'db{next(counter)}.sqlite'}"


async def tables(url: str) -> set[str]:
    if url.startswith("sqlite"):
        conn = sqlite3.connect(url.removeprefix("sqlite:///"))
        try:
            rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
        finally:
            conn.close()
        return {r[0] for r in rows}
    pg = await asyncpg.connect(url)
    try:
        found = await pg.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
    finally:
        await pg.close()
    return {r[0] for r in found}


def test_both_backends_start_with_keys_teams_users() -> None:
    assert migrations("sqlite")[0].name == "0001_keys_teams_users"
    assert migrations("postgres")[0].name == "0001_keys_teams_users"


async def test_upgrade_applies_everything_once(fresh_url: Callable[[], str]) -> None:
    url = fresh_url()
    shipped_names = shipped(url)
    assert [s.applied_at for s in await status(url)] == [None] * len(shipped_names)
    assert await upgrade(url) == shipped_names
    assert await upgrade(url) == []
    states = await status(url)
    assert [s.migration.name for s in states] == shipped_names
    assert all(s.applied_at is not None for s in states)
    assert {"keys", "teams", "users", "schema_migrations"} <= await tables(url)


async def test_concurrent_upgrades_apply_each_migration_exactly_once(
    fresh_url: Callable[[], str],
) -> None:
    url = fresh_url()
    shipped_names = shipped(url)
    results = await asyncio.gather(*(upgrade(url) for _ in range(6)))
    applied = [name for names in results for name in names]
    assert sorted(applied) == sorted(shipped_names)
    assert all(s.applied_at is not None for s in await status(url))


def _write(folder: Path, backend: str, name: str, sql: str) -> None:
    (folder / backend).mkdir(parents=True, exist_ok=True)
    (folder / backend / name).write_text(sql, encoding="utf-8")


async def test_new_files_are_picked_up_and_a_failing_one_leaves_nothing(
    fresh_url: Callable[[], str], tmp_path: Path
) -> None:
    url = fresh_url()
    backend = "sqlite" if url.startswith("sqlite") else "postgres"
    folder = tmp_path / "migrations"
    _write(folder, backend, "0001_first.sql", "CREATE TABLE first_t (id integer PRIMARY KEY);\n")
    assert await upgrade(url, folder) == ["0001_first"]
    _write(
        folder,
        backend,
        "0002_second.sql",
        "-- a comment; with a semicolon\nCREATE TABLE second_t (id integer);\n"
        "INSERT INTO second_t VALUES (1);\n",
    )
    _write(
        folder,
        backend,
        "0003_broken.sql",
        "CREATE TABLE third_t (id integer);\nINSERT INTO no_such_table VALUES (1);\n",
    )
    with pytest.raises(StoreUnavailable, match="no_such_table"):
        await upgrade(url, folder)
    # 0002 is in, 0003 rolled back whole (its first table is not there)
    names = await tables(url)
    assert {"first_t", "second_t"} <= names
    assert "third_t" not in names
    assert [s.applied_at is not None for s in await status(url, folder)] == [True, True, False]
    (folder / backend / "0003_broken.sql").write_text("CREATE TABLE third_t (id integer);\n")
    assert await upgrade(url, folder) == ["0003_broken"]


def test_misnamed_or_duplicate_files_are_config_errors(tmp_path: Path) -> None:
    _write(tmp_path, "sqlite", "0001_a.sql", "SELECT 1;")
    _write(tmp_path, "sqlite", "1_b.sql", "SELECT 1;")
    with pytest.raises(ConfigError, match="NNNN_lowercase_name"):
        migrations("sqlite", tmp_path)
    (tmp_path / "sqlite" / "1_b.sql").unlink()
    _write(tmp_path, "sqlite", "0001_c.sql", "SELECT 1;")
    with pytest.raises(ConfigError, match="version 1 is also 0001_a"):
        migrations("sqlite", tmp_path)


def test_shipped_migrations_are_in_the_package() -> None:
    assert (MIGRATIONS / "sqlite" / "0001_keys_teams_users.sql").is_file()
    assert (MIGRATIONS / "postgres" / "0001_keys_teams_users.sql").is_file()


def _junction(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    env.pop("JUNCTION_DATABASE_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "junction.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


def test_junction_db_upgrade_and_status(fresh_url: Callable[[], str]) -> None:
    url = fresh_url()
    shipped_names = shipped(url)
    before = _junction("db", "status", "--database-url", url)
    assert before.returncode == 0, before.stderr
    assert "0001_keys_teams_users  pending" in before.stdout
    first = _junction("db", "upgrade", "--database-url", url)
    assert first.returncode == 0, first.stderr
    assert first.stdout.splitlines() == [f"applied {name}" for name in shipped_names]
    again = _junction("db", "upgrade", "--database-url", url)
    assert again.returncode == 0, again.stderr
    assert again.stdout.strip().endswith(": up to date")
    after = _junction("db", "status", "--database-url", url)
    assert "pending" not in after.stdout
    assert "0001_keys_teams_users  20" in after.stdout


def test_junction_db_upgrade_names_the_server_and_hides_the_password() -> None:
    bad = _junction(
        "db", "upgrade", "--database-url", "postgresql://junction:s3cr3t-pw@127.0.0.1:1/junction"
    )
    assert bad.returncode == 1
    assert "127.0.0.1:1" in bad.stderr
    assert "s3cr3t-pw" not in bad.stderr + bad.stdout
    assert "Traceback" not in bad.stderr


def test_junction_db_upgrade_refuses_a_bad_url() -> None:
    bad = _junction("db", "upgrade", "--database-url", "mysql://u:pw1234@h/db")
    assert bad.returncode == 2
    assert "unknown scheme 'mysql'" in bad.stderr
    assert "pw1234" not in bad.stderr


async def test_status_of_a_missing_sqlite_file_does_not_create_it(tmp_path: Path) -> None:
    path = tmp_path / "absent.db"
    shipped_names = shipped("sqlite:")
    states = await status(f"sqlite:///{path}")
    assert [s.applied_at for s in states] == [None] * len(shipped_names)
    assert not path.exists()
