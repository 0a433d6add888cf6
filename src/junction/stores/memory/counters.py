"""Counters of one process: the embedded store's limits and budgets.

Atomic without locks: nothing awaits between checking and counting.
"""

from __future__ import annotations

from collections.abc import Sequence

from junction.stores.protocols import Check, Correction, Verdict
from junction.stores.windows import (
    LEASE_SECONDS,
    decide,
    fits,
    lease_second,
    new_lease,
    plan,
)


class MemoryCounters:
    """Counters in this process's memory, with the shared backends' windows
    (junction.stores.windows): the embedded default, and the fallback of
    :class:`~junction.stores.resilient.ResilientCounters`."""

    def __init__(self) -> None:
        self._buckets: dict[str, dict[int, float]] = {}
        self._totals: dict[str, float] = {}
        self._leases: dict[str, dict[str, float]] = {}

    async def admit(self, checks: Sequence[Check], now: float) -> Verdict:
        plans = [plan(c, now) for c in checks]
        used: list[float] = []
        reset_at: list[float] = []
        refused: Check | None = None
        for check, p in zip(checks, plans, strict=True):
            name = check.counter
            if p.layout == "buckets":
                buckets = self._buckets.setdefault(name, {})
                for b in [b for b in buckets if b <= p.bucket(now) - p.span]:
                    del buckets[b]
                counted = [(b, a) for b, a in buckets.items() if p.counted(b, now)]
                u = sum(a for _, a in counted)
                reset = p.reset_of(min((b for b, a in counted if a != 0), default=None), now)
            elif p.layout == "total":
                u, reset = self._totals.get(name, 0.0), p.reset
            else:
                leases = self._leases.setdefault(name, {})
                # Every lease lives LEASE_SECONDS, so insertion order is expiry
                # order: only the expired head is looked at.
                expired = []
                for lease, expires in leases.items():
                    if expires > now:
                        break
                    expired.append(lease)
                for lease in expired:
                    del leases[lease]
                u, reset = float(len(leases)), now
            used.append(u)
            reset_at.append(reset)
            if refused is None and not fits(check, u):
                refused = check
        if refused is not None:
            return Verdict(False, refused, used, reset_at)
        lease = new_lease(now)
        for check, p in zip(checks, plans, strict=True):
            self._add(check, p.layout, p.bucket(now), check.amount, lease, now)
        return Verdict(True, None, used, reset_at, lease)

    def _add(
        self, check: Check, layout: str, bucket: int, amount: float, lease: str, now: float
    ) -> None:
        name = check.counter
        if layout == "buckets":
            buckets = self._buckets.setdefault(name, {})
            buckets[bucket] = buckets.get(bucket, 0.0) + amount
        elif layout == "total":
            self._totals[name] = self._totals.get(name, 0.0) + amount
        else:
            self._leases.setdefault(name, {})[lease] = now + LEASE_SECONDS

    async def settle(self, lease: str, corrections: Sequence[Correction], now: float) -> None:
        if not lease:
            return
        admitted = lease_second(lease)
        for fix in corrections:
            check = fix.check
            p = plan(check, admitted)
            if p.layout == "leases":
                self._leases.get(check.counter, {}).pop(lease, None)
            elif check.kind != "requests":
                delta = fix.actual - check.amount
                self._add(check, p.layout, p.bucket(admitted), delta, lease, now)

    async def seed(self, counter: str, amount: float) -> None:
        self._totals.setdefault(counter, amount)

    async def peek(self, checks: Sequence[Check], now: float) -> Verdict:
        plans = [plan(c, now) for c in checks]
        stored: dict[str, list[tuple[int, float]]] = {}
        for check, p in zip(checks, plans, strict=True):
            name = check.counter
            if p.layout == "buckets":
                stored[name] = list(self._buckets.get(name, {}).items())
            elif p.layout == "total":
                stored[name] = [(0, self._totals.get(name, 0.0))]
            else:
                live = sum(1 for e in self._leases.get(name, {}).values() if e > now)
                stored[name] = [(0, float(live))]
        return decide(checks, plans, stored, now)

    async def close(self) -> None:
        return None
