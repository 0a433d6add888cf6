"""The contracts: a backend of the exact cache (bytes by key), and what the
cache stage asks of every cache, exact or semantic."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from junction.cache.key import cache_key
from junction.types import ChatRequest

if TYPE_CHECKING:  # numpy is loaded with a semantic cache, not for the exact one
    from junction.cache.semantic import Vector


class ResponseCache(Protocol):
    """Where the exact cache keeps its entries (memory, SQLite, Redis)."""

    async def get(self, key: str) -> bytes | None:
        """The entry, unless missing or expired."""
        ...

    async def put(self, key: str, value: bytes, ttl: float) -> None:
        """Keep ``value`` for ``ttl`` seconds (more than 0)."""
        ...

    async def close(self) -> None: ...


@dataclass(slots=True)
class Ask:
    """One request as the caches look it up, in its namespace. What a cache
    derives from it (the exact key, the semantic cache's vector) is
    computed once and kept here, for the write after the answer."""

    request: ChatRequest
    namespace: str = ""
    _key: str | None = None
    partition: str | None = None
    """The semantic cache's exact part: the key of everything but the last
    turn's text (model, parameters, tools, the earlier turns)."""
    text: str | None = None
    """The semantic cache's fuzzy part: the last turn's text."""
    vector: Vector | None = None
    """The embedding of ``text``, L2-normalised."""

    @property
    def key(self) -> str:
        if self._key is None:
            self._key = cache_key(self.request, self.namespace)
        return self._key


@dataclass(frozen=True, slots=True)
class Found:
    value: bytes
    similarity: float | None = None
    """How close the cached request was (semantic hits; None for an exact one)."""


class AnswerCache(Protocol):
    """A cache of answers, exact or semantic, as the cache stage uses it."""

    kind: str
    """``exact`` or ``semantic``."""

    async def find(self, ask: Ask) -> Found | None: ...

    async def keep(self, ask: Ask, value: bytes, ttl: float) -> None: ...

    async def close(self) -> None: ...


class ExactCache:
    """The exact-match cache: the request's normalised key in a backend."""

    kind = "exact"

    def __init__(self, backend: ResponseCache) -> None:
        self.backend = backend

    async def find(self, ask: Ask) -> Found | None:
        value = await self.backend.get(ask.key)
        return Found(value) if value is not None else None

    async def keep(self, ask: Ask, value: bytes, ttl: float) -> None:
        await self.backend.put(ask.key, value, ttl)

    async def close(self) -> None:
        await self.backend.close()
