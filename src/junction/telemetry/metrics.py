"""Prometheus metrics: one listener call per settled request, read at /metrics.

:class:`Metrics` turns each :class:`Generation` into counter and histogram
updates. Label children are cached per label combination (the label
values are bounded, :mod:`junction.telemetry.labels`), so a request costs
a dict lookup and a few increments (figure in docs/observability.md).
Live state (circuit breakers, the counter store's errors) is read at
scrape time by a callback collector, not tracked per request.

In one process the values are plain numbers in this module's
:class:`PlainCounter`, :class:`PlainHistogram` and :class:`PlainGauge`,
read into prometheus_client's metric families at scrape time: the
library's own metric objects take a lock and check their state on every
increment, which cost as much as the rest of the listener (measured in
docs/decisions.md). Updates and scrapes both run on the event loop.

With ``PROMETHEUS_MULTIPROC_DIR`` set (``junction serve --workers N``),
prometheus_client's metric objects keep each process's values in that
directory and a scrape of any process sums them
(:class:`MultiProcessCollector`); the in-flight gauge counts live
processes only (``livesum``).
"""

from __future__ import annotations

import os
import time
from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator
from functools import partial
from typing import Any, Generic, TypeVar

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString

from junction.gateway.accounting import Generation
from junction.telemetry.labels import NONE, TopValues

REQUEST_SECONDS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 15.0, 30.0, 60.0, 120.0, 300.0)
"""LLM requests take from tens of milliseconds (a cached or tiny answer)
to minutes (long reasoning)."""
FIRST_TOKEN_SECONDS = (0.025, 0.05, 0.1, 0.2, 0.4, 0.8, 1.5, 3.0, 6.0, 12.0, 30.0, 60.0)
REQUEST_LABELS = ("model", "deployment", "key", "team", "door", "status")
TOKEN_KINDS = ("prompt", "completion", "cached_read", "cache_write", "reasoning")
CIRCUIT_VALUES = {"closed": 0.0, "half_open": 1.0, "open": 2.0}

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


def multiprocess_dir() -> str | None:
    return os.environ.get(MULTIPROC_ENV) or None


class PlainCounter:
    """One counter child: a number, and when it was made."""

    __slots__ = ("created", "value")

    def __init__(self) -> None:
        self.value = 0.0
        self.created = time.time()

    def inc(self, amount: float = 1.0) -> None:
        self.value += amount


class PlainHistogram:
    """One histogram child: a count per bucket (not cumulative), the sum."""

    __slots__ = ("bounds", "counts", "created", "sum")

    def __init__(self, bounds: tuple[float, ...]) -> None:
        self.bounds = bounds
        self.counts = [0] * (len(bounds) + 1)  # the last one is +Inf's own
        self.sum = 0.0
        self.created = time.time()

    def observe(self, value: float) -> None:
        self.counts[bisect_left(self.bounds, value)] += 1
        self.sum += value


_Child = TypeVar("_Child", PlainCounter, PlainHistogram)


class _PlainLabelled(Collector, Generic[_Child]):
    """Children per label combination, made into a prometheus_client metric
    family when scraped; ``labels`` returns a combination's child, as the
    library's ``labels`` does."""

    def __init__(
        self,
        name: str,
        documentation: str,
        labelnames: tuple[str, ...],
        registry: CollectorRegistry,
        new_child: Callable[[], _Child],
    ) -> None:
        self.name = name
        self.documentation = documentation
        self.labelnames = labelnames
        self._new_child: Callable[[], _Child] = new_child
        self.children: dict[tuple[str, ...], _Child] = {}
        registry.register(self)

    def labels(self, *values: str) -> _Child:
        child = self.children.get(values)
        if child is None:
            child = self.children[values] = self._new_child()
        return child

    def describe(self) -> Iterable[Metric]:
        return ()


class PlainCounters(_PlainLabelled[PlainCounter]):
    """A labelled counter (or, with ``gauge``, a labelled gauge that only
    goes up) of :class:`PlainCounter` children."""

    def __init__(
        self,
        name: str,
        documentation: str,
        labelnames: tuple[str, ...],
        registry: CollectorRegistry,
        *,
        gauge: bool = False,
    ) -> None:
        super().__init__(name, documentation, labelnames, registry, PlainCounter)
        self.gauge = gauge

    def collect(self) -> Iterator[Metric]:
        if self.gauge:
            gauges = GaugeMetricFamily(self.name, self.documentation, labels=self.labelnames)
            for values, child in self.children.items():
                gauges.add_metric(values, child.value)
            yield gauges
            return
        counters = CounterMetricFamily(self.name, self.documentation, labels=self.labelnames)
        for values, child in self.children.items():
            counters.add_metric(values, child.value, created=child.created)
        yield counters


