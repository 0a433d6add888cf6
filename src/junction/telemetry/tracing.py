"""OpenTelemetry spans per the GenAI semantic conventions (off by default).

Nothing happens on the request path: when a request settles, its
:class:`Generation` becomes a ``chat {model}`` span with one child span
per attempt, all with explicit start and end times taken from the
record. Spans leave through a ``BatchSpanProcessor`` (a background
thread; a full queue drops spans, never blocks a request) and the OTLP
HTTP exporter, configured by the standard ``OTEL_*`` variables
(``OTEL_EXPORTER_OTLP_ENDPOINT``, ``OTEL_EXPORTER_OTLP_HEADERS``,
``OTEL_SERVICE_NAME``, ...).

The SDK is the optional ``otel`` extra (``pip install junction[otel]``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from junction.config import ConfigError
from junction.gateway.accounting import Generation

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider

INSTRUMENTATION = "junction"


def traces_wanted(enabled: bool, env: Mapping[str, str]) -> bool:
    """``telemetry.traces``, or an ``OTEL_TRACES_EXPORTER`` other than ``none``."""
    exporter = env.get("OTEL_TRACES_EXPORTER", "").strip().lower()
    return enabled or (exporter not in ("", "none"))


def otlp_provider() -> TracerProvider:
    """A tracer provider exporting over OTLP/HTTP in batches, from ``OTEL_*``.
    Raises :class:`ConfigError` when the ``otel`` extra is not installed."""
    try:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
    except ImportError:
        raise ConfigError(
            "telemetry.traces is on (or OTEL_TRACES_EXPORTER is set) but the OpenTelemetry "
            "SDK is not installed: pip install 'junction[otel]', or turn traces off"
        ) from None
    resource = Resource.create({"service.name": os.environ.get("OTEL_SERVICE_NAME", "junction")})
    provider = TracerProvider(resource=resource)
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    return provider


def _ns(seconds: float) -> int:
    return int(seconds * 1_000_000_000)


class Tracing:
    """An :class:`Accountant` listener drawing each request's spans."""

    def __init__(self, provider: TracerProvider) -> None:
        from opentelemetry.trace import SpanKind, Status, StatusCode

        self.provider = provider
        self.tracer = provider.get_tracer(INSTRUMENTATION)
        self._kind = SpanKind
        self._status = Status
        self._code = StatusCode

    def __call__(self, g: Generation) -> None:
        if g.refused:  # a 401 at the door is no GenAI operation: a metric and a log row
            return
        from opentelemetry import trace

        start = _ns(g.created)
        end = start + _ns(g.latency_ms / 1000)
        span = self.tracer.start_span(
            f"chat {g.model}",
            kind=self._kind.SERVER,
            start_time=start,
            attributes=request_attributes(g),
        )
        if g.status >= 400:
            span.set_status(self._status(self._code.ERROR, g.error or str(g.status)))
        context = trace.set_span_in_context(span)
        for a in g.attempts:
            child = self.tracer.start_span(
                f"chat {a.endpoint.target.model}",
                context=context,
                kind=self._kind.CLIENT,
                start_time=_ns(a.started),
                attributes=attempt_attributes(g, a),
            )
            if a.error is not None:
                child.set_status(self._status(self._code.ERROR))
            child.end(end_time=_ns(a.started + a.latency_ms / 1000))
        span.end(end_time=end)

    def shutdown(self) -> None:
        self.provider.shutdown()


def request_attributes(g: Generation) -> dict[str, Any]:
    served = next((a.endpoint for a in reversed(g.attempts) if a.error is None), None)
    attrs: dict[str, Any] = {
        "gen_ai.operation.name": "chat",
        "gen_ai.request.model": g.model,
        "gen_ai.response.id": g.id,
        "http.response.status_code": g.status,
        "junction.door": g.door,
        "junction.streamed": g.streamed,
        "junction.cancelled": g.cancelled,
        "junction.attempts": len(g.attempts),
    }
    if served is not None:
        attrs["gen_ai.system"] = attrs["gen_ai.provider.name"] = served.deployment.provider
        attrs["junction.deployment"] = served.label
    if g.upstream_model:
        attrs["gen_ai.response.model"] = g.upstream_model
    if g.finish_reason:
        attrs["gen_ai.response.finish_reasons"] = (g.finish_reason,)
    if g.usage is not None:
        attrs["gen_ai.usage.input_tokens"] = g.usage.prompt_tokens
        attrs["gen_ai.usage.output_tokens"] = g.usage.completion_tokens
        if g.usage.cost is not None:
            attrs["junction.cost_usd"] = g.usage.cost
    if g.status >= 400:
        attrs["error.type"] = g.error or str(g.status)
    if g.owner is not None:
        attrs["junction.key"] = getattr(g.owner, "id", None) or g.owner.name
    return attrs


def attempt_attributes(g: Generation, a: Any) -> dict[str, Any]:
    provider = a.endpoint.deployment.provider
    attrs: dict[str, Any] = {
        "gen_ai.operation.name": "chat",
        "gen_ai.system": provider,
        "gen_ai.provider.name": provider,
        "gen_ai.request.model": a.endpoint.target.model,
        "junction.deployment": a.endpoint.label,
        "http.response.status_code": a.status,
        "junction.latency_ms": a.latency_ms,
    }
    if a.ttft_ms is not None:
        attrs["junction.ttft_ms"] = a.ttft_ms
    if a.error is not None:
        attrs["error.type"] = "timeout" if a.timeout else str(a.status or "error")
    return attrs
