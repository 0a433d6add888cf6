"""Rate limits (requests and tokens per minute, concurrent requests) and
budgets of the key, its team and its user, declared as counter checks that
:class:`~junction.policy.admission.Admission` decides together.

What a principal's limits declare is made once per principal (policy/stage.py
:class:`~junction.policy.stage.PerPrincipal`): each request then only sizes
the checks whose amount is its own (tokens, cost).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from junction.config import Model
from junction.gateway.trace import Principal
from junction.policy.periods import Periods
from junction.policy.stage import Call, PerPrincipal
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


def _rate_checks(scope: str, rpm: int | None, tpm: int | None, parallel: int | None) -> list[Check]:
    """The checks of one owner's rate limits, in their order (a tokens
    check's amount is set per request)."""
    made: list[Check] = []
    if rpm is not None:
        made.append(Check(scope, "requests", rpm, 1, MINUTE))
    if tpm is not None:
        made.append(Check(scope, "tokens", tpm, 0, MINUTE))
    if parallel is not None:
        made.append(Check(scope, "parallel", parallel, 1, LEASE))
    return made


def _principal_checks(principal: Principal) -> list[Check]:
    if principal.key is None:
        return []
    return [
        check
        for scope, limits in _owners(principal)
        for check in _rate_checks(scope, limits.rpm, limits.tpm, limits.max_parallel)
    ]


class RateLimits:
    def __init__(self, models: Mapping[str, Model] | None = None) -> None:
        self.models = {
            name: _rate_checks(f"model:{name}", m.rpm, m.tpm, None)
            for name, m in (models or {}).items()
            if m.rpm is not None or m.tpm is not None
        }
        """The checks of models with limits of their own (for every caller together)."""
        self._declared = PerPrincipal(_principal_checks)

    async def enter(self, call: Call) -> None:
        model = self.models.get(call.route.name)
        principal = call.principal
        declared = self._declared.get(principal) if principal is not None else None
        if model is None and not declared:
            return
        checks = call.checks
        tokens: int | None = None
        for template in (*(model or ()), *(declared or ())):
            if template.kind == "tokens":
                if tokens is None:
                    tokens = _tokens(call)
                template = template.sized(tokens)
            checks.append(template)

    def leave(self, call: Call) -> None:
        return None  # settled with the rest by Admission


def _tokens(call: Call) -> int:
    """The tokens a request is counted for before the call: the prompt
    estimate and its ``max_tokens`` (corrected to the real use after)."""
    return call.prompt_tokens + (getattr(call.request, "max_tokens", None) or 0)


@dataclass(slots=True)
class _Budget:
    """One owner's budget: its check in the current period, made again
    when the period moves on."""

    scope: str
    period: str
    limit: float
    hard: bool
    soft: float | None
    check: Check | None = None


def _principal_budgets(principal: Principal) -> list[_Budget]:
    if principal.key is None:
        return []
    made = []
    for scope, limits in _owners(principal):
        hard, soft = limits.budget_usd, limits.soft_budget_usd
        limit = hard if hard is not None else soft
        if limit is not None:
            made.append(_Budget(scope, limits.budget_period, limit, hard is not None, soft))
    return made


def _holds(window: Window, now: float) -> bool:
    """Whether a budget's window is still the current one (a calendar
    period until its end; a rolling or total window always)."""
    start, end = window.start, window.end
    return start is None or end is None or start <= now < end


class Budgets:
    """Hard budgets reserve the request's most possible cost before the
    call; a soft budget alone is counted without refusing."""

    def __init__(self, periods: Periods) -> None:
        self.periods = periods
        self._budgets = PerPrincipal(_principal_budgets)

    async def enter(self, call: Call) -> None:
        principal = call.principal
        if principal is None:
            return
        budgets = self._budgets.get(principal)
        if not budgets:
            return
        estimate = call.cost_estimate
        now, checks = call.now, call.checks
        for budget in budgets:
            template = budget.check
            if template is None or not _holds(template.window, now):
                window = self.periods.window(budget.period, now)
                template = budget.check = Check(
                    budget.scope, "spend", budget.limit, 0.0, window, hard=budget.hard
                )
            if budget.soft is not None:
                call.soft_budgets.append((len(checks), budget.soft))
            checks.append(template.sized(estimate))

    def leave(self, call: Call) -> None:
        return None  # settled with the rest by Admission
