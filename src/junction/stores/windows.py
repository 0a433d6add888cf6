"""How a :class:`~junction.stores.protocols.Check`'s window maps onto stored
counters: the one definition every shared backend (Redis, PostgreSQL) and
the in-process fallback share.

Three layouts:

* **buckets** (``window.sliding``: one-second buckets; ``window.rolling``:
  hour buckets): ``used`` is the sum of the last ``span`` buckets including
  the current one (``floor(now / size)``); ``reset_at`` is when the oldest
  counted bucket leaves the window (the current one if none is counted).
* **total** (``window.start`` / ``window.end``): one total per counter name
  (the name carries the period's start); ``reset_at`` is ``end``.
* **leases** (kind ``parallel``): one live lease per admitted request, ``used``
  is their count; a lease expires after :data:`LEASE_SECONDS` in case its
  process died before settling; ``reset_at`` is ``now``.

A counter expires (TTL) after its window, plus a day for a calendar total;
a ``total`` budget's counter never expires.
"""

from __future__ import annotations

import logging
import math
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from junction.stores.protocols import Check, SpendRecord, Spent, Verdict, Window
from junction.types import GatewayError

log = logging.getLogger("junction.stores")

LEASE_SECONDS = 15 * 60.0
"""A concurrency lease's life when nobody releases it (a crashed process)."""
CALENDAR_GRACE = 86400.0
"""How long a calendar total outlives its period (late settles, reporting)."""
HOUR = 3600.0

Layout = Literal["buckets", "total", "leases"]


@dataclass(frozen=True, slots=True)
class Plan:
    """Where one check is counted: a function of its window (and whether it
    is a concurrency lease) alone, so made once per window and reused."""

    layout: Layout
    size: float = 1.0
    """Bucket width in seconds (buckets)."""
    span: int = 0
    """Buckets in the window (buckets)."""
    reset: float = 0.0
    """The period's end (total)."""

    def bucket(self, now: float) -> int:
        return math.floor(now / self.size)

    def counted(self, bucket: int, now: float) -> bool:
        """Whether a bucket is inside the window at ``now``."""
        current = self.bucket(now)
        return current - self.span < bucket <= current

    def reset_of(self, oldest: int | None, now: float) -> float:
        """``reset_at`` of a bucketed counter whose oldest counted bucket is
        ``oldest`` (None: nothing counted)."""
        first = self.bucket(now) if oldest is None else oldest
        return (first + self.span) * self.size

    def ttl(self, now: float) -> float:
        """Seconds the stored counter lives after a write at ``now``
        (``inf``: a total budget, which never expires)."""
        if self.layout == "buckets":
            return (self.span + 1) * self.size
        if self.layout == "leases":
            return LEASE_SECONDS
        return max(self.reset - now, 0.0) + CALENDAR_GRACE


LEASES = Plan("leases")
_PLANS: dict[Window, Plan] = {}
PLANS_KEPT = 4096
"""Distinct windows whose plan is remembered (a few per budget period in use)."""


def plan(check: Check) -> Plan:
    """The layout of ``check``'s counter (ValueError: a window it cannot have)."""
    if check.kind == "parallel":
        return LEASES
    found = _PLANS.get(check.window)
    if found is None:
        found = _make(check)
        if len(_PLANS) >= PLANS_KEPT:
            _PLANS.clear()
        _PLANS[check.window] = found
    return found


def _make(check: Check) -> Plan:
    w = check.window
    if w.sliding is not None:
        return Plan("buckets", size=1.0, span=max(1, math.ceil(w.sliding)))
    if w.rolling is not None:
        return Plan("buckets", size=HOUR, span=max(1, math.ceil(w.rolling / HOUR)))
    if w.start is not None and w.end is not None:
        return Plan("total", reset=w.end)
    raise ValueError(f"check {check.counter}: a {check.kind} check needs a window")


async def recorded_spend(record: SpendRecord, check: Check, now: float) -> Spent:
    """What the durable record says ``check``'s owner spent; a 503 when it
    cannot be read (a budget is not counted from zero instead)."""
    try:
        return await record.spent(check, now)
    except Exception as exc:
        log.error(
            "cannot restore the budget counter %s from the request log (%s: %s): "
            "refusing its requests until it can",
            check.counter,
            type(exc).__name__,
            exc,
        )
        raise GatewayError(
            "overloaded",
            f"The budget of {check.scope} cannot be checked right now (its spend record is "
            "unreachable); try again shortly.",
            status=503,
            retry_after=1.0,
        ) from None


def seed_buckets(p: Plan, spent: Spent, now: float) -> dict[int, float]:
    """A bucketed counter's buckets from a durable record's hours: the
    counted ones, oldest first, and the current bucket (at 0 when nothing
    was spent) so that the counter exists."""
    current = p.bucket(now)
    buckets: dict[int, float] = {}
    for hour, usd in spent:
        b = p.bucket(hour)
        if p.counted(b, now):
            buckets[b] = buckets.get(b, 0.0) + usd
    buckets.setdefault(current, 0.0)
    return dict(sorted(buckets.items()))


def fits(check: Check, used: float) -> bool:
    """Whether the check lets the request in (a soft check always does)."""
    return not check.hard or used + check.amount <= check.limit


def new_lease(now: float) -> str:
    """A lease id: the admission's second (where settle finds its buckets)
    and a random part (the concurrency lease's member)."""
    return f"{math.floor(now)}:{secrets.token_hex(8)}"


def lease_second(lease: str) -> float:
    """The admission's second a lease was made at (ValueError: not a lease)."""
    second, sep, rest = lease.partition(":")
    if not sep or not rest:
        raise ValueError(f"not a counters lease: {lease!r}")
    return float(int(second))


Stored = Mapping[str, Sequence[tuple[int, float]]]
"""A backend's rows per counter name: (bucket, amount); a total is bucket 0,
a lease count is one (0, count) row."""


def decide(checks: Sequence[Check], plans: Sequence[Plan], stored: Stored, now: float) -> Verdict:
    """The verdict on ``checks`` given what is counted (no lease taken: the
    caller mints one if it counts)."""
    used: list[float] = []
    reset_at: list[float] = []
    refused: Check | None = None
    for check, p in zip(checks, plans, strict=True):
        rows = stored.get(check.counter, ())
        if p.layout == "buckets":
            counted = [(b, a) for b, a in rows if p.counted(b, now)]
            u = sum(a for _, a in counted)
            reset = p.reset_of(min((b for b, a in counted if a != 0), default=None), now)
        elif p.layout == "total":
            u, reset = sum(a for b, a in rows if b == 0), p.reset
        else:
            u, reset = sum(a for _, a in rows), now
        used.append(u)
        reset_at.append(reset)
        if refused is None and not fits(check, u):
            refused = check
    return Verdict(refused is None, refused, used, reset_at)
