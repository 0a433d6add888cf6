"""What the gateway does when its shared counter store is unreachable.

:class:`ResilientCounters` wraps the shared counters (Redis, PostgreSQL).
While the store answers, it is a pass-through. When a call raises
:class:`StoreUnavailable` the configured choice applies:

* ``closed``: every admission fails with 503 ``overloaded`` (nothing is
  served unlimited);
* ``open``: admissions are decided by an in-process fallback in which every
  limit is this process's share, ``limit / processes`` (rounded up for
  requests, tokens and concurrency): N processes together stay within the
  limit, never N times it.

Either way it logs loudly (ERROR when the store goes down, again at most
every :data:`LOG_EVERY` seconds while down, INFO when it is back), counts
each failure in ``store_errors`` and sets ``degraded``. While down, the real
store is tried again at most every :data:`RETRY_EVERY` seconds; the first
success ends the degraded mode, without a restart. Leases the fallback
admitted are settled by the fallback.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import math
import time
from collections.abc import Callable, Sequence
from typing import Literal

from junction.stores.memory.counters import MemoryCounters
from junction.stores.protocols import (
    Check,
    Correction,
    CounterReader,
    Counters,
    RestoresSpend,
    Settle,
    SettlesMany,
    SpendRecord,
    Spent,
    StoreUnavailable,
    Verdict,
)
from junction.types import GatewayError

log = logging.getLogger("junction.stores")

RETRY_EVERY = 1.0
"""Seconds between tries of a store that is down."""
LOG_EVERY = 10.0
"""Seconds between ERROR lines while the store stays down."""
FALLBACK = "fallback/"
"""Prefix of the leases the in-process fallback made."""

Mode = Literal["closed", "open"]


class ResilientCounters:
    """Counters that survive their shared store going away (see module doc)."""

    def __init__(
        self,
        inner: Counters,
        mode: Mode,
        processes: int,
        *,
        fallback: Counters | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if mode not in ("closed", "open"):
            raise ValueError(f"mode must be closed or open, not {mode!r}")
        if processes < 1:
            raise ValueError(f"processes must be at least 1, not {processes}")
        self.inner = inner
        self.mode: Mode = mode
        self.processes = processes
        self.fallback: Counters = fallback if fallback is not None else MemoryCounters()
        self.store_errors = 0
        """Calls to the shared store that failed (a metric)."""
        self.degraded = False
        """True while the shared store is unreachable."""
        self._clock = clock
        self._next_try = 0.0
        self._next_log = 0.0

    async def admit(self, checks: Sequence[Check], now: float) -> Verdict:
        if not self.degraded or self._clock() >= self._next_try:
            if self.degraded:  # this call is the second's one try of the store
                self._next_try = self._clock() + RETRY_EVERY
            try:
                verdict = await self.inner.admit(checks, now)
            except StoreUnavailable as exc:
                self._down(exc)
            else:
                self._up()
                return verdict
        if self.mode == "closed":
            raise GatewayError(
                "overloaded",
                "the rate-limit and budget store is unreachable, so requests are refused "
                "(stores.on_unreachable: closed); try again shortly",
                status=503,
                retry_after=RETRY_EVERY,
            )
        verdict = await self.fallback.admit([self._share(c) for c in checks], now)
        if verdict.lease:
            verdict.lease = FALLBACK + verdict.lease
        return verdict

    async def settle(self, lease: str, corrections: Sequence[Correction], now: float) -> None:
        if lease.startswith(FALLBACK):
            shared = [dataclasses.replace(c, check=self._share(c.check)) for c in corrections]
            await self.fallback.settle(lease.removeprefix(FALLBACK), shared, now)
            return
        try:
            await self.inner.settle(lease, corrections, now)
        except StoreUnavailable as exc:
            # The request is over; its correction is lost with the store.
            self._down(exc)

    async def settle_many(self, settles: Sequence[Settle], now: float) -> None:
        """The fallback's settles in the fallback; the shared store's in one
        batch when it batches (Redis), else side by side."""
        shared: list[Settle] = []
        for lease, corrections in settles:
            if lease.startswith(FALLBACK):
                await self.settle(lease, corrections, now)
            else:
                shared.append((lease, corrections))
        if not shared:
            return
        try:
            if isinstance(self.inner, SettlesMany):
                await self.inner.settle_many(shared, now)
            else:
                done = await asyncio.gather(
                    *(self.inner.settle(lease, fixes, now) for lease, fixes in shared),
                    return_exceptions=True,
                )
                failed = next((e for e in done if isinstance(e, BaseException)), None)
                if failed is not None:
                    raise failed
        except StoreUnavailable as exc:
            self._down(exc)

    async def seed(self, check: Check, spent: Spent, now: float) -> None:
        try:
            await self.inner.seed(check, spent, now)
        except StoreUnavailable as exc:
            self._down(exc)

    def restore_spend_from(self, record: SpendRecord) -> None:
        """The shared store's budgets are restored from ``record`` (the
        in-process fallback's are this process's share of an outage)."""
        if isinstance(self.inner, RestoresSpend):
            self.inner.restore_spend_from(record)

    async def peek(self, checks: Sequence[Check], now: float) -> Verdict:
        """The shared store's counts; while it is down, this process's fallback's
        (a store that cannot read raises StoreUnavailable)."""
        store = self.fallback if self.degraded else self.inner
        if not isinstance(store, CounterReader):
            raise StoreUnavailable(f"{type(store).__name__} cannot be read without counting")
        return await store.peek(checks, now)

    async def close(self) -> None:
        await self.inner.close()
        await self.fallback.close()

    def _share(self, check: Check) -> Check:
        """This process's part of a check's limit."""
        if self.processes == 1:
            return check
        share = check.limit / self.processes
        if check.kind != "spend":
            share = math.ceil(share)
        return dataclasses.replace(check, limit=share)

    def _down(self, exc: StoreUnavailable) -> None:
        self.store_errors += 1
        now = self._clock()
        self._next_try = now + RETRY_EVERY
        if not self.degraded or now >= self._next_log:
            what = (
                "refusing requests (on_unreachable: closed)"
                if self.mode == "closed"
                else f"limiting in-process to 1/{self.processes} of each limit "
                "(on_unreachable: open)"
            )
            log.error(
                "counter store unreachable, %s: %s (failures so far: %d)",
                what,
                exc,
                self.store_errors,
            )
            self._next_log = now + LOG_EVERY
        self.degraded = True

    def _up(self) -> None:
        if self.degraded:
            self.degraded = False
            log.info("counter store reachable again; shared limits are back in force")
