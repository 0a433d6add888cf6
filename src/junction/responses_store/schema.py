"""The ``responses`` table: the migration file each backend runs (the same
file ``junction.stores.migrate`` applies; the store runs it too at open, it
is idempotent)."""

from __future__ import annotations

from importlib import resources

COLUMNS = "id, owner, previous_id, created_at, expires_at, response, input_items"


def migration(backend: str) -> str:
    """The SQL of ``stores/migrations/<backend>/0004_responses.sql``."""
    path = resources.files("junction.stores").joinpath("migrations", backend, "0004_responses.sql")
    return path.read_text(encoding="utf-8")
