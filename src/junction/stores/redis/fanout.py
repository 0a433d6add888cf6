"""Routing events shared between processes through one Redis stream.

Each process appends what it learnt (attempt records, circuits opened,
cooldowns, sticky routes) and reads what the others appended; no request
waits for Redis. Every ``interval_s`` (0.5 s) one pipelined round trip
appends this process's batch (``XADD``) and reads the entries added since
the last read (``XREAD``), which the subscribers apply to their local state.
Urgent events (a circuit that opened, a ``retry-after``) are also appended
at once, without waiting for the tick (fire-and-forget).

Events are tuples whose first item is their kind and whose times are wall
clock (``time.time()``), so processes with different monotonic clocks
agree; each subscriber converts them to its own clock.

When Redis cannot be reached the process keeps routing on its own
statistics: it logs once, keeps at most ``max_pending`` events to send, and
logs once more when Redis is back.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections import deque
from collections.abc import Callable
from typing import Any

import msgspec
from redis.asyncio import Redis
from redis.exceptions import RedisError

log = logging.getLogger("junction.stores.redis")

Event = tuple[Any, ...]
Apply = Callable[[list[Any]], None]
"""Applies one event from another process (decoded: a list, kind first)."""

_FAILURES = (RedisError, OSError, asyncio.TimeoutError)


class Fanout:
    """One process's end of the shared routing stream."""

    def __init__(
        self,
        redis: Redis,
        *,
        stream: str,
        interval_s: float = 0.5,
        history_s: float = 600.0,
        max_pending: int = 20_000,
        max_len: int = 20_000,
    ) -> None:
        self.redis = redis
        self.stream = stream
        self.interval_s = interval_s
        self.max_len = max_len
        self.origin = secrets.token_hex(8)
        """This process's name in the stream; its own entries are skipped."""
        self.pending: deque[Event] = deque(maxlen=max_pending)
        self.last_id = f"{int((time.time() - history_s) * 1000)}-0"
        """Read from here on: on start, the last ``history_s`` (sticky routes outlive a tick)."""
        self.reachable = True
        self._handlers: dict[str, Apply] = {}
        self._task: asyncio.Task[None] | None = None
        self._sends: set[asyncio.Task[None]] = set()
        self._encoder = msgspec.msgpack.Encoder()
        self._decoder = msgspec.msgpack.Decoder(list[list[Any]])

    def subscribe(self, kind: str, apply: Apply) -> None:
        self._handlers[kind] = apply

    def publish(self, event: Event) -> None:
        """Send ``event`` with the next tick."""
        self.pending.append(event)

    def publish_now(self, event: Event) -> None:
        """Send ``event`` now, without waiting for it (the tick resends it if this fails)."""
        if not self.reachable or self._task is None:
            self.pending.append(event)
            return
        task = asyncio.get_running_loop().create_task(self._send_now(event))
        self._sends.add(task)
        task.add_done_callback(self._sends.discard)

    async def _send_now(self, event: Event) -> None:
        try:
            await self.redis.xadd(
                self.stream, self._entry([event]), maxlen=self.max_len, approximate=True
            )
        except _FAILURES:
            self.pending.append(event)

    def _entry(self, events: list[Event]) -> dict[Any, Any]:
        return {"o": self.origin, "e": self._encoder.encode(events)}

    async def sync(self) -> None:
        """One round trip: send this process's batch, apply the others' new entries."""
        batch = list(self.pending)
        self.pending.clear()
        try:
            async with self.redis.pipeline(transaction=False) as pipe:
                if batch:
                    pipe.xadd(
                        self.stream, self._entry(batch), maxlen=self.max_len, approximate=True
                    )
                pipe.xread({self.stream: self.last_id}, count=1000)
                replies = await pipe.execute()
        except _FAILURES as exc:
            self.pending.extendleft(reversed(batch))
            if self.reachable:
                log.warning(
                    "Redis unreachable (%s): endpoint statistics and sticky routes are "
                    "this process's own until it returns",
                    type(exc).__name__,
                )
            self.reachable = False
            return
        if not self.reachable:
            log.warning("Redis reachable again: sharing endpoint statistics again")
        self.reachable = True
        self._apply(replies[-1])

    def _apply(self, reply: Any) -> None:
        for _stream, entries in reply or ():
            for entry_id, fields in entries:
                self.last_id = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
                origin = fields.get(b"o", fields.get("o"))
                if origin in (self.origin, self.origin.encode()):
                    continue
                try:
                    events = self._decoder.decode(fields.get(b"e", fields.get("e", b"")))
                except (msgspec.DecodeError, TypeError):
                    continue  # not ours (another version's entry): skip it
                for event in events:
                    handler = self._handlers.get(event[0]) if event else None
                    if handler is not None:
                        with contextlib.suppress(ValueError, TypeError, IndexError):
                            handler(event)

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval_s)
            await self.sync()

    def start(self) -> None:
        """Run the tick in the background (call from the serving event loop)."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def close(self) -> None:
        """Stop the tick, send what is pending (best effort), close the connection."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._sends:
            await asyncio.wait(list(self._sends), timeout=1.0)
        if self.pending and self.reachable:
            with contextlib.suppress(*_FAILURES):
                await asyncio.wait_for(self.sync(), timeout=1.0)
        await self.redis.aclose()