class PlainHistograms(_PlainLabelled[PlainHistogram]):
    """A labelled histogram of :class:`PlainHistogram` children."""

    def __init__(
        self,
        name: str,
        documentation: str,
        labelnames: tuple[str, ...],
        registry: CollectorRegistry,
        *,
        buckets: tuple[float, ...],
    ) -> None:
        super().__init__(
            name, documentation, labelnames, registry, partial(PlainHistogram, buckets)
        )
        self._les = [floatToGoString(b) for b in (*buckets, float("inf"))]  # type: ignore[no-untyped-call]

    def collect(self) -> Iterator[Metric]:
        histograms = HistogramMetricFamily(self.name, self.documentation, labels=self.labelnames)
        names = self.labelnames
        for values, child in self.children.items():
            running, buckets = 0, []
            for le, count in zip(self._les, child.counts, strict=True):
                running += count
                buckets.append((le, float(running)))
            histograms.add_metric(values, buckets, child.sum)
            # The library's add_metric has no ``created``; its own histograms show it.
            histograms.add_sample(
                self.name + "_created", dict(zip(names, values, strict=True)), child.created
            )
        yield histograms


class PlainGauge(Collector):
    """An unlabelled gauge kept as a number."""

    def __init__(self, name: str, documentation: str, registry: CollectorRegistry) -> None:
        self.name = name
        self.documentation = documentation
        self.value = 0.0
        registry.register(self)

    def inc(self, amount: float = 1.0) -> None:
        self.value += amount

    def dec(self, amount: float = 1.0) -> None:
        self.value -= amount

    def describe(self) -> Iterable[Metric]:
        return ()

    def collect(self) -> Iterator[Metric]:
        yield GaugeMetricFamily(self.name, self.documentation, value=self.value)


class _Series:
    """The label children of one label combination."""

    __slots__ = ("cost", "duration", "requests", "tokens", "ttft")

    def __init__(self, metrics: Metrics, labels: tuple[str, ...]) -> None:
        self.requests = metrics.requests.labels(*labels)
        self.cost = metrics.cost.labels(*labels)
        self.duration = metrics.duration.labels(*labels)
        self.ttft = metrics.ttft.labels(*labels)
        self.tokens = tuple(metrics.tokens.labels(*labels, kind) for kind in TOKEN_KINDS)


class Metrics:
    """The gateway's Prometheus metrics. Build once per app; :meth:`observe`
    is an :class:`Accountant` listener."""

    def __init__(self, top_keys: int = 50) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.multiprocess = multiprocess_dir()
        plain = self.multiprocess is None
        r = self.registry

        def counter(name: str, doc: str, labels: tuple[str, ...]) -> Any:
            if plain:
                return PlainCounters(name, doc, labels, r)
            return Counter(name, doc, labels, registry=r)

        def histogram(name: str, doc: str, buckets: tuple[float, ...]) -> Any:
            if plain:
                return PlainHistograms(name, doc, REQUEST_LABELS, r, buckets=buckets)
            return Histogram(name, doc, REQUEST_LABELS, buckets=buckets, registry=r)

        self.requests = counter(
            "junction_requests", "Requests answered, by outcome.", REQUEST_LABELS
        )
        self.tokens = counter("junction_tokens", "Tokens by kind.", (*REQUEST_LABELS, "kind"))
        self.cost = counter("junction_cost_usd", "Cost in US dollars.", REQUEST_LABELS)
        self.duration = histogram(
            "junction_request_duration_seconds",
            "Time from the request to its last byte.",
            REQUEST_SECONDS,
        )
        self.ttft = histogram(
            "junction_time_to_first_token_seconds",
            "Time from the request to the first byte of the answer.",
            FIRST_TOKEN_SECONDS,
        )
        self.cache = counter("junction_cache_hits", "Response cache lookups.", ("result",))
        self.rejections = counter(
            "junction_limit_rejections", "Requests refused by a limit or budget.", ("scope",)
        )
        spend = "junction_budget_spend_usd"
        spend_doc = "Spend counted against budgets since start, by key and team."
        flying, flying_doc = "junction_in_flight_requests", "Chat requests being answered now."
        self.budget: Any
        self.in_flight: Any
        if plain:
            self.budget = PlainCounters(spend, spend_doc, ("key", "team"), r, gauge=True)
            self.in_flight = PlainGauge(flying, flying_doc, r)
        else:
            self.budget = Gauge(
                spend, spend_doc, ("key", "team"), multiprocess_mode="sum", registry=r
            )
            self.in_flight = Gauge(flying, flying_doc, multiprocess_mode="livesum", registry=r)
        for result in ("hit", "miss"):
            self.cache.labels(result)
        self.keys = TopValues(top_keys)
        self.teams = TopValues(top_keys)
        self._series: dict[tuple[str, ...], _Series] = {}
        self._live: list[Collector] = []

    def observe(self, g: Generation) -> None:
        owner = g.owner
        key = self.keys.label(_key_id(owner)) if owner is not None else NONE
        team = self.teams.label(team_of(owner)) if owner is not None else NONE
        deployment = g.provider or (g.attempts[-1].endpoint.label if g.attempts else NONE)
        labels = (g.model or NONE, deployment, key, team, g.door or NONE, str(g.status))
        series = self._series.get(labels)
        if series is None:
            series = self._series[labels] = _Series(self, labels)
        series.requests.inc()
        series.duration.observe(g.latency_ms / 1000)
        if g.ttft_ms is not None:
            series.ttft.observe(g.ttft_ms / 1000)
        usage = g.usage
        if usage is not None:
            prompt, completion, cached, written, reasoning = series.tokens
            prompt.inc(usage.prompt_tokens)
            completion.inc(usage.completion_tokens)
            if usage.cached_tokens:
                cached.inc(usage.cached_tokens)
            if usage.cache_write_tokens:
                written.inc(usage.cache_write_tokens)
            if usage.reasoning_tokens:
                reasoning.inc(usage.reasoning_tokens)
            if usage.cost:
                series.cost.inc(usage.cost)
                self.budget.labels(key, team).inc(usage.cost)
        hit = getattr(g, "cache_hit", None)
        if hit is not None:
            self.cache.labels("hit" if hit else "miss").inc()
        if g.status == 429 and not g.attempts:
            self.rejections.labels(g.error or "limit").inc()

    def watch(self, collector: Collector) -> None:
        """Read ``collector`` at each scrape (live state, not per request)."""
        self._live.append(collector)
        if self.multiprocess is None:
            self.registry.register(collector)

    def render(self) -> tuple[bytes, str]:
        """The exposition text and its content type."""
        if self.multiprocess is None:
            return generate_latest(self.registry), CONTENT_TYPE_LATEST
        scrape = CollectorRegistry()
        MultiProcessCollector(scrape, path=self.multiprocess)  # type: ignore[no-untyped-call]
        for collector in self._live:
            scrape.register(collector)
        return generate_latest(scrape), CONTENT_TYPE_LATEST


