"""Stored Responses in this process's memory (tests, one process, no disk)."""

from __future__ import annotations

from junction.responses_store.protocol import StoredResponse


class MemoryResponseStore:
    """A :class:`~junction.responses_store.ResponseStore` in a dict."""

    def __init__(self) -> None:
        self._records: dict[str, StoredResponse] = {}

    async def get(self, response_id: str, now: float) -> StoredResponse | None:
        found = self._records.get(response_id)
        return found if found is not None and found.expires_at > now else None

    async def put(self, record: StoredResponse) -> None:
        self._records[record.id] = record

    async def delete(self, response_id: str) -> bool:
        return self._records.pop(response_id, None) is not None

    async def purge(self, now: float) -> int:
        gone = [k for k, r in self._records.items() if r.expires_at <= now]
        for k in gone:
            del self._records[k]
        return len(gone)

    async def close(self) -> None:
        self._records.clear()
