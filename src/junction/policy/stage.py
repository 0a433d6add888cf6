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

from dataclasses import dataclass, field
from typing import Protocol

from junction.cache.answer import Answer
from junction.catalog import cost
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
    soft_budgets: list[tuple[Check, float]] = field(default_factory=list)
    """(the spend check, its soft limit): past it the request passes with a warning."""
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
        known = [e.info.max_output_tokens for e in self.route.endpoints]
        sizes = [k for k in known if k is not None]
        return min(max(sizes), 4096) if sizes else 4096

    @property
    def cost_estimate(self) -> float:
        """The most this request can cost on the dearest endpoint of its
        model: what a budget reserves before the call (USD)."""
        if self._cost_estimate is None:
            usage = Usage(prompt_tokens=self.prompt_tokens, completion_tokens=self.output_tokens)
            prices = [e.info.price for e in self.route.endpoints if e.info.price is not None]
            self._cost_estimate = max((cost(usage, p) for p in prices), default=0.0)
        return self._cost_estimate


class Stage(Protocol):
    async def enter(self, call: Call) -> None:
        """Look at the request; raise a GatewayError to refuse it."""
        ...

    def leave(self, call: Call) -> None:
        """The request is over (``call.usage`` / ``call.error`` / ``call.cancelled``)."""
        ...
