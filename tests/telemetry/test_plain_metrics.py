"""The one-process metrics (plain numbers read at scrape time) expose what
prometheus_client's own metric objects expose for the same updates."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from junction.telemetry.metrics import PlainCounters, PlainGauge, PlainHistograms

BOUNDS = (0.05, 0.1, 0.25, 1.0, 300.0)
# On each bound (``le`` is inclusive), between, below the first, past the last.
VALUES = (0.0, 0.05, 0.0500001, 0.1, 0.2, 0.25, 1.0, 299.9, 300.0, 300.1, 1e9)


def _exposed(registry: CollectorRegistry) -> list[str]:
    """The exposition's lines, with each ``_created`` time replaced (the two
    registries make their children at different instants)."""
    lines = []
    for line in generate_latest(registry).decode().splitlines():
        name = line.split("{", 1)[0].split(" ", 1)[0]
        if name.endswith("_created"):
            line = line.rsplit(" ", 1)[0] + " T"
        lines.append(line)
    return lines


def test_a_histogram_counts_each_value_in_the_same_buckets_as_the_library() -> None:
    ours, theirs = CollectorRegistry(), CollectorRegistry()
    plain = PlainHistograms("x_seconds", "doc", ("model",), ours, buckets=BOUNDS)
    library = Histogram("x_seconds", "doc", ("model",), buckets=BOUNDS, registry=theirs)
    for i, value in enumerate(VALUES):
        model = "a" if i % 3 else "b"
        plain.labels(model).observe(value)
        library.labels(model).observe(value)
    exposed = _exposed(ours)
    assert exposed == _exposed(theirs)
    assert 'x_seconds_bucket{le="0.05",model="a"} 1.0' in exposed  # 0.05 only; 0.0 is b's
    assert any(line.startswith("x_seconds_created{") for line in exposed)


def test_counters_gauges_and_an_empty_family_match_the_library() -> None:
    ours, theirs = CollectorRegistry(), CollectorRegistry()
    plain = PlainCounters("x_requests", "doc", ("key", "status"), ours)
    library = Counter("x_requests", "doc", ("key", "status"), registry=theirs)
    plain_spend = PlainCounters("x_spend", "doc", ("key",), ours, gauge=True)
    library_spend = Gauge("x_spend", "doc", ("key",), registry=theirs)
    PlainCounters("x_unused", "doc", ("key",), ours)
    Counter("x_unused", "doc", ("key",), registry=theirs)
    plain_flying = PlainGauge("x_in_flight", "doc", ours)
    library_flying = Gauge("x_in_flight", "doc", registry=theirs)
    for key, status, amount in (("k1", "200", 1), ("k2", "429", 1), ("k1", "200", 2.5)):
        plain.labels(key, status).inc(amount)
        library.labels(key, status).inc(amount)
        plain_spend.labels(key).inc(amount / 10)
        library_spend.labels(key).inc(amount / 10)
    for change in (1, 1, -1, 1):
        if change > 0:
            plain_flying.inc()
            library_flying.inc()
        else:
            plain_flying.dec()
            library_flying.dec()
    exposed = _exposed(ours)
    assert exposed == _exposed(theirs)
    assert 'x_requests_total{key="k1",status="200"} 3.5' in exposed
    assert "x_in_flight 2.0" in exposed
