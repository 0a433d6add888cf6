"""bench/overhead/frontdoor.py in a quick mode, end to end, so it cannot rot:
two junctions from source trees (this checkout's, twice) with the features
on (a virtual key made through the admin API, the SQLite request log,
metrics), streamed requests checked to end in ``[DONE]``, and the CPU per
request of each with their ratio. No figure is asserted: CI machines are
noisy, and the ratio of a tree to itself says nothing."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.timeout(240)
def test_frontdoor_streams_with_the_features_on_and_prints_both_trees() -> None:
    script = ROOT / "bench" / "overhead" / "frontdoor.py"
    cmd = [sys.executable, str(script), "--before", str(ROOT / "src"), "--stream", "--features"]
    cmd += ["--rounds", "1", "--duration", "1", "--connections", "2"]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=200, cwd=ROOT)
    assert out.returncode == 0, out.stderr[-4000:]
    report = out.stdout
    assert "2 connections, streamed chat requests, features on" in report, report
    for tree in ("before", "after"):
        row = re.search(rf"^\| {tree} \(.*\) \| (\d+) \| (\d+) \| (\d+) \| (\d+) \|$", report, re.M)
        assert row is not None, report
        assert int(row.group(1)) > 0  # CPU µs per request
        assert int(row.group(2)) > 0  # streams a second, each checked whole
        assert 0 < int(row.group(3)) <= int(row.group(4))  # first event, then the last
    assert re.search(r"^after / before, CPU per request: \d+\.\d{3}$", report, re.M), report
