"""The contract every policy stage keeps, and the request it works on.

A stage is a small class with two methods (and may have ``close``, awaited
when the gateway shuts down). ``enter`` runs before the
attempt loop and may refuse the request by raising a
:class:`~junction.types.GatewayError`; ``leave`` runs exactly once after
the request is over (answered, failed, or cut off mid-stream) for every
stage that was entered, in reverse order. ``leave`` is synchronous: a
stage that writes somewhere hands the write to a background task.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Generic, Protocol, TypeVar

from junction.cache.answer import Answer
from junction.catalog import Price, cost
from junction.gateway.routes import ModelRoute
from junction.gateway.tokens import estimate_prompt_tokens, estimate_text_tokens
from junction.gateway.trace import Principal, Trace
from junction.stores import Check, Verdict
from junction.types import ChatRequest, ChatResponse, EmbeddingRequest, GatewayError, Usage


@dataclass(slots=True)
class Call:
    """One request on its way through the stages."""

    trace: Trace
    request: ChatRequest | EmbeddingRequest
    route: ModelRoute
    now: float
    """Epoch seconds when the request entered (the policy's clock)."""
    checks: list[Check] = field(default_factory=list)
    """Counters the request must fit in, declared by the stages, decided
    together by :class:`~junction.policy.admission.Admission`."""
    soft_budgets: list[tuple[int, float]] = field(default_factory=list)
    """(where the spend check is in ``checks``, its soft limit): past it the
    request passes with a warning."""
    verdict: Verdict | None = None
    headers: list[tuple[str, str]] = field(default_factory=list)
    """Response headers the stages add (budget warnings, rate-limit state)."""
    usage: Usage | None = None
    """What the request used, cost included (set before ``leave``)."""
    error: GatewayError | None = None
    cancelled: bool = False
    cached: ChatResponse | None = None
    """An answer a stage already has (the response cache's hit): the gateway
    answers with it, in the client's dialect, and calls no upstream."""
    answer: Answer | None = None
    """Set by a stage that keeps the answer (the response cache, on a miss):
    the gateway fills it in before ``leave`` (the response, or the stream's
    events as they pass)."""
    stages: tuple[Stage, ...] = ()
    """The stages this call entered, in order (left in reverse)."""
    _prompt_tokens: int | None = None
    _cost_estimate: float | None = None

    @property
    def principal(self) -> Principal | None:
        return self.trace.key

    @property
    def prompt_tokens(self) -> int:
        """An estimate of the prompt's tokens (computed once, when asked)."""
        if self._prompt_tokens is None:
            request = self.request
            if isinstance(request, ChatRequest):
                self._prompt_tokens = estimate_prompt_tokens(request)
            else:
                self._prompt_tokens = sum(
                    estimate_text_tokens(len(i)) if isinstance(i, str) else len(i)
                    for i in request.input
                )
        return self._prompt_tokens

    @property
    def output_tokens(self) -> int:
        """The most output tokens the request may produce (its ``max_tokens``,
        else the model's largest output, else 4,096)."""
        request = self.request
        if isinstance(request, EmbeddingRequest):
            return 0
        if request.max_tokens is not None:
            return request.max_tokens
        return _facts(self.route).output_tokens

    @property
    def cost_estimate(self) -> float:
        """The most this request can cost on the dearest endpoint of its
        model: what a budget reserves before the call (USD)."""
        if self._cost_estimate is None:
            facts = _facts(self.route)
            prompt, output = self.prompt_tokens, self.output_tokens
            estimate = 0.0
            if facts.rates:  # flat prices: what cost() computes for this usage, inline
                for inp, out, request in facts.rates:
                    estimate = max(estimate, (prompt * inp + output * out) / 1e6 + request)
            elif facts.prices:
                usage = Usage(prompt_tokens=prompt, completion_tokens=output)
                estimate = max(cost(usage, p) for p in facts.prices)
            self._cost_estimate = estimate
        return self._cost_estimate


@dataclass(frozen=True, slots=True)
class _RouteFacts:
    """What the estimates need of a model's route, read once per route."""

    prices: tuple[Price, ...]
    rates: tuple[tuple[float, float, float], ...]
    """(input, output, per request) USD of each price, when none has tiers
    (empty otherwise: the estimate then asks :func:`~junction.catalog.cost`)."""
    output_tokens: int
    """The most output of a request without ``max_tokens``."""


_ROUTES: dict[int, tuple[ModelRoute, _RouteFacts]] = {}


def _facts(route: ModelRoute) -> _RouteFacts:
    entry = _ROUTES.get(id(route))
    if entry is not None and entry[0] is route:
        return entry[1]
    endpoints = route.endpoints
    sizes = [s for e in endpoints if (s := e.info.max_output_tokens) is not None]
    prices = tuple(p for e in endpoints if (p := e.info.price) is not None)
    flat = not any(p.tiers for p in prices)
    facts = _RouteFacts(
        prices,
        tuple((p.input or 0.0, p.output or 0.0, p.request or 0.0) for p in prices) if flat else (),
        min(max(sizes), 4096) if sizes else 4096,
    )
    if len(_ROUTES) >= PRINCIPALS_KEPT:
        _ROUTES.clear()
    _ROUTES[id(route)] = (route, facts)  # holds the route: its id is not reused meanwhile
    return facts


class Stage(Protocol):
    async def enter(self, call: Call) -> None:
        """Look at the request; raise a GatewayError to refuse it."""
        ...

    def leave(self, call: Call) -> None:
        """The request is over (``call.usage`` / ``call.error`` / ``call.cancelled``)."""
        ...


T = TypeVar("T")

PRINCIPALS_KEPT = 10_000
"""Principals whose derived policy a stage remembers (the keys in use)."""


class PerPrincipal(Generic[T]):
    """What a stage derives from a principal's records (its checks, its
    allowed models), made once per principal object. The authenticator
    makes a new :class:`Principal` whenever it loads the key's records
    again (every ``stores.key_cache_seconds``, and when the admin API changes
    a key, team or user), so a changed record is never served from here."""

    def __init__(self, make: Callable[[Principal], T], kept: int = PRINCIPALS_KEPT) -> None:
        self._make = make
        self._kept = kept
        self._entries: dict[int, tuple[Principal, T]] = {}

    def get(self, principal: Principal) -> T:
        entry = self._entries.get(id(principal))
        if entry is not None and entry[0] is principal:
            return entry[1]
        made = self._make(principal)
        if len(self._entries) >= self._kept:
            del self._entries[next(iter(self._entries))]  # the oldest
        # The entry holds the principal, so its id is not reused while kept.
        self._entries[id(principal)] = (principal, made)
        return made
