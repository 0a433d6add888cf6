"""A deployment's own rate limits (``rpm`` / ``tpm`` in its config): the
attempt loop skips an endpoint at its limit, as it passes over a resting
one, instead of sending it a request that would bounce with a 429.

Counted on the gateway's counters (shared across processes on Redis or
PostgreSQL) under ``deployment:<endpoint id>``: one request per attempt in
a 60-second sliding window, and the prompt's estimated tokens, corrected to
the real total (prompt + completion) when the attempt ends.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable
from dataclasses import dataclass

from junction.gateway.routes import Endpoint
from junction.stores import Check, Correction, Counters, Window
from junction.types import GatewayError, Usage

MINUTE = Window(sliding=60)


@dataclass(frozen=True, slots=True)
class Reservation:
    """What an admitted attempt counted (``tokens``: its tpm check, to correct)."""

    lease: str
    tokens: Check | None


def checks(ep: Endpoint, tokens: int) -> list[Check]:
    dep, scope = ep.deployment, f"deployment:{ep.info.id}"
    out: list[Check] = []
    if dep.rpm is not None:
        out.append(Check(scope, "requests", dep.rpm, 1, MINUTE))
    if dep.tpm is not None:
        out.append(Check(scope, "tokens", dep.tpm, tokens, MINUTE))
    return out


class DeploymentLimits:
    """Admits attempts against their endpoint's own limits."""

    def __init__(self, counters: Counters, clock: Callable[[], float]) -> None:
        self.counters = counters
        self.clock = clock
        self._settling: set[asyncio.Task[None]] = set()

    async def reserve(self, ep: Endpoint, tokens: int) -> Reservation | GatewayError:
        """The attempt's reservation, or the error saying the endpoint is at
        its limit (a 429 with when it frees up)."""
        wanted = checks(ep, tokens)
        if not wanted:
            return Reservation("", None)
        now = self.clock()
        verdict = await self.counters.admit(wanted, now)
        if verdict.admitted:
            tpm = next((c for c in wanted if c.kind == "tokens"), None)
            return Reservation(verdict.lease, tpm)
        refused = verdict.refused
        assert refused is not None
        reset = verdict.reset_at[wanted.index(refused)]
        unit = "requests" if refused.kind == "requests" else "tokens"
        return GatewayError(
            "rate_limit",
            f"{ep.label} is at its own limit of {refused.limit:g} {unit} per minute "
            f"({'rpm' if unit == 'requests' else 'tpm'} in its config); frees up in "
            f"{max(reset - now, 0):.0f} s",
            status=429,
            retry_after=float(max(math.ceil(reset - now), 1)),
        )

    def settle(self, reservation: Reservation, usage: Usage | None) -> None:
        """Correct the token estimate in the background (the response does
        not wait for the store)."""
        if reservation.tokens is None:
            return
        actual = 0 if usage is None else usage.prompt_tokens + usage.completion_tokens
        fix = [Correction(reservation.tokens, actual)]
        task = asyncio.create_task(self.counters.settle(reservation.lease, fix, self.clock()))
        self._settling.add(task)
        task.add_done_callback(self._settled)

    def _settled(self, task: asyncio.Task[None]) -> None:
        self._settling.discard(task)
        if not task.cancelled():
            task.exception()  # a lost correction only makes the estimate stand

    async def drain(self) -> None:
        """Wait for the corrections in flight (tests, shutdown)."""
        while self._settling:
            await asyncio.gather(*self._settling, return_exceptions=True)
