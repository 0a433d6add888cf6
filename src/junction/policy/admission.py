"""Decide every declared check in one counter operation (one round trip on
the shared stores), refuse with 429 and the limit's state, and settle the
real tokens and cost when the request is over."""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Coroutine
from datetime import UTC, datetime
from typing import Any

from junction.policy.periods import describe
from junction.policy.stage import Call
from junction.stores import (
    Check,
    Correction,
    Counters,
    Settle,
    SettlesMany,
    SettlesNow,
    Verdict,
)
from junction.types import GatewayError

log = logging.getLogger("junction.policy")

WARN_EVERY = 60.0
"""Seconds between log lines about one soft budget."""


class Admission:
    """The stage that decides. A request never waits for its settle: settles
    are queued and sent in batches (every request that left since the last
    batch, in one call: one pipelined round trip on Redis) by one background
    task, or, for the counters in this process's memory, by one event-loop
    callback (no task at all)."""

    def __init__(self, counters: Counters) -> None:
        self.counters = counters
        self._batched: SettlesMany | None = counters if isinstance(counters, SettlesMany) else None
        self._inline: SettlesNow | None = counters if isinstance(counters, SettlesNow) else None
        self._queued: list[Settle] = []
        self._called = False
        """A callback settling the queue is scheduled (in-process counters)."""
        self._drainer: asyncio.Task[None] | None = None
        self._settling: set[asyncio.Task[None]] = set()
        self._warned: dict[str, float] = {}
        self.soft_budget_warnings = 0

    async def enter(self, call: Call) -> None:
        checks = call.checks
        if not checks:
            return
        verdict = await self.counters.admit(checks, call.now)
        call.verdict = verdict
        call.headers.extend(_rate_headers(checks, verdict, call.now))
        if not verdict.admitted:
            raise _refusal(call, verdict)
        for i, soft in call.soft_budgets:
            spent = verdict.used[i] + checks[i].amount
            if spent > soft:
                self._soft_warning(call, checks[i], soft, spent)

    def leave(self, call: Call) -> None:
        verdict = call.verdict
        if verdict is None or not verdict.admitted:
            return
        usage = call.usage
        tokens = float(usage.prompt_tokens + usage.completion_tokens) if usage is not None else 0.0
        spent = (usage.cost or 0.0) if usage is not None else 0.0
        fixes = [
            Correction(c, spent if c.kind == "spend" else tokens)
            for c in call.checks
            if c.kind != "requests"
        ]
        if not fixes:
            return
        if self._batched is None:
            self._start(self._settle(verdict.lease, fixes))
            return
        self._queued.append((verdict.lease, fixes))
        if self._inline is not None:
            if not self._called:
                self._called = True
                asyncio.get_running_loop().call_soon(self._settle_now)
        elif self._drainer is None:
            self._drainer = self._start(self._settle_queued())

    def _settle_now(self) -> None:
        inline = self._inline
        assert inline is not None
        batch, self._queued, self._called = self._queued, [], False
        try:
            inline.settle_now(batch, time.time())
        except Exception:  # lost settles over-count; they must not break the loop
            log.exception("settling %d requests' counters failed", len(batch))

    def _start(self, work: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = asyncio.get_running_loop().create_task(work)
        self._settling.add(task)
        task.add_done_callback(self._settling.discard)
        return task

    async def _settle(self, lease: str, fixes: list[Correction]) -> None:
        try:
            await self.counters.settle(lease, fixes, time.time())
        except Exception:  # a lost settle over-counts; it must not break the loop
            log.exception("settling a request's counters failed")

    async def _settle_queued(self) -> None:
        batched = self._batched
        assert batched is not None
        try:
            while self._queued:
                batch, self._queued = self._queued, []
                try:
                    await batched.settle_many(batch, time.time())
                except Exception:  # lost settles over-count; they must not break the loop
                    log.exception("settling %d requests' counters failed", len(batch))
        finally:
            self._drainer = None  # with nothing queued: the next leave starts another

    async def drain(self) -> None:
        """Wait for the settles queued and in flight (shutdown, tests)."""
        if self._inline is not None and self._queued:
            self._settle_now()
        while self._settling:
            await asyncio.gather(*list(self._settling), return_exceptions=True)

    def _soft_warning(self, call: Call, check: Check, soft: float, spent: float) -> None:
        self.soft_budget_warnings += 1
        call.headers.append(
            ("x-junction-budget-warning", f"{check.scope} soft budget ${soft:g} passed")
        )
        last = self._warned.get(check.counter, -math.inf)
        if call.now - last >= WARN_EVERY:
            self._warned[check.counter] = call.now
            log.warning(
                "%s has passed its soft budget of $%g (spent about $%.6f)", check.scope, soft, spent
            )


def _index(checks: list[Check], check: Check) -> int:
    """Where ``check`` (this very object) is in ``checks``."""
    for i, c in enumerate(checks):
        if c is check:
            return i
    raise ValueError(f"{check.counter} is not one of the request's checks")


_HEADERS = {
    kind: (
        bit,
        f"x-ratelimit-limit-{kind}",
        f"x-ratelimit-remaining-{kind}",
        f"x-ratelimit-reset-{kind}",
    )
    for bit, kind in ((1, "requests"), (2, "tokens"))
}
_SECONDS = [f"{s}s" for s in range(121)]
"""``x-ratelimit-reset-*`` values of a minute's window, made once."""
_LIMITS: dict[float, str] = {}
"""``x-ratelimit-limit-*`` values seen (one per distinct limit)."""


def _rate_headers(checks: list[Check], verdict: Verdict, now: float) -> list[tuple[str, str]]:
    """OpenAI's ``x-ratelimit-*`` headers for the first rpm and the first
    tpm check (the key's own when it has one; else its team's, then its
    user's; a model's own limit comes first)."""
    headers: list[tuple[str, str]] = []
    seen = 0
    admitted, used, reset_at = verdict.admitted, verdict.used, verdict.reset_at
    for i, check in enumerate(checks):
        names = _HEADERS.get(check.kind)
        if names is None or names[0] & seen:
            continue
        seen |= names[0]
        limit = check.limit
        shown = _LIMITS.get(limit)
        if shown is None:
            shown = str(int(limit))
            if len(_LIMITS) < 10_000:
                _LIMITS[limit] = shown
        spent = used[i] + check.amount if admitted else used[i]
        # round(): what f"{x:.0f}" prints (both round half to even), at a third of its cost
        wait = round(max(0.0, reset_at[i] - now))
        headers.append((names[1], shown))
        headers.append((names[2], str(max(0, int(limit - spent)))))
        headers.append((names[3], _SECONDS[wait] if wait <= 120 else f"{wait}s"))
        if seen == 3:
            break
    return headers


def _refusal(call: Call, verdict: Verdict) -> GatewayError:
    check = verdict.refused
    assert check is not None
    i = _index(call.checks, check)
    reset_at = verdict.reset_at[i]
    wait = max(1.0, reset_at - call.now) if math.isfinite(reset_at) else None
    owner, _, ident = check.scope.partition(":")
    who = f"The {owner} {ident}"
    if check.kind == "spend":
        when = (
            f"it resets at {datetime.fromtimestamp(reset_at, UTC).isoformat()}"
            if math.isfinite(reset_at)
            else "it does not reset (a total budget)"
        )
        message = (
            f"{who} has reached its budget of ${check.limit:g} ({describe(check.window)}: "
            f"${verdict.used[i]:.6f} spent or reserved, this request may cost up to "
            f"${check.amount:.6f}); {when}."
        )
        code = "budget_exceeded"
    elif check.kind == "parallel":
        message = f"{who} already has {int(check.limit)} requests in flight, its limit."
        wait, code = 1.0, "concurrency_limit_exceeded"
    else:
        per = "requests" if check.kind == "requests" else "tokens"
        message = (
            f"{who} has reached its limit of {int(check.limit)} {per} per minute; "
            f"retry in {math.ceil(wait or 1):d} s."
        )
        code = "rate_limit_exceeded"
    return GatewayError(
        "rate_limit", message, code=code, retry_after=wait, headers=tuple(call.headers)
    )
