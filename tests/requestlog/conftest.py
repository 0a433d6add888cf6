"""Both backends for every log test: SQLite in a temp dir, and a fresh
PostgreSQL database on the real server (skipped when it cannot be reached,
except with CI=true, where that fails)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from _servers import fresh_postgres_database


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh database, dropped afterwards (sync: set up outside the test's loop)."""
    with fresh_postgres_database() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'log.db'}"
    url: str = request.getfixturevalue("pg_url")
    return url


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "store_bodies: serve with request_log.store_bodies on")
    config.addinivalue_line(
        "markers", "refused_rows_per_second(n): serve with request_log.refused_rows_per_second n"
    )
