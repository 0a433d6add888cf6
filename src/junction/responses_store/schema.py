"""The ``responses`` table: the migration file each backend runs (the same
file ``junction.stores.migrate`` applies; the store runs it too at open, it
is idempotent)."""

from __future__ import annotations

from junction.stores.migrate import migration_sql
from junction.stores.urls import Backend

COLUMNS = "id, owner, previous_id, created_at, expires_at, response, input_items"


def migration(backend: Backend) -> str:
    """The SQL of ``stores/migrations/<backend>/0004_responses.sql``."""
    return migration_sql(backend, "0004_responses.sql")
