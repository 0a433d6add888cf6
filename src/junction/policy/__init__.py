"""The gateway's policy: stages around the attempt loop, in one order.

1. authentication (:class:`~junction.policy.auth.Authenticator`, at the door,
   before the body is read);
2. :class:`~junction.policy.permissions.KeyPermissions`: the key's models,
   its provider defaults;
3. :class:`~junction.policy.limits.RateLimits` and
   :class:`~junction.policy.limits.Budgets` declare the counters the request
   must fit in;
4. :class:`~junction.policy.admission.Admission` decides them together, in
   one counter operation, and settles the real tokens and cost afterwards;
5. :class:`~junction.policy.cache.ResponseCaching`, the response cache, for
   every caller (with a key or not): a hit is answered without calling
   upstream, after the limits and budget had their say.

Each stage is one small class (policy/stage.py has the contract) and can be
tested alone; :class:`Policy` runs them in order and leaves them in reverse.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence

from junction.config import Config
from junction.gateway.routes import ModelRoute
from junction.gateway.trace import Principal, Trace
from junction.policy.admission import Admission
from junction.policy.auth import Authenticator
from junction.policy.cache import EmbedCall, ResponseCaching, response_caching
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
        everyone: Sequence[Stage] = (),
    ) -> None:
        self.stages = tuple(stages)
        """The stages of a key's request."""
        self.everyone = tuple(everyone)
        """Stages for every caller, after the others: without a key and with
        the master key too (the response cache)."""
        self.clock = clock
        self.anonymous = anonymous
        """Run the stages for callers without a key too (models have limits)."""

    def _for(self, key: Principal | None) -> tuple[Stage, ...]:
        keyed = (key is None and self.anonymous) or (key is not None and not key.admin)
        return self.stages + self.everyone if keyed else self.everyone

    def runs_for(self, key: Principal | None) -> bool:
        """Whether a request with ``key`` has any stage to run."""
        return bool(self._for(key))

    async def enter(
        self, trace: Trace, request: ChatRequest | EmbeddingRequest, route: ModelRoute
    ) -> Call | None:
        """Run the stages; None when there is nothing to run (no key, and no
        model limits; or the master key; and no response cache)."""
        stages = self._for(trace.key)
        if not stages:
            return None
        call = Call(trace, request, route, self.clock(), stages=stages)
        entered: list[Stage] = []
        try:
            for stage in stages:
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
        for stage in reversed(call.stages):
            stage.leave(call)

    async def close(self) -> None:
        """Close the stages that hold something (the cache's writes and backends)."""
        for stage in (*self.stages, *self.everyone):
            close = getattr(stage, "close", None)
            if close is not None:
                await close()


def build_policy(
    config: Config,
    stores: Stores,
    clock: Callable[[], float] = time.time,
    *,
    env: Mapping[str, str] | None = None,
    embed: EmbedCall | None = None,
) -> tuple[Policy, Admission]:
    """The stages in their order (the one place it is written). ``embed`` is
    the gateway's embeddings path, for a semantic cache on an embedding model."""
    admission = Admission(stores.counters)
    stages: list[Stage] = [
        KeyPermissions(),
        RateLimits(config.models),
        Budgets(Periods(config.stores.timezone)),
        admission,
    ]
    cache = response_caching(config, env or {}, embed)
    limited = any(m.rpm is not None or m.tpm is not None for m in config.models.values())
    everyone = [cache] if cache is not None else []
    return Policy(stages, clock, anonymous=limited, everyone=everyone), admission


__all__ = [
    "Admission",
    "Authenticator",
    "Call",
    "Policy",
    "ResponseCaching",
    "Stage",
    "build_policy",
]
