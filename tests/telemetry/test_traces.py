"""Spans captured with the OpenTelemetry SDK's in-memory exporter, checked
against the GenAI semantic conventions' attribute names."""

from __future__ import annotations

from typing import Any

import openai
import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from _telemetry_app import gateway
from junction.config import ConfigError, parse_config
from junction.telemetry import Tracing, tracing
from junction.telemetry.tracing import traces_wanted


def _capture(app: Any) -> InMemorySpanExporter:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    app.context.state.gateway.accountant.listeners.append(Tracing(provider))
    return exporter


async def test_a_request_span_with_gen_ai_attributes_and_one_child_per_attempt() -> None:
    async with gateway() as (app, base):
        exporter = _capture(app)
        client = openai.AsyncOpenAI(base_url=f"{base}/v1", api_key="x", max_retries=0)
        hello = [{"role": "user", "content": "hi"}]
        answer = await client.chat.completions.create(
            model="sim/openai", messages=hello, max_tokens=8
        )
        with pytest.raises(openai.APIStatusError):
            await client.chat.completions.create(model="test/broken", messages=hello)
    spans = exporter.get_finished_spans()
    roots = [s for s in spans if s.parent is None]
    assert [s.name for s in roots] == ["chat sim/openai", "chat test/broken"]
    ok, failed = roots
    assert answer.usage is not None
    attrs = dict(ok.attributes or {})
    assert attrs["gen_ai.operation.name"] == "chat"
    assert attrs["gen_ai.system"] == attrs["gen_ai.provider.name"] == "openai"
    assert attrs["gen_ai.request.model"] == "sim/openai"
    assert attrs["gen_ai.response.model"] == "gpt-4o-mini"
    assert attrs["gen_ai.response.id"] == answer.id
    assert attrs["gen_ai.usage.input_tokens"] == answer.usage.prompt_tokens
    assert attrs["gen_ai.usage.output_tokens"] == answer.usage.completion_tokens
    assert attrs["gen_ai.response.finish_reasons"] == (answer.choices[0].finish_reason,)
    assert "error.type" not in attrs
    assert ok.kind == SpanKind.SERVER
    children = [s for s in spans if s.parent is not None and s.parent.span_id == ok.context.span_id]
    assert len(children) == 1
    child = children[0]
    assert child.kind == SpanKind.CLIENT
    assert child.attributes is not None
    assert child.attributes["junction.deployment"] == "sim-openai"
    assert child.attributes["http.response.status_code"] == 200
    assert None not in (ok.start_time, ok.end_time, child.start_time, child.end_time)
    assert ok.start_time <= child.start_time <= child.end_time <= ok.end_time + 5_000_000

    fattrs = dict(failed.attributes or {})
    assert fattrs["error.type"] == "provider_unavailable"
    assert failed.status.status_code == StatusCode.ERROR
    tries = [
        s for s in spans if s.parent is not None and s.parent.span_id == failed.context.span_id
    ]
    assert len(tries) == fattrs["junction.attempts"] >= 1
    assert all(t.status.status_code == StatusCode.ERROR for t in tries)
    assert all(t.attributes and "error.type" in t.attributes for t in tries)


def test_traces_are_off_unless_asked_for() -> None:
    assert not traces_wanted(False, {})
    assert not traces_wanted(False, {"OTEL_TRACES_EXPORTER": "none"})
    assert traces_wanted(False, {"OTEL_TRACES_EXPORTER": "otlp"})
    assert traces_wanted(True, {})


def test_without_the_otel_extra_traces_are_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    import builtins

    real_import = builtins.__import__

    def no_otel(name: str, *args: Any, **kwargs: Any) -> Any:
        if name.startswith("opentelemetry"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_otel)
    with pytest.raises(ConfigError, match=r"junction\[otel\]"):
        tracing.otlp_provider()


def test_the_otlp_provider_batches_to_the_endpoint_in_otel_env(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:9")
    provider = tracing.otlp_provider()
    processors = provider._active_span_processor._span_processors
    assert [type(p) for p in processors] == [BatchSpanProcessor]
    provider.shutdown()
    assert parse_config("models: {}\ntelemetry: {traces: true}", {}).telemetry.traces
