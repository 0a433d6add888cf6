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

A counter expires (TTL) after its window, plus a day for a calendar total.
"""

from __future__ import annotations

import math
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from junction.stores.protocols import Check, Verdict

LEASE_SECONDS = 15 * 60.0
"""A concurrency lease's life when nobody releases it (a crashed process)."""
CALENDAR_GRACE = 86400.0
"""How long a calendar total outlives its period (late settles, reporting)."""
SEED_SECONDS = 33 * 86400.0
"""A seeded total's life (the longest calendar period, a month, plus grace)."""
HOUR = 3600.0

Layout = Literal["buckets", "total", "leases"]


@dataclass(frozen=True, slots=True)
class Plan:
    """Where one check is counted at one instant."""

    layout: Layout
    size: float = 1.0
    """Bucket width in seconds (buckets)."""
    span: int = 0
    """Buckets in the window (buckets)."""
    reset: float = 0.0
    """The period's end (total)."""
    ttl: float = 0.0
    """Seconds the stored counter lives after this write."""

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


def plan(check: Check, now: float) -> Plan:
    """The layout of ``check``'s counter (ValueError: a window it cannot have)."""
    w = check.window
    if check.kind == "parallel":
        return Plan("leases", ttl=LEASE_SECONDS)
    if w.sliding is not None:
        span = max(1, math.ceil(w.sliding))
        return Plan("buckets", size=1.0, span=span, ttl=span + 1.0)
    if w.rolling is not None:
        span = max(1, math.ceil(w.rolling / HOUR))
        return Plan("buckets", size=HOUR, span=span, ttl=(span + 1) * HOUR)
    if w.start is not None and w.end is not None:
        return Plan("total", reset=w.end, ttl=max(w.end - now, 0.0) + CALENDAR_GRACE)
    raise ValueError(f"check {check.counter}: a {check.kind} check needs a window")


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
