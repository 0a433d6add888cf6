"""Where the Responses door keeps stored Responses (``store: true``).

One small contract (:class:`ResponseStore`: get, put, delete, purge, close)
with three backends: memory (tests, one process), SQLite (embedded, on a
dedicated thread) and PostgreSQL (shared, asyncpg). :class:`StoredResponses`
puts a write-through memory cache in front of the durable one, so a
``previous_response_id`` sent right after a response finds it while the
durable write runs in the background. The door's use of it (history,
owners, routes) is server/stored_responses.py.
"""

from __future__ import annotations

from junction.responses_store.cache import StoredResponses
from junction.responses_store.memory import MemoryResponseStore
from junction.responses_store.open import open_response_store
from junction.responses_store.protocol import ResponseStore, StoredResponse

__all__ = [
    "MemoryResponseStore",
    "ResponseStore",
    "StoredResponse",
    "StoredResponses",
    "open_response_store",
]
