"""Rate limits (requests and tokens per minute, concurrent requests) and
budgets of the key, its team and its user, declared as counter checks that
:class:`~junction.policy.admission.Admission` decides together."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from junction.config import Model
from junction.gateway.trace import Principal
from junction.policy.periods import Periods
from junction.policy.stage import Call
from junction.stores import Check, Limits, Window

MINUTE = Window(sliding=60.0)
LEASE = Window()


def _owners(principal: Principal) -> Iterator[tuple[str, Limits]]:
    """(scope, limits) of the key, its team and its user."""
    if principal.key is not None:
        yield f"key:{principal.key.id}", principal.key.limits
    if principal.team is not None:
        yield f"team:{principal.team.id}", principal.team.limits
    if principal.user is not None:
        yield f"user:{principal.user.id}", principal.user.limits


class RateLimits:
    def __init__(self, models: Mapping[str, Model] | None = None) -> None:
        self.models = {
            name: m for name, m in (models or {}).items() if m.rpm is not None or m.tpm is not None
        }
        """Models with limits of their own (for every caller together)."""

    async def enter(self, call: Call) -> None:
        model = self.models.get(call.route.name)
        if model is not None:
            scope = f"model:{call.route.name}"
            if model.rpm is not None:
                call.checks.append(Check(scope, "requests", model.rpm, 1, MINUTE))
            if model.tpm is not None:
                call.checks.append(Check(scope, "tokens", model.tpm, _tokens(call), MINUTE))
        principal = call.principal
        if principal is None or principal.key is None:
            return
        for scope, limits in _owners(principal):
            if limits.rpm is not None:
                call.checks.append(Check(scope, "requests", limits.rpm, 1, MINUTE))
            if limits.tpm is not None:
                call.checks.append(Check(scope, "tokens", limits.tpm, _tokens(call), MINUTE))
            if limits.max_parallel is not None:
                call.checks.append(Check(scope, "parallel", limits.max_parallel, 1, LEASE))

    def leave(self, call: Call) -> None:
        return None  # settled with the rest by Admission


def _tokens(call: Call) -> int:
    """The tokens a request is counted for before the call: the prompt
    estimate and its ``max_tokens`` (corrected to the real use after)."""
    return call.prompt_tokens + (getattr(call.request, "max_tokens", None) or 0)


class Budgets:
    """Hard budgets reserve the request's most possible cost before the
    call; a soft budget alone is counted without refusing."""

    def __init__(self, periods: Periods) -> None:
        self.periods = periods

    async def enter(self, call: Call) -> None:
        principal = call.principal
        if principal is None or principal.key is None:
            return
        for scope, limits in _owners(principal):
            hard, soft = limits.budget_usd, limits.soft_budget_usd
            if hard is None and soft is None:
                continue
            window = self.periods.window(limits.budget_period, call.now)
            limit = hard if hard is not None else soft
            assert limit is not None
            check = Check(scope, "spend", limit, call.cost_estimate, window, hard=hard is not None)
            call.checks.append(check)
            if soft is not None:
                call.soft_budgets.append((check, soft))

    def leave(self, call: Call) -> None:
        return None  # settled with the rest by Admission
