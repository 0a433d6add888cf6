"""The stored Response record and the contract every backend keeps."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class StoredResponse:
    """One stored turn: the Response the client got and the input it sent."""

    id: str
    """The Response id the client got (``resp_...``)."""
    owner: str | None
    """The key that made it (its principal's name); None when keys are off."""
    previous_id: str | None
    """The ``previous_response_id`` it continued, if any."""
    created_at: float
    expires_at: float
    """Unix seconds; a record past it is gone."""
    response: bytes
    """The Response object, JSON, as the client received it."""
    input_items: bytes
    """This turn's input items, JSON list, each with an ``id``."""


class ResponseStore(Protocol):
    """A backend for stored Responses."""

    async def get(self, response_id: str, now: float) -> StoredResponse | None:
        """The record, unless missing or expired at ``now``."""
        ...

    async def put(self, record: StoredResponse) -> None:
        """Insert or replace."""
        ...

    async def delete(self, response_id: str) -> bool:
        """Whether there was a record to delete."""
        ...

    async def purge(self, now: float) -> int:
        """Delete the records expired at ``now``; how many."""
        ...

    async def close(self) -> None: ...
