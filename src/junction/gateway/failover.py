"""One request's way through its endpoints: which to try next, retries with
jittered backoff, the request's deadline, and what each attempt tells the
endpoint statistics as it happens.

The attempt loop (gateway/attempts.py) asks :meth:`Failover.next` for an
endpoint, brackets the call with :meth:`Failover.begin` / :meth:`Failover.end`
and reports a failure with :meth:`Failover.failed`:

* **order**: the plan's order. An endpoint that started resting (open
  circuit, ``retry-after`` cooldown) since the plan was made is moved behind
  the others once; it stays as a last resort.
* **probes**: a half-open endpoint's probe is taken when the attempt starts
  and given back when it ends, whatever the outcome; planning takes nothing.
* **failures** are recorded in the endpoint statistics at once (so the next
  request already routes around them), a ``retry-after`` becomes a cooldown
  of that endpoint, and each is logged once, at WARNING: endpoint, error
  kind, status, latency, never the provider's message (it may echo secrets).
* **retries**: once every endpoint failed, up to ``routing.retry.attempts``
  more attempts on endpoints that failed with a 429, a 5xx or a connection
  failure (see :class:`junction.config.Retry`).
* **deadline**: ``timeouts.request`` bounds the request: each attempt's
  timeouts are cut to the time left, no backoff sleeps past it, and a
  request that reaches it ends with a 504 naming it.
"""

from __future__ import annotations

import asyncio
import copy
import logging
import random
import time
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from junction.config import Retry
from junction.gateway.deployment_limits import DeploymentLimits, Reservation
from junction.gateway.routes import Endpoint
from junction.gateway.tokens import estimate_prompt_tokens
from junction.gateway.trace import Attempt, Trace
from junction.routing import StatsStore
from junction.transport import Limits
from junction.types import ChatRequest, GatewayError, UpstreamError, Usage

log = logging.getLogger("junction.gateway")

DEADLINE_CODE = "request_deadline"


class Health:
    """The endpoint statistics as the attempt loop sees them, live."""

    def __init__(self, stats: StatsStore, clock: Callable[[], float]) -> None:
        self.stats = stats
        self.clock = clock

    def resting(self, ep: Endpoint) -> bool:
        return self.stats.resting(ep.info.id, now=self.clock()) is not None

    def start(self, ep: Endpoint) -> bool:
        """True when this attempt took the endpoint's half-open probe."""
        return self.stats.begin_probe(ep.info.id, now=self.clock())

    def end(self, ep: Endpoint, probing: bool) -> None:
        if probing:
            self.stats.end_probe(ep.info.id)

    def failed(self, attempt: Attempt, retry_after: float | None) -> None:
        now = self.clock()
        endpoint_id = attempt.endpoint.info.id
        self.stats.record(
            endpoint_id,
            ok=False,
            timeout=attempt.timeout,
            status=attempt.status,
            ttft_ms=None,
            latency_ms=attempt.latency_ms,
            output_tokens=0,
            now=now,
        )
        attempt.recorded = True
        if retry_after is not None and retry_after > 0:
            self.stats.cool_down(endpoint_id, until=now + retry_after, now=now)


@dataclass(frozen=True, slots=True)
class FailoverPolicy:
    """What every request's failover shares (built once per gateway state)."""

    retry: Retry
    request_timeout: float
    health: Health
    rng: random.Random
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    deployment_limits: DeploymentLimits | None = None
    """Counts attempts against each deployment's own rpm / tpm (None: not counted)."""


def deadline_error(timeout: float, failures: Sequence[GatewayError]) -> GatewayError:
    tried = "; ".join(f.message for f in failures)
    detail = f" after {len(failures)} failed attempt(s): {tried}" if failures else ""
    return GatewayError(
        "timeout",
        f"The request ran past its deadline of {timeout:g} s (timeouts.request){detail}",
        status=504,
        code=DEADLINE_CODE,
    )


def worth_retrying(exc: GatewayError, max_backoff: float) -> bool:
    """A failure worth a retry of the same endpoint: 429, 5xx, connection."""
    if not isinstance(exc, UpstreamError) or not exc.retryable or exc.kind == "timeout":
        return False
    status = exc.upstream_status  # None: no answer (connection failure, unreadable body)
    if status is not None and status != 429 and status < 500:
        return False
    return exc.retry_after is None or exc.retry_after <= max_backoff


