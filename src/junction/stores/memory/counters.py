"""Counters of one process: the embedded store's limits and budgets.

Atomic without locks: nothing awaits between checking and counting. Each
counter is an object that keeps its own layout (junction.stores.windows)
and what it has counted in the current window, so an admission costs a
dictionary lookup and a few additions per check, whatever the traffic.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from junction.stores.protocols import Check, Correction, Settle, SpendRecord, Spent, Verdict
from junction.stores.windows import (
    LEASE_SECONDS,
    Plan,
    fits,
    lease_second,
    plan,
    recorded_spend,
    seed_buckets,
)


class _Buckets:
    """A sliding (one-second buckets) or rolling (hour buckets) window.

    ``total`` is the sum of the buckets counted at bucket ``at``; it is
    recomputed when the window moves (at most once per bucket width) and
    kept up to date by additions in between."""

    __slots__ = ("amounts", "at", "oldest", "plan", "total", "window")

    def __init__(self, check: Check, p: Plan) -> None:
        self.window = check.window
        self.plan = p
        self.amounts: dict[int, float] = {}
        """Bucket number -> amount, oldest first (older ones are dropped)."""
        self.at: int | None = None
        self.total = 0.0
        self.oldest: int | None = None
        """The oldest counted bucket with a non-zero amount."""

    def used(self, now: float) -> tuple[float, float]:
        p = self.plan
        current = math.floor(now / p.size)
        if current != self.at:
            self._move(current)
        first = current if self.oldest is None else self.oldest
        return self.total, (first + p.span) * p.size

    def add(self, bucket: int, amount: float) -> None:
        at, amounts = self.at, self.amounts
        if at is not None and bucket <= at - self.plan.span:
            return  # out of the window already: nothing counts it again
        if bucket in amounts:
            amounts[bucket] += amount
        elif not amounts or bucket > next(reversed(amounts)):
            amounts[bucket] = amount
        else:  # an earlier bucket than the newest (a clock that went back)
            amounts[bucket] = amount
            self.amounts = dict(sorted(amounts.items()))
        if at is not None and bucket <= at:
            self.total += amount
            oldest = self.oldest
            if oldest is None or bucket < oldest or (bucket == oldest and not amounts[bucket]):
                self.oldest = self._oldest(at)

    def count(self, amount: float, lease: str, now: float) -> None:
        """Count an admission in the current bucket (``used`` moved ``at`` there)."""
        at = self.at
        assert at is not None
        amounts = self.amounts
        if at in amounts:
            amounts[at] += amount
        else:
            self.add(at, amount)
            return
        self.total += amount
        if self.oldest is None or not amounts[at]:
            self.oldest = self._oldest(at)

    def correct(self, admitted: float, lease: str, delta: float) -> None:
        self.add(math.floor(admitted / self.plan.size), delta)

    def _move(self, current: int) -> None:
        """Drop the buckets that left the window at ``current``; sum the
        counted ones (a clock that went back counts fewer, as the shared
        stores do)."""
        amounts = self.amounts
        edge = current - self.plan.span
        while amounts:
            first = next(iter(amounts))
            if first > edge:
                break
            del amounts[first]
        self.at = current
        self.total = sum(a for b, a in amounts.items() if b <= current)
        self.oldest = self._oldest(current)

    def _oldest(self, current: int) -> int | None:
        return next((b for b, a in self.amounts.items() if a != 0 and b <= current), None)


class _Total:
    """A calendar period's or a total budget's spend."""

    __slots__ = ("plan", "total", "window")

    def __init__(self, check: Check, p: Plan) -> None:
        self.window = check.window
        self.plan = p
        self.total = 0.0

    def used(self, now: float) -> tuple[float, float]:
        return self.total, self.plan.reset

    def count(self, amount: float, lease: str, now: float) -> None:
        self.total += amount

    def correct(self, admitted: float, lease: str, delta: float) -> None:
        self.total += delta


class _Leases:
    """Concurrency leases: lease id -> expiry. Every lease lives
    LEASE_SECONDS, so insertion order is expiry order: only the expired
    head is looked at."""

    __slots__ = ("leases", "plan", "window")

    def __init__(self, check: Check, p: Plan) -> None:
        self.window = check.window
        self.plan = p
        self.leases: dict[str, float] = {}

    def used(self, now: float) -> tuple[float, float]:
        leases = self.leases
        while leases:
            lease, expires = next(iter(leases.items()))
            if expires > now:
                break
            del leases[lease]
        return float(len(leases)), now

    def count(self, amount: float, lease: str, now: float) -> None:
        self.leases[lease] = now + LEASE_SECONDS

    def correct(self, admitted: float, lease: str, delta: float) -> None:
        self.leases.pop(lease, None)


_Counter = _Buckets | _Total | _Leases
_KINDS: dict[str, Callable[[Check, Plan], _Counter]] = {
    "buckets": _Buckets,
    "total": _Total,
    "leases": _Leases,
}


class MemoryCounters:
    """Counters in this process's memory, with the shared backends' windows
    (junction.stores.windows): the embedded default, and the fallback of
    :class:`~junction.stores.resilient.ResilientCounters`.

    Given a durable record of spend (:meth:`restore_spend_from`), a budget's
    counter this process has not seen yet (after a restart) starts from
    what the record says was spent in its window."""

    def __init__(self) -> None:
        self._counters: dict[str, _Counter] = {}
        self._record: SpendRecord | None = None
        self._leases = 0
        """Leases made: this process's lease ids are their number."""

    def restore_spend_from(self, record: SpendRecord) -> None:
        self._record = record

    async def admit(self, checks: Sequence[Check], now: float) -> Verdict:
        if self._record is not None:
            await self._restore(checks, now)
        counters = self._counters
        found: list[_Counter] = []
        used: list[float] = []
        reset_at: list[float] = []
        refused: Check | None = None
        for check in checks:
            counter = counters.get(check.counter)
            if counter is None or counter.window is not check.window:
                counter = self._counter(check)
            found.append(counter)
            u, reset = counter.used(now)
            used.append(u)
            reset_at.append(reset)
            if refused is None and check.hard and u + check.amount > check.limit:
                refused = check
        if refused is not None:
            return Verdict(False, refused, used, reset_at)
        self._leases += 1
        lease = f"{math.floor(now)}:{self._leases:x}"  # the format of windows.new_lease
        for check, counter in zip(checks, found, strict=True):
            counter.count(check.amount, lease, now)
        return Verdict(True, None, used, reset_at, lease)

    def _counter(self, check: Check) -> _Counter:
        counter = self._counters.get(check.counter)
        if counter is not None and counter.window is check.window:
            return counter
        p = plan(check)
        if counter is None or counter.plan.layout != p.layout:
            counter = self._counters[check.counter] = _KINDS[p.layout](check, p)
        elif counter.plan != p:  # the same counter over another window (24h -> 7d)
            counter.plan = p
            if isinstance(counter, _Buckets):
                counter.at = None
        counter.window = check.window
        return counter

    async def settle(self, lease: str, corrections: Sequence[Correction], now: float) -> None:
        self.settle_now([(lease, corrections)], now)

    async def settle_many(self, settles: Sequence[Settle], now: float) -> None:
        self.settle_now(settles, now)

    def settle_now(self, settles: Sequence[Settle], now: float) -> None:
        """Settle without awaiting (nothing here does I/O)."""
        counters = self._counters
        for lease, corrections in settles:
            if not lease:
                continue
            admitted = lease_second(lease)
            for fix in corrections:
                check = fix.check
                counter = counters.get(check.counter)
                if counter is not None and check.kind != "requests":
                    counter.correct(admitted, lease, fix.actual - check.amount)

    async def seed(self, check: Check, spent: Spent, now: float) -> None:
        if check.counter in self._counters:
            return
        counter = self._counter(check)
        if isinstance(counter, _Total):
            counter.total = sum(usd for _, usd in spent)
        elif isinstance(counter, _Buckets):
            counter.amounts = seed_buckets(counter.plan, spent, now)
            counter.at = None

    async def _restore(self, checks: Sequence[Check], now: float) -> None:
        """Seed the spend counters this process has not counted yet."""
        record = self._record
        assert record is not None
        for check in checks:
            if check.kind == "spend" and check.counter not in self._counters:
                spent = await recorded_spend(record, check, now)
                await self.seed(check, spent, now)  # no-op if a concurrent admission did

    async def peek(self, checks: Sequence[Check], now: float) -> Verdict:
        """What :meth:`admit` would answer, counting nothing."""
        used: list[float] = []
        reset_at: list[float] = []
        refused: Check | None = None
        for check in checks:
            counter = self._counters.get(check.counter)
            if counter is None:
                p = plan(check)
                u = 0.0
                reset = p.reset if p.layout == "total" else p.reset_of(None, now)
                if p.layout == "leases":
                    reset = now
            else:
                u, reset = counter.used(now)
            used.append(u)
            reset_at.append(reset)
            if refused is None and not fits(check, u):
                refused = check
        return Verdict(refused is None, refused, used, reset_at)

    async def close(self) -> None:
        return None
