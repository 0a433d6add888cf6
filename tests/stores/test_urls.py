"""Database URLs and what a store that cannot be reached says."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from junction.config import ConfigError
from junction.stores.protocols import StoreUnavailable
from junction.stores.sqlite.records import SQLiteRecords
from junction.stores.urls import (
    DEFAULT_DATABASE_URL,
    open_records,
    parse_database_url,
    redact,
)


def test_sqlite_urls() -> None:
    assert parse_database_url("sqlite:///junction.db").path == "junction.db"
    assert parse_database_url("sqlite:////var/lib/junction/j.db").path == "/var/lib/junction/j.db"
    assert parse_database_url(DEFAULT_DATABASE_URL).backend == "sqlite"


def test_postgres_urls() -> None:
    db = parse_database_url("postgresql://u:pw@db.internal:6543/junction")
    assert (db.backend, db.host, db.port) == ("postgres", "db.internal", 6543)
    assert db.shown == "postgresql://u:***@db.internal:6543/junction"
    assert parse_database_url("postgres://db/junction").where == "db:5432"


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("junction.db", "expected sqlite:///path or postgresql://host/db"),
        ("mysql://u:hunter2@h/db", "unknown scheme 'mysql'"),
        ("sqlite://host/file.db", "a SQLite URL has no host"),
        ("sqlite:///", "no file named"),
        ("postgresql://u:hunter2@h:5432", "no database named"),
        ("postgresql://u:hunter2@h:99999/db", "Port out of range"),
    ],
)
def test_bad_urls_are_config_errors_without_the_password(url: str, says: str) -> None:
    with pytest.raises(ConfigError, match=says) as caught:
        parse_database_url(url)
    assert "hunter2" not in str(caught.value)


def test_redact_leaves_passwordless_urls_alone() -> None:
    assert redact("postgresql://postgres@127.0.0.1/test") == "postgresql://postgres@127.0.0.1/test"
    assert redact("postgresql://a:b@[::1]:5/x") == "postgresql://a:***@[::1]:5/x"


async def test_unreachable_postgres_names_host_and_port_never_the_password() -> None:
    with pytest.raises(StoreUnavailable) as caught:
        await open_records("postgresql://junction:topsecret@127.0.0.1:1/junction")
    message = str(caught.value)
    assert "127.0.0.1:1" in message
    assert "topsecret" not in message


async def test_an_unopenable_sqlite_file_is_unavailable(tmp_path: Path) -> None:
    with pytest.raises(StoreUnavailable, match="no-such-dir"):
        await open_records(f"sqlite:///{tmp_path}/no-such-dir/j.db")


async def test_a_database_without_its_schema_says_to_upgrade(tmp_path: Path) -> None:
    records = await SQLiteRecords.open(str(tmp_path / "empty.db"))
    try:
        with pytest.raises(StoreUnavailable, match="junction db upgrade"):
            await records.key("key_1")
    finally:
        await records.close()


async def test_unmigrated_postgres_says_to_upgrade(
    fresh_postgres_url: Callable[[], str],
) -> None:
    records = await open_records(fresh_postgres_url())
    try:
        with pytest.raises(StoreUnavailable, match="junction db upgrade"):
            await records.key_by_hash("0" * 64)
    finally:
        await records.close()


async def test_open_records_can_migrate_first(tmp_path: Path) -> None:
    records = await open_records(f"sqlite:///{tmp_path / 'j.db'}", migrate=True)
    try:
        assert await records.keys() == []
    finally:
        await records.close()
