"""The request log's writer: the settle listener queues a row (no I/O on the
event loop); a background task writes batches. When the store is down, rows
stay queued (up to ``max_queue``) and the write is retried; past that, new
rows are dropped, counted and logged, never silently.

Rows of requests refused at the door (401s) are bounded apart: at most
``refused_per_second`` a second (a token bucket holding one second's worth),
and only while the queue is under half full, so a client spraying bad keys
can neither grow the queue past ``max_queue`` nor crowd out the rows of
answered requests. The refusals past the bound are counted
(``refused_unlogged``), not written."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from junction.gateway.accounting import Generation
from junction.requestlog.rows import to_row
from junction.requestlog.store import LogStore

log = logging.getLogger("junction.requestlog")


class RequestLogWriter:
    def __init__(
        self,
        store: LogStore,
        *,
        batch_size: int = 500,
        flush_interval: float = 1.0,
        max_queue: int = 100_000,
        retention_days: float | None = None,
        retention_every: float = 3600.0,
        refused_per_second: float = 50.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.batch_size = batch_size
        self.flush_interval = flush_interval
        self.max_queue = max_queue
        self.retention_days = retention_days
        self.retention_every = retention_every
        self.queue: deque[tuple[Any, ...]] = deque()
        self.written = 0
        self.dropped = 0
        """Rows lost because the queue was full (the store was down too long)."""
        self.failures = 0
        """Batch writes that failed (and were retried)."""
        self.refused_per_second = refused_per_second
        self.refused_unlogged = 0
        """401s past the refusal bound: counted here, not written."""
        self._clock = clock
        self._tokens = refused_per_second
        self._refill_at = clock()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        self._last_retention = 0.0
        self._stopping = False

    def listen(self, generation: Generation) -> None:
        """The ``Accountant`` listener: O(1), never raises."""
        if generation.refused and not self._admit_refusal():
            self.refused_unlogged += 1
            if self.refused_unlogged == 1 or self.refused_unlogged % 10_000 == 0:
                log.warning(
                    "request log: %d refused-key (401) rows not written so far "
                    "(request_log.refused_rows_per_second)",
                    self.refused_unlogged,
                )
            return
        try:
            row = to_row(generation)
        except Exception:
            self.dropped += 1
            log.exception("request log: could not build the row of %s (dropped)", generation.id)
            return
        if len(self.queue) >= self.max_queue:
            self.dropped += 1
            if self.dropped == 1 or self.dropped % 1000 == 0:
                log.error(
                    "request log: queue full (%d rows, store unreachable?): %d rows dropped so far",
                    len(self.queue),
                    self.dropped,
                )
            return
        self.queue.append(row)
        if len(self.queue) >= self.batch_size:
            self._wake.set()

    def _admit_refusal(self) -> bool:
        """A token for one 401 row, while the queue is under half full."""
        if len(self.queue) >= self.max_queue // 2:
            return False
        now = self._clock()
        rate = self.refused_per_second
        self._tokens = min(rate, self._tokens + (now - self._refill_at) * rate)
        self._refill_at = now
        if self._tokens < 1.0:
            return False
        self._tokens -= 1.0
        return True

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        backoff = self.flush_interval
        while not self._stopping:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=backoff)
            self._wake.clear()
            try:
                await self._drain()
                await self._retain()
            except Exception as exc:
                self.failures += 1
                backoff = min(max(backoff * 2, 0.1), 30.0)
                log.error(
                    "request log: write failed (%s: %s); %d rows kept, retrying in %.1fs",
                    type(exc).__name__,
                    exc,
                    len(self.queue),
                    backoff,
                )
            else:
                backoff = self.flush_interval

    async def _drain(self) -> None:
        """Write every queued row, batch by batch; a failed batch goes back first."""
        async with self._lock:
            while self.queue:
                n = min(self.batch_size, len(self.queue))
                batch = [self.queue.popleft() for _ in range(n)]
                try:
                    await self.store.write(batch)
                except BaseException:
                    self.queue.extendleft(reversed(batch))
                    raise
                self.written += n

    async def _retain(self) -> None:
        now = time.time()
        if now - self._last_retention < self.retention_every:
            return
        self._last_retention = now
        await self.store.trim_endpoint_stats(now)  # a day's worth, whatever the retention
        if self.retention_days is None:
            return
        gone = await self.store.delete_before(now - self.retention_days * 86400)
        if gone:
            log.info("request log: %d rows older than %g days deleted", gone, self.retention_days)

    async def flush(self, attempts: int = 5) -> None:
        """Write everything queued now (at shutdown: after the last request drained)."""
        for attempt in range(attempts):
            try:
                await self._drain()
                return
            except Exception as exc:
                self.failures += 1
                log.error(
                    "request log: flush failed (%s); %d rows queued (try %d of %d)",
                    type(exc).__name__,
                    len(self.queue),
                    attempt + 1,
                    attempts,
                )
                await asyncio.sleep(0.2 * (attempt + 1))
        if self.queue:
            self.dropped += len(self.queue)
            log.error("request log: %d rows could not be written at shutdown", len(self.queue))

    async def close(self) -> None:
        """Stop the background task and write what is queued (the store stays open)."""
        if self._task is not None:
            # Let a batch in flight finish (cancelling it could write it twice).
            self._stopping = True
            self._wake.set()
            await self._task
            self._task = None
        await self.flush()
