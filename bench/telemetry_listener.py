"""Cost of the metrics listener per settled request (µs per call).

    PYTHONPATH=src:tests/telemetry python bench/telemetry_listener.py

Builds real records (tests/telemetry/_records.py) for 20 keys and times
``Metrics.observe`` (and the JSON request line, to a logger that is off
and one that is on; the spans without an exporter) over many calls; prints the median of five runs.
"""

from __future__ import annotations

import logging
import statistics
import time

from _records import gateway, record
from junction.telemetry.logs import RequestLog
from junction.telemetry.metrics import Metrics

CALLS = 20_000


def per_call(fn: object, records: list[object]) -> float:
    runs = []
    for _ in range(5):
        start = time.perf_counter()
        for i in range(CALLS):
            fn(records[i % len(records)])  # type: ignore[operator]
        runs.append((time.perf_counter() - start) / CALLS * 1e6)
    return statistics.median(runs)


def main() -> None:
    gw = gateway()
    records: list[object] = [record(gw, key=f"key-{i}", team=f"team-{i % 4}") for i in range(20)]
    metrics = Metrics()
    print(f"Metrics.observe: {per_call(metrics.observe, records):.2f} us per request")
    quiet = logging.getLogger("bench.quiet")
    quiet.setLevel(logging.WARNING)
    print(f"RequestLog, logger off: {per_call(RequestLog(gw.redactor, quiet), records):.2f} us")
    loud = logging.getLogger("bench.loud")
    loud.setLevel(logging.INFO)
    loud.propagate = False
    loud.addHandler(logging.NullHandler())
    print(f"RequestLog, logger on: {per_call(RequestLog(gw.redactor, loud), records):.2f} us")
    from opentelemetry.sdk.trace import TracerProvider

    from junction.telemetry.tracing import Tracing

    spans = Tracing(TracerProvider())  # spans built and ended; no exporter attached
    print(f"Tracing (2 spans, no exporter): {per_call(spans, records):.2f} us")


if __name__ == "__main__":
    main()
