"""The response store a database URL names."""

from __future__ import annotations

from junction.responses_store.memory import MemoryResponseStore
from junction.responses_store.protocol import ResponseStore


async def open_response_store(url: str) -> ResponseStore:
    """``sqlite:///path`` (``sqlite:///:memory:`` too), ``postgresql://...``
    (or ``postgres://``), or ``memory://`` (this process only). The table is
    created if missing (idempotent: the same migration the runner applies)."""
    if url.startswith("memory:"):
        return MemoryResponseStore()
    if url.startswith("sqlite:///"):
        from junction.responses_store.sqlite import SqliteResponseStore

        sqlite = SqliteResponseStore(url[len("sqlite:///") :])
        await sqlite.open()
        return sqlite
    if url.startswith(("postgresql://", "postgres://")):
        from junction.responses_store.postgres import PostgresResponseStore

        postgres = PostgresResponseStore(url)
        await postgres.open()
        return postgres
    raise ValueError(
        f"stores.database_url {url.split('://', 1)[0]!r}:// is not a database junction keeps "
        "responses in: use sqlite:///path, postgresql://... or memory://"
    )
