"""The gateway's policy: stages around the attempt loop, in one order.

1. authentication (:class:`~junction.policy.auth.Authenticator`, at the door,
   before the body is read);
2. :class:`~junction.policy.permissions.KeyPermissions`: the key's models,
   its provider defaults;
3. :class:`~junction.policy.limits.RateLimits` and
   :class:`~junction.policy.limits.Budgets` declare the counters the request
   must fit in;
4. :class:`~junction.policy.admission.Admission` decides them together, in
   one counter operation, and settles the real tokens and cost afterwards.

Each stage is one small class (policy/stage.py has the contract) and can be
tested alone; :class:`Policy` runs them in order and leaves them in reverse.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from junction.config import Config
from junction.gateway.routes import ModelRoute
from junction.gateway.trace import Trace
from junction.policy.admission import Admission
from junction.policy.auth import Authenticator
from junction.policy.limits import Budgets, RateLimits
from junction.policy.periods import Periods
from junction.policy.permissions import KeyPermissions
from junction.policy.stage import Call, Stage
from junction.stores import Stores
from junction.types import ChatRequest, EmbeddingRequest, GatewayError


class Policy:
    def __init__(
        self,
        stages: Sequence[Stage],
        clock: Callable[[], float] = time.time,
        *,
        anonymous: bool = False,
    ) -> None:
        self.stages = tuple(stages)
        self.clock = clock
        self.anonymous = anonymous
        """Run the stages for callers without a key too (models have limits)."""

    async def enter(
        self, trace: Trace, request: ChatRequest | EmbeddingRequest, route: ModelRoute
    ) -> Call | None:
        """Run the stages; None when there is nothing to run (no key, and no
        model limits; or the master key)."""
        key = trace.key
        if (key is None and not self.anonymous) or (key is not None and key.admin):
            return None
        call = Call(trace, request, route, self.clock())
        entered: list[Stage] = []
        try:
            for stage in self.stages:
                await stage.enter(call)
                entered.append(stage)
        except BaseException as exc:
            call.error = exc if isinstance(exc, GatewayError) else None
            for stage in reversed(entered):
                stage.leave(call)
            raise
        trace.headers.extend(call.headers)
        return call

    def leave(self, call: Call | None) -> None:
        if call is None:
            return
        for stage in reversed(self.stages):
            stage.leave(call)


def build_policy(
    config: Config, stores: Stores, clock: Callable[[], float] = time.time
) -> tuple[Policy, Admission]:
    """The stages in their order (the one place it is written)."""
    admission = Admission(stores.counters)
    stages: list[Stage] = [
        KeyPermissions(),
        RateLimits(config.models),
        Budgets(Periods(config.stores.timezone)),
        admission,
    ]
    limited = any(m.rpm is not None or m.tpm is not None for m in config.models.values())
    return Policy(stages, clock, anonymous=limited), admission


__all__ = ["Admission", "Authenticator", "Call", "Policy", "Stage", "build_policy"]
