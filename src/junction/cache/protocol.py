"""The contract of a response cache backend."""

from __future__ import annotations

from typing import Protocol


class ResponseCache(Protocol):
    async def get(self, key: str) -> bytes | None:
        """The entry, unless missing or expired."""
        ...

    async def put(self, key: str, value: bytes, ttl: float) -> None:
        """Keep ``value`` for ``ttl`` seconds (more than 0)."""
        ...

    async def close(self) -> None: ...
