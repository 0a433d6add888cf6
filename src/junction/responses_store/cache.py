"""A write-through memory cache in front of a durable response store.

:meth:`StoredResponses.save` puts the record in the cache at once and writes
it to the durable store in a background task, so the answer is not held up
by the disk and a ``previous_response_id`` sent right after finds the turn
in this process. Other processes find it once the write lands (milliseconds).
:meth:`close` waits for the writes in flight. Expired records are never
returned; they are deleted at start-up and then at most once every
``purge_every`` seconds, by a background task a save starts.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Coroutine
from typing import Any

from junction.responses_store.memory import MemoryResponseStore
from junction.responses_store.protocol import ResponseStore, StoredResponse

log = logging.getLogger("junction.responses")


class StoredResponses:
    """The door's view of stored Responses: cached reads, background writes."""

    def __init__(
        self,
        durable: ResponseStore,
        ttl_seconds: float,
        cache_size: int = 10_000,
        clock: Callable[[], float] = time.time,
        purge_every: float = 3600.0,
    ) -> None:
        self.durable = durable
        self.ttl_seconds = ttl_seconds
        self.clock = clock
        self._cached = not isinstance(durable, MemoryResponseStore)
        self._cache: OrderedDict[str, StoredResponse] = OrderedDict()
        self._size = cache_size
        self._writes: set[asyncio.Task[None]] = set()
        self._purge_every = purge_every
        self._next_purge = clock() + purge_every

    def record(
        self,
        response_id: str,
        owner: str | None,
        previous_id: str | None,
        response: bytes,
        input_items: bytes,
    ) -> StoredResponse:
        now = self.clock()
        return StoredResponse(
            response_id, owner, previous_id, now, now + self.ttl_seconds, response, input_items
        )

    def save(self, record: StoredResponse) -> None:
        """Keep ``record``: in the cache now, durably in the background."""
        if self._cached:
            self._remember(record)
        self._background(self._write(record))
        if record.created_at >= self._next_purge:
            self._next_purge = record.created_at + self._purge_every
            self._background(self._purge_quietly())

    def _background(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._writes.add(task)
        task.add_done_callback(self._writes.discard)

    async def _purge_quietly(self) -> None:
        try:
            await self.purge()
        except Exception as exc:
            log.error("could not purge expired responses: %s", type(exc).__name__)

    async def _write(self, record: StoredResponse) -> None:
        try:
            await self.durable.put(record)
        except Exception as exc:  # the client has its answer; say so in the log
            log.error("could not store response %s: %s", record.id, type(exc).__name__)

    def _remember(self, record: StoredResponse) -> None:
        self._cache[record.id] = record
        self._cache.move_to_end(record.id)
        while len(self._cache) > self._size:
            self._cache.popitem(last=False)

    async def get(self, response_id: str) -> StoredResponse | None:
        now = self.clock()
        found = self._cache.get(response_id)
        if found is not None:
            return found if found.expires_at > now else None
        found = await self.durable.get(response_id, now)
        if found is not None and self._cached:
            self._remember(found)
        return found

    async def delete(self, response_id: str) -> bool:
        cached = self._cache.pop(response_id, None) is not None
        # A write still in flight would bring the record back: let it land first.
        pending = [t for t in self._writes if not t.done()]
        if pending:
            await asyncio.gather(*pending)
        return await self.durable.delete(response_id) or cached

    async def purge(self) -> int:
        now = self.clock()
        for key in [k for k, r in self._cache.items() if r.expires_at <= now]:
            del self._cache[key]
        return await self.durable.purge(now)

    async def flush(self) -> None:
        """Wait for the writes (and purges) in flight."""
        while self._writes:
            await asyncio.gather(*list(self._writes))

    async def close(self) -> None:
        """Wait for the writes in flight, then close the durable store."""
        await self.flush()
        await self.durable.close()
