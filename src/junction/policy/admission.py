"""Decide every declared check in one counter operation (one round trip on
the shared stores), refuse with 429 and the limit's state, and settle the
real tokens and cost when the request is over."""

from __future__ import annotations

import asyncio
import logging
import math
import time
from datetime import UTC, datetime

from junction.policy.periods import describe
from junction.policy.stage import Call
from junction.stores import Check, Correction, Counters, Verdict
from junction.types import GatewayError

log = logging.getLogger("junction.policy")

WARN_EVERY = 60.0
"""Seconds between log lines about one soft budget."""


class Admission:
    def __init__(self, counters: Counters) -> None:
        self.counters = counters
        self._settling: set[asyncio.Task[None]] = set()
        self._warned: dict[str, float] = {}
        self.soft_budget_warnings = 0

    async def enter(self, call: Call) -> None:
        if not call.checks:
            return
        verdict = await self.counters.admit(call.checks, call.now)
        call.verdict = verdict
        call.headers.extend(_rate_headers(call.checks, verdict, call.now))
        if not verdict.admitted:
            raise _refusal(call, verdict)
        for check, soft in call.soft_budgets:
            spent = verdict.used[call.checks.index(check)] + check.amount
            if spent > soft:
                self._soft_warning(call, check, soft, spent)

    def leave(self, call: Call) -> None:
        verdict = call.verdict
        if verdict is None or not verdict.admitted:
            return
        usage = call.usage
        tokens = usage.prompt_tokens + usage.completion_tokens if usage is not None else 0
        spent = (usage.cost or 0.0) if usage is not None else 0.0
        fixes = [
            Correction(c, spent if c.kind == "spend" else float(tokens))
            for c in call.checks
            if c.kind != "requests"
        ]
        if not fixes:
            return
        task = asyncio.get_running_loop().create_task(self._settle(verdict.lease, fixes))
        self._settling.add(task)
        task.add_done_callback(self._settling.discard)

    async def _settle(self, lease: str, fixes: list[Correction]) -> None:
        try:
            await self.counters.settle(lease, fixes, time.time())
        except Exception:  # a lost settle over-counts; it must not break the loop
            log.exception("settling a request's counters failed")

    async def drain(self) -> None:
        """Wait for the settles in flight (shutdown, tests)."""
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


_SUFFIX = {"requests": "requests", "tokens": "tokens"}


def _rate_headers(checks: list[Check], verdict: Verdict, now: float) -> list[tuple[str, str]]:
    """OpenAI's ``x-ratelimit-*`` headers for the key's tightest rpm and tpm."""
    headers: list[tuple[str, str]] = []
    seen: set[str] = set()
    for i, check in enumerate(checks):
        suffix = _SUFFIX.get(check.kind)
        if suffix is None or suffix in seen:
            continue
        seen.add(suffix)
        used = verdict.used[i] + (check.amount if verdict.admitted else 0)
        remaining = max(0, int(check.limit - used))
        reset = max(0.0, verdict.reset_at[i] - now)
        headers += [
            (f"x-ratelimit-limit-{suffix}", str(int(check.limit))),
            (f"x-ratelimit-remaining-{suffix}", str(remaining)),
            (f"x-ratelimit-reset-{suffix}", f"{reset:.0f}s"),
        ]
    return headers


def _refusal(call: Call, verdict: Verdict) -> GatewayError:
    check = verdict.refused
    assert check is not None
    i = call.checks.index(check)
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
