"""The stores' contracts: small, async, one concern each.

- :class:`Records` keeps keys, teams and users (embedded: SQLite; shared:
  PostgreSQL).
- :class:`Counters` keeps what limits and budgets count, and decides a
  request's admission atomically in one operation (embedded: memory;
  shared: Redis, or PostgreSQL where no Redis is configured).
- :class:`SpendRecord` is the durable record of spend that the counters
  which can lose it (:class:`RestoresSpend`: memory, Redis) restore a
  budget's counter from.

Every backend passes the same suite (tests/stores/).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol, runtime_checkable

from junction.stores.records import KeyRecord, TeamRecord, UserRecord


class StoreUnavailable(Exception):
    """A store could not be reached or answered an error (never a client's fault)."""


class Records(Protocol):
    async def add_key(self, key: KeyRecord) -> None: ...

    async def key_by_hash(self, key_hash: str) -> KeyRecord | None: ...

    async def key(self, key_id: str) -> KeyRecord | None: ...

    async def keys(
        self, *, team: str | None = None, user: str | None = None
    ) -> list[KeyRecord]: ...

    async def put_key(self, key: KeyRecord) -> None:
        """Replace a key's record (the same ``id``); revocation and rotation go through here."""
        ...

    async def add_team(self, team: TeamRecord) -> None: ...

    async def team(self, team_id: str) -> TeamRecord | None: ...

    async def teams(self) -> list[TeamRecord]: ...

    async def put_team(self, team: TeamRecord) -> None: ...

    async def delete_team(self, team_id: str) -> bool: ...

    async def add_user(self, user: UserRecord) -> None: ...

    async def user(self, user_id: str) -> UserRecord | None: ...

    async def users(self, *, team: str | None = None) -> list[UserRecord]: ...

    async def put_user(self, user: UserRecord) -> None: ...

    async def delete_user(self, user_id: str) -> bool: ...

    async def close(self) -> None: ...


CheckKind = Literal["requests", "tokens", "parallel", "spend"]


@dataclass(frozen=True, slots=True)
class Window:
    """Where a counter counts. ``sliding`` seconds (rpm/tpm: 60, counted in
    one-second buckets); a fixed period ``[start, end)`` (a calendar budget:
    the counter's name includes ``start``, so a new period starts at zero);
    ``rolling`` seconds (a rolling budget, in hour buckets); or none (a
    concurrency lease, released by settle)."""

    sliding: float | None = None
    start: float | None = None
    end: float | None = None
    rolling: float | None = None


@dataclass(slots=True)
class Check:
    """One counter a request must fit in: ``used + amount <= limit``.

    A value: nothing changes a check once it is made (it is not frozen only
    because a frozen dataclass costs four times as much to make, and the
    policy makes several per request)."""

    scope: str
    """Who or what is counted: ``key:<id>``, ``team:<id>``, ``user:<id>``,
    ``model:<name>``, ``deployment:<endpoint id>``."""
    kind: CheckKind
    limit: float
    amount: float
    """1 for requests and parallel; estimated tokens; reserved USD."""
    window: Window
    hard: bool = True
    """A soft check never refuses; its result says whether it was passed."""
    counter: str = field(init=False, repr=False, compare=False)
    """The counter's name (the same on every backend and process)."""

    def __post_init__(self) -> None:
        start = self.window.start
        period = f":{int(start)}" if start is not None else ""
        self.counter = f"{self.scope}:{self.kind}{period}"

    def sized(self, amount: float) -> Check:
        """The same check for another amount (its counter name kept, not remade)."""
        made = object.__new__(Check)
        made.scope, made.kind, made.limit = self.scope, self.kind, self.limit
        made.amount, made.window, made.hard = amount, self.window, self.hard
        made.counter = self.counter
        return made


@dataclass(slots=True)
class Verdict:
    """The answer to an admission: admitted or not, and what each check saw."""

    admitted: bool
    refused: Check | None = None
    """The first hard check that did not fit (nothing was counted then)."""
    used: list[float] = field(default_factory=list)
    """Per check, in order: what was used before this request."""
    reset_at: list[float] = field(default_factory=list)
    """Per check: when (epoch seconds) enough frees up for this request again."""
    lease: str = ""
    """Identifies this admission for :meth:`Counters.settle`."""


@dataclass(slots=True)
class Correction:
    """After the call: replace a check's amount by what was really used
    (tokens, USD), or release a concurrency lease (``actual`` ignored)."""

    check: Check
    actual: float


Spent = Sequence[tuple[float, float]]
"""What a durable record says was spent: (the start of an hour, USD spent in it)."""


class SpendRecord(Protocol):
    """The durable record of spend (the request log's hourly rollup) that a
    budget's counter is restored from when the counter store has lost it."""

    async def spent(self, check: Check, now: float) -> Spent:
        """What ``check.scope`` (``key:``, ``team:`` or ``user:``) spent in
        ``check.window`` up to ``now``, per hour."""
        ...


class Counters(Protocol):
    async def admit(self, checks: Sequence[Check], now: float) -> Verdict:
        """Count every check or none, atomically (across processes for the
        shared backends): admitted only if every hard check fits."""
        ...

    async def settle(self, lease: str, corrections: Sequence[Correction], now: float) -> None:
        """Correct an admitted request's estimates and release its leases."""
        ...

    async def seed(self, check: Check, spent: Spent, now: float) -> None:
        """Set a spend counter that is missing from what the durable record
        says was spent in its window (``spent``); a no-op if the counter is
        there (set-if-absent, atomically: two processes seeding the same
        counter never both count)."""
        ...

    async def close(self) -> None: ...


@runtime_checkable
class RestoresSpend(Protocol):
    """Counters that can lose what they counted (Redis data loss, a process
    restart): given the durable record, each admission that finds a budget's
    counter missing seeds it from the record before counting."""

    def restore_spend_from(self, record: SpendRecord) -> None: ...


Settle = tuple[str, Sequence[Correction]]
"""One admitted request's settle: its lease and its corrections."""


@runtime_checkable
class SettlesMany(Protocol):
    """Counters that settle a batch of requests in one operation (memory:
    one call; Redis: one pipelined round trip)."""

    async def settle_many(self, settles: Sequence[Settle], now: float) -> None:
        """:meth:`Counters.settle` for each, in order."""
        ...


@runtime_checkable
class SettlesNow(Protocol):
    """Counters in this process's memory, which settle without awaiting
    anything: the policy settles them from an event-loop callback, after the
    request, without a task."""

    def settle_now(self, settles: Sequence[Settle], now: float) -> None: ...


@runtime_checkable
class CounterReader(Protocol):
    """An optional ability of a :class:`Counters` backend: read without counting."""

    async def peek(self, checks: Sequence[Check], now: float) -> Verdict:
        """What :meth:`Counters.admit` would answer for ``checks`` at ``now``
        (``used`` and ``reset_at`` per check), counting nothing and taking no
        lease (the admin API's current use of a limit)."""
        ...