def _key_id(owner: Any) -> str:
    """A key's id (a record id, or the config key's name); never its secret."""
    found = getattr(owner, "id", None)
    return str(found) if found else str(owner.name)


class GatewayState(Collector):
    """Circuit breakers and counter-store errors, read at scrape time.

    ``gateway`` is read through attributes (its ``stats`` is replaced when
    its state is reset); the counter store's ``store_errors`` is found
    duck-typed wherever the gateway keeps its counters."""

    def __init__(self, gateway: Any, clock: Callable[[], float]) -> None:
        self.gateway = gateway
        self.clock = clock

    def describe(self) -> Iterable[Metric]:
        return ()

    def collect(self) -> Iterator[Metric]:
        gateway = self.gateway
        circuit = GaugeMetricFamily(
            "junction_circuit_state",
            "Each deployment's circuit breaker: 0 closed, 1 half open, 2 open.",
            labels=("deployment",),
        )
        now = self.clock()
        seen: set[str] = set()
        for route in gateway.routes.values():
            for ep in route.endpoints:
                if ep.info.id in seen:
                    continue
                seen.add(ep.info.id)
                state = gateway.stats.circuit_state(ep.info.id, now=now)
                circuit.add_metric((ep.label,), CIRCUIT_VALUES.get(state, 0.0))
        yield circuit
        errors = CounterMetricFamily(
            "junction_store_errors",
            "Calls to the shared counter store that failed (this process).",
        )
        errors.add_metric((), float(_store_errors(gateway)))
        yield errors
        warnings = CounterMetricFamily(
            "junction_soft_budget_warnings",
            "Requests that passed a soft budget (this process).",
        )
        admission = getattr(gateway, "admission", None)
        warnings.add_metric((), float(getattr(admission, "soft_budget_warnings", 0)))
        yield warnings


def _store_errors(gateway: Any) -> int:
    """``store_errors`` of the gateway's counter store, when it has one that counts."""
    candidates = (
        getattr(gateway, "counters", None),
        getattr(getattr(gateway, "stores", None), "counters", None),
        getattr(gateway, "stores", None),
    )
    for candidate in candidates:
        found = getattr(candidate, "store_errors", None)
        if isinstance(found, (int, float)):
            return int(found)
    return 0


def team_of(owner: Any) -> str | None:
    """The team id of a record's owner (a Principal's ``team_id``; a plain
    ``team`` string on other owners)."""
    found = getattr(owner, "team_id", None)
    if found is None:
        team = getattr(owner, "team", None)
        found = team if isinstance(team, str) else getattr(team, "id", None)
    return found if isinstance(found, str) else None
