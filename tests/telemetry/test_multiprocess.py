"""With PROMETHEUS_MULTIPROC_DIR (``--workers N``), any process's /metrics
shows what every process counted: two processes write to one directory."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from prometheus_client.multiprocess import mark_process_dead
from prometheus_client.parser import text_string_to_metric_families

HERE = Path(__file__).parent
WORKER = """
import sys
sys.path[:0] = [{here!r}]
from _records import gateway, record
from junction.telemetry.metrics import Metrics
metrics = Metrics()
assert metrics.multiprocess
gw = gateway()
for _ in range({n}):
    metrics.observe(record(gw, key="k1"))
metrics.in_flight.inc()
if {render}:
    sys.stdout.write(metrics.render()[0].decode())
"""


def _run(directory: Path, n: int, render: bool) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(directory)}
    code = WORKER.format(here=str(HERE), n=n, render=render)
    return subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )


def test_two_processes_sum_into_one_scrape_and_a_dead_ones_in_flight_is_dropped(
    tmp_path: Path,
) -> None:
    first = _run(tmp_path, 2, render=False)
    assert first.returncode == 0
    pids = {p.name.rsplit("_", 1)[1].split(".")[0] for p in tmp_path.glob("gauge_livesum_*.db")}
    for pid in pids:
        mark_process_dead(int(pid), str(tmp_path))
    second = _run(tmp_path, 3, render=True)
    samples = [s for f in text_string_to_metric_families(second.stdout) for s in f.samples]
    requests = sum(s.value for s in samples if s.name == "junction_requests_total")
    assert requests == 5
    durations = sum(s.value for s in samples if s.name == "junction_request_duration_seconds_count")
    assert durations == 5
    in_flight = [s.value for s in samples if s.name == "junction_in_flight_requests"]
    assert in_flight == [1.0]
    circuit = [s for s in samples if s.name == "junction_circuit_state"]
    assert circuit == []  # not watched in this script: live collectors are per process
