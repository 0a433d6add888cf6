"""bench/overhead/run.py --quick, end to end: it starts the instant upstream, the
thin proxy and junction, runs every load once and prints the whole report.

Needs wrk: skipped without it, except with ``CI=true`` (.ci/run installs it),
where a missing wrk fails the test.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TABLES = (
    "Headline (median of per-round ratios",
    "Non-streaming, 1 connection (wrk):",
    "Non-streaming, 16 connections (wrk): throughput",
    "Streaming, 1 connection (asyncio client",
    "Memory and start-up:",
)


@pytest.mark.timeout(300)
def test_quick_run_prints_every_table_and_a_junction_thin_ratio() -> None:
    if shutil.which("wrk") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("wrk is not installed; .ci/run installs it with apt-get")
        pytest.skip("wrk is not installed (apt-get install -y wrk)")
    # The junction under test is this checkout's, whatever is pip-installed.
    path = os.pathsep.join(p for p in (str(ROOT / "src"), os.environ.get("PYTHONPATH")) if p)
    out = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "overhead" / "run.py"), "--quick"],
        capture_output=True,
        text=True,
        timeout=240,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": path},
    )
    assert out.returncode == 0, out.stderr[-4000:]
    report = out.stdout
    for title in TABLES:
        assert title in report, report
    ratio = re.search(r"^\| req/s at 16 connections, junction / thin \| (\d+\.\d+)x", report, re.M)
    assert ratio is not None, report
    assert float(ratio.group(1)) > 0
    for target in ("direct", "thin", "junction"):
        rows = re.findall(rf"^\| {target} \|", report, re.M)
        assert len(rows) == 4, f"{target}: {len(rows)} rows\n{report}"  # one per table
    assert "Errors: none (0 bad answers, 0 socket errors)" in report, report
