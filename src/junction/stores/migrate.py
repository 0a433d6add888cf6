"""Versioned schema migrations: ``junction db upgrade``, and at start-up.

Each backend has a folder of ordered files, ``migrations/<backend>/NNNN_name.sql``
(``sqlite`` and ``postgres``). A file added there is picked up by the next
upgrade; nothing needs registering. Applied migrations are rows of
``schema_migrations(version, name, applied_at)``. Each migration runs in its
own transaction together with its row, so it is applied wholly or not at
all; re-running applies nothing; processes starting at once are serialised
(PostgreSQL: an advisory lock; SQLite: ``BEGIN IMMEDIATE``, the file's write
lock) and each migration is applied exactly once.
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from junction.config import ConfigError
from junction.stores.protocols import StoreUnavailable
from junction.stores.urls import DEFAULT_DATABASE_URL, Backend, DatabaseURL, parse_database_url

MIGRATIONS = Path(__file__).parent / "migrations"
_FILE = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
ADVISORY_LOCK = 0x6A756E6374696F6E  # "junction": one lock id for every junction process
"""The PostgreSQL advisory lock held while migrating."""

_TABLE = (
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    " version integer PRIMARY KEY, name text NOT NULL, applied_at double precision NOT NULL)"
)


_RECORD_SQLITE = "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)"


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    """The file name without ``.sql``: ``0001_keys_teams_users``."""
    sql: str


@dataclass(frozen=True, slots=True)
class MigrationState:
    migration: Migration
    applied_at: float | None
    """Epoch seconds, or None when pending."""


def migration_sql(backend: Backend, *names: str) -> str:
    """The SQL of the named migration files of ``backend``, in order: what a
    store applies when it opens (each statement is ``IF NOT EXISTS``, so a
    store opened without ``junction db upgrade`` still has its tables)."""
    return "\n".join((MIGRATIONS / backend / name).read_text(encoding="utf-8") for name in names)


def migrations(backend: Backend, folder: Path = MIGRATIONS) -> list[Migration]:
    """The backend's migrations in version order (raises ConfigError on a
    misnamed file or two files with one version)."""
    found: dict[int, Migration] = {}
    for path in sorted((folder / backend).glob("*.sql")):
        match = _FILE.match(path.name)
        if match is None:
            raise ConfigError(f"{path}: a migration is named NNNN_lowercase_name.sql")
        version = int(match.group(1))
        if version in found:
            raise ConfigError(f"{path}: version {version} is also {found[version].name}.sql")
        found[version] = Migration(version, path.stem, path.read_text(encoding="utf-8"))
    return [found[v] for v in sorted(found)]


async def upgrade(url: str | None = None, folder: Path = MIGRATIONS) -> list[str]:
    """Apply every pending migration; the names of those this call applied."""
    db = parse_database_url(url or DEFAULT_DATABASE_URL)
    todo = migrations(db.backend, folder)
    if db.backend == "sqlite":
        return await asyncio.to_thread(_sqlite_upgrade, db.path, todo)
    return await _postgres_upgrade(db, todo)


async def status(url: str | None = None, folder: Path = MIGRATIONS) -> list[MigrationState]:
    """Every known migration with when it was applied (None: pending)."""
    db = parse_database_url(url or DEFAULT_DATABASE_URL)
    known = migrations(db.backend, folder)
    if db.backend == "sqlite":
        applied = await asyncio.to_thread(_sqlite_applied, db.path)
    else:
        applied = await _postgres_applied(db)
    return [MigrationState(m, applied.get(m.version)) for m in known]


# --- SQLite ------------------------------------------------------------------


def _sqlite_statements(sql: str) -> list[str]:
    """Split a script into statements (``executescript`` would commit the
    surrounding transaction, so each statement is executed on its own)."""
    statements, buf = [], ""
    for line in sql.splitlines(keepends=True):
        buf += line
        if sqlite3.complete_statement(buf):
            statements.append(buf)
            buf = ""
    if buf.strip() and not all(
        ln.strip().startswith("--") or not ln.strip() for ln in buf.splitlines()
    ):
        statements.append(buf)
    return statements


def _sqlite_connect(path: str) -> sqlite3.Connection:
    from junction.stores.sqlite.records import connect

    try:
        return connect(path)
    except sqlite3.Error as exc:
        raise StoreUnavailable(f"SQLite {path}: {exc}") from None


def _sqlite_upgrade(path: str, todo: list[Migration]) -> list[str]:
    conn = _sqlite_connect(path)
    done: list[str] = []
    try:
        conn.execute(_TABLE)
        for m in todo:
            conn.execute("BEGIN IMMEDIATE")  # the write lock: one migrator at a time
            try:
                seen = conn.execute(
                    "SELECT 1 FROM schema_migrations WHERE version = ?", (m.version,)
                ).fetchone()
                if seen is None:
                    for statement in _sqlite_statements(m.sql):
                        conn.execute(statement)
                    conn.execute(_RECORD_SQLITE, (m.version, m.name, time.time()))
                    done.append(m.name)
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
    except sqlite3.Error as exc:
        raise StoreUnavailable(f"SQLite {path}: migration failed: {exc}") from None
    finally:
        conn.close()
    return done


def _sqlite_applied(path: str) -> dict[int, float]:
    if not Path(path).exists():  # status never creates the file
        return {}
    conn = _sqlite_connect(path)
    try:
        exists = conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'"
        ).fetchone()
        if exists is None:
            return {}
        rows = conn.execute("SELECT version, applied_at FROM schema_migrations").fetchall()
    except sqlite3.Error as exc:
        raise StoreUnavailable(f"SQLite {path}: {exc}") from None
    finally:
        conn.close()
    return {int(v): float(t) for v, t in rows}


# --- PostgreSQL --------------------------------------------------------------


async def _postgres_upgrade(db: DatabaseURL, todo: list[Migration]) -> list[str]:
    import asyncpg

    from junction.stores.postgres.connect import connect, unavailable

    conn = await connect(db)
    done: list[str] = []
    try:
        await conn.execute("SELECT pg_advisory_lock($1)", ADVISORY_LOCK)
        try:
            await conn.execute(_TABLE)
            rows = await conn.fetch("SELECT version FROM schema_migrations")
            applied = {int(r["version"]) for r in rows}
            for m in todo:
                if m.version in applied:
                    continue
                async with conn.transaction():
                    await conn.execute(m.sql)
                    await conn.execute(
                        "INSERT INTO schema_migrations (version, name, applied_at)"
                        " VALUES ($1, $2, $3)",
                        m.version,
                        m.name,
                        time.time(),
                    )
                done.append(m.name)
        finally:
            await conn.execute("SELECT pg_advisory_unlock($1)", ADVISORY_LOCK)
    except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError) as exc:
        raise StoreUnavailable(f"{unavailable(db, exc)} (while migrating)") from None
    finally:
        await conn.close()
    return done


async def _postgres_applied(db: DatabaseURL) -> dict[int, float]:
    import asyncpg

    from junction.stores.postgres.connect import connect, unavailable

    conn = await connect(db)
    try:
        exists = await conn.fetchval("SELECT to_regclass('schema_migrations') IS NOT NULL")
        if not exists:
            return {}
        rows = await conn.fetch("SELECT version, applied_at FROM schema_migrations")
    except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError) as exc:
        raise unavailable(db, exc) from None
    finally:
        await conn.close()
    return {int(r["version"]): float(r["applied_at"]) for r in rows}
