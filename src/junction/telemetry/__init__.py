"""Metrics, traces and request logs, fed by the accountant's settle listeners.

:func:`install` builds what ``config.telemetry`` asks for and hooks it to
the gateway once at start-up (docs/observability.md).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Awaitable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from junction.config import Config
from junction.telemetry.logs import RequestLog
from junction.telemetry.metrics import GatewayState, Metrics
from junction.telemetry.tracing import Tracing, otlp_provider, traces_wanted

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider

    from junction.gateway import Gateway

__all__ = ["Metrics", "RequestLog", "Telemetry", "Tracing", "install"]

_T = TypeVar("_T")


@dataclass(slots=True)
class Telemetry:
    metrics: Metrics | None = None
    tracing: Tracing | None = None
    log: RequestLog | None = None

    def started(self) -> None:
        """A chat request began (the in-flight gauge)."""
        if self.metrics is not None:
            self.metrics.in_flight.inc()

    def ended(self) -> None:
        if self.metrics is not None:
            self.metrics.in_flight.dec()

    async def answered(self, call: Awaitable[_T]) -> _T:
        """A plain request, counted in flight while ``call`` runs."""
        self.started()
        try:
            return await call
        finally:
            self.ended()

    async def streamed(self, call: Awaitable[AsyncIterator[_T]]) -> AsyncIterator[_T]:
        """A stream, counted in flight from ``call`` until the stream ends or is closed."""
        self.started()
        try:
            batches = await call
        except BaseException:
            self.ended()
            raise
        return self.until_done(batches)

    async def until_done(self, batches: AsyncIterator[_T]) -> AsyncIterator[_T]:
        """Relay a stream, ending the request when the stream ends (closing
        this closes ``batches``: the relay's own ``finally`` runs at once)."""
        try:
            async for batch in batches:
                yield batch
        finally:
            self.ended()
            aclose = getattr(batches, "aclose", None)
            if aclose is not None:
                await aclose()

    def shutdown(self) -> None:
        if self.tracing is not None:
            self.tracing.shutdown()


def install(
    gateway: Gateway,
    config: Config,
    env: Mapping[str, str] | None = None,
    tracer_provider: TracerProvider | None = None,
) -> Telemetry:
    """Hook what ``config.telemetry`` asks for to ``gateway``'s accountant.
    Raises :class:`~junction.config.ConfigError` when traces are asked for
    without the ``otel`` extra."""
    settings = config.telemetry
    env = os.environ if env is None else env
    found = Telemetry()
    if settings.metrics:
        found.metrics = Metrics(settings.metrics_top_keys)
        found.metrics.watch(GatewayState(gateway, gateway.clock))
    if tracer_provider is not None or traces_wanted(settings.traces, env):
        found.tracing = Tracing(tracer_provider or otlp_provider())
    if settings.json_logs:
        found.log = RequestLog(gateway.redactor)
    listeners = gateway.accountant.listeners
    for listener in (found.metrics and found.metrics.observe, found.tracing, found.log):
        if listener:
            listeners.append(listener)
    return found