class Failover:
    """The attempts of one request over one plan's endpoints."""

    def __init__(self, endpoints: Sequence[Endpoint], policy: FailoverPolicy, trace: Trace):
        self.policy = policy
        self.trace = trace
        self.failures: list[GatewayError] = []
        self._queue = deque(endpoints)
        self._deferred: set[str] = set()
        self._last_error: dict[str, tuple[Endpoint, GatewayError]] = {}
        self._retries = 0
        self._tokens: int | None = None

    async def next(self) -> Endpoint | None:
        """The endpoint to try now (after any backoff), or None: give up."""
        if self.trace.expired():
            return None
        if self._queue:
            return self._pop()
        retry = self.policy.retry
        if self._retries >= retry.attempts:
            return None
        choice = self._retry_choice(retry.max_backoff)
        if choice is None:
            return None
        ep, delay = choice
        if delay >= self.trace.remaining():
            return None
        self._retries += 1
        if delay > 0:
            await self.policy.sleep(delay)
        return ep

    def _pop(self) -> Endpoint:
        queue, health = self._queue, self.policy.health
        for _ in range(len(queue)):
            first = queue[0]
            if first.info.id in self._deferred or not health.resting(first):
                break
            self._deferred.add(first.info.id)
            queue.rotate(-1)
        return queue.popleft()

    def _retry_choice(self, max_backoff: float) -> tuple[Endpoint, float] | None:
        eligible = [
            (ep, exc) for ep, exc in self._last_error.values() if worth_retrying(exc, max_backoff)
        ]
        if not eligible:
            return None
        health = self.policy.health
        ep, exc = next(((e, x) for e, x in eligible if not health.resting(e)), eligible[0])
        retry = self.policy.retry
        step = min(retry.max_backoff, retry.backoff * 2 ** (self._retries))
        delay = step * self.policy.rng.uniform(0.5, 1.0)
        return ep, max(delay, exc.retry_after or 0.0)

    def begin(self, ep: Endpoint) -> tuple[Limits, bool]:
        """This attempt's timeouts (cut to the time left) and whether it
        took the endpoint's probe (give it back with :meth:`end`)."""
        probing = self.policy.health.start(ep)
        left = self.trace.remaining()
        limits = ep.limits
        if left < limits.total or left < limits.first_token:
            limits = copy.copy(limits)
            limits.total = min(limits.total, left)
            limits.first_token = min(limits.first_token, left)
        return limits, probing

    def end(self, ep: Endpoint, probing: bool) -> None:
        self.policy.health.end(ep, probing)

    def failed(self, ep: Endpoint, started: float, exc: GatewayError) -> None:
        """Record, log and remember a failed attempt; raises when no other
        attempt may follow (an error the next endpoint would not fix, or
        the deadline)."""
        timeout = exc.kind == "timeout"
        attempt = Attempt(ep, exc.status, _ms(started), None, exc.message, timeout)
        self.trace.attempts.append(attempt)
        self.policy.health.failed(attempt, exc.retry_after)
        log_failure(self.trace, attempt, exc)
        self.failures.append(exc)
        self._last_error[ep.info.id] = (ep, exc)
        if final(exc):
            raise exc
        if self.trace.expired():
            raise self.error() from None

    async def reserve(self, ep: Endpoint, request: ChatRequest) -> Reservation | None:
        """Count this attempt against the endpoint's own rpm / tpm; None: the
        endpoint is at its limit and is skipped (its 429 is reported if no
        other endpoint serves)."""
        limits = self.policy.deployment_limits
        if limits is None or (ep.deployment.rpm is None and ep.deployment.tpm is None):
            return _UNCOUNTED
        if self._tokens is None:
            self._tokens = estimate_prompt_tokens(request) if ep.deployment.tpm else 0
        got = await limits.reserve(ep, self._tokens)
        if isinstance(got, GatewayError):
            self.skip(got)
            return None
        return got

    def release(self, reservation: Reservation, usage: Usage | None) -> None:
        """Correct an attempt's token estimate with its real usage (None: none used)."""
        limits = self.policy.deployment_limits
        if limits is not None:
            limits.settle(reservation, usage)

    def skip(self, exc: GatewayError) -> None:
        """An endpoint that cannot serve the request at all (no attempt made)."""
        self.failures.append(exc)

    def error(self) -> GatewayError:
        """The error for a request that ran out of endpoints or time."""
        if self.trace.expired():
            return deadline_error(self.policy.request_timeout, self.failures)
        return exhausted(self.failures)


def log_failure(trace: Trace, attempt: Attempt, exc: GatewayError) -> None:
    upstream = exc.upstream_status if isinstance(exc, UpstreamError) else None
    log.warning(
        "upstream attempt failed: request=%s endpoint=%s kind=%s status=%s "
        "upstream_status=%s timeout=%s latency_ms=%.0f attempt=%d",
        trace.id or "-",
        attempt.endpoint.label,
        exc.kind,
        exc.status,
        upstream if upstream is not None else "-",
        attempt.timeout,
        attempt.latency_ms,
        len(trace.attempts),
    )


def _ms(since: float) -> float:
    return (time.perf_counter() - since) * 1000


def final(exc: GatewayError) -> bool:
    """An error the next endpoint would not fix (bad request, bad key...)."""
    if isinstance(exc, UpstreamError):
        return not exc.retryable
    return exc.kind != "unsupported_parameter"


def exhausted(failures: Sequence[GatewayError]) -> GatewayError:
    """One error for a list of failed attempts, naming each."""
    if not failures:
        return GatewayError("provider_unavailable", "the model has no endpoint to call")
    last = failures[-1]
    if len(failures) == 1:
        return last
    tried = "; ".join(f.message for f in failures)
    message = f"all {len(failures)} attempts failed: {tried}"
    if isinstance(last, UpstreamError):
        return UpstreamError(
            last.kind,
            message,
            provider=last.provider,
            status=last.status,
            retryable=last.retryable,
            upstream_status=last.upstream_status,
            retry_after=last.retry_after,
        )
    return GatewayError(
        last.kind,
        message,
        status=last.status,
        param=last.param,
        code=last.code,
        retry_after=last.retry_after,
    )


_UNCOUNTED = Reservation("", None)
