"""Leak test: junction's RSS from 100,000 to --requests answered requests.

Starts the instant upstream and one junction (features on: master key, a
virtual key with a rate limit and a budget, the request log on SQLite,
metrics), pinned like run.py, then runs wrk at 16 connections in windows,
alternating plain and streamed requests, and reads the gateway's RSS
(VmRSS) after each window. Prints RSS at the first window past 100,000
requests and at the end, and the growth between them.

    python bench/overhead/leak.py [--requests 1000000]

Not part of CI (minutes, not seconds). Loopback only.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import servers
from loads import run_wrk
from procs import Proc, load_average, status_kib

WINDOW_SECONDS = 10
WARM = 100_000


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--requests", type=int, default=1_000_000)
    args = ap.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is needed: apt-get install -y wrk")
    pin = (os.cpu_count() or 1) >= 2
    gateway_cpu, client_cpu = (0, 1) if pin else (None, None)
    work = Path(tempfile.mkdtemp(prefix="junction-leak-"))
    procs: list[Proc] = []
    try:
        for stream in (False, True):
            (work / ("stream.json" if stream else "plain.json")).write_bytes(servers.body(stream))
        upstream = servers.instant_spec(20, client_cpu).start(work)
        procs.append(upstream.proc)
        servers.wait_up(upstream, timeout=30)
        config = servers.features_config(upstream.port, f"sqlite:///{work}/log.db", None)
        junction = servers.junction_spec(work, "junction", config, gateway_cpu).start(work)
        procs.append(junction.proc)
        junction.key = servers.MASTER_KEY  # until the virtual key exists
        servers.wait_up(junction, timeout=60)
        key = servers.create_key(junction)
        print(f"load average {load_average()}; {args.requests:,} requests", file=sys.stderr)
        done, at_warm, start = 0, None, time.monotonic()
        window = 0
        while done < args.requests:
            stream = window % 2 == 1
            body = work / ("stream.json" if stream else "plain.json")
            expect = servers.EXPECT_STREAM if stream else servers.EXPECT_PLAIN
            res = run_wrk(junction.port, body, expect, 16, WINDOW_SECONDS, key, client_cpu)
            if res["errors"] or res["bad"]:
                raise RuntimeError(f"window {window}: {res['errors']} errors, {res['bad']} bad")
            done += int(res["requests"])
            window += 1
            rss = status_kib(junction.proc.pid, "VmRSS") / 1024
            print(f"  {done:>9,} requests  RSS {rss:6.1f} MiB", file=sys.stderr)
            if at_warm is None and done >= WARM:
                at_warm = (done, rss)
        assert at_warm is not None
        end = status_kib(junction.proc.pid, "VmRSS") / 1024
        growth = (end - at_warm[1]) / at_warm[1] * 100
        minutes = (time.monotonic() - start) / 60
        print(
            f"RSS {at_warm[1]:.1f} MiB at {at_warm[0]:,} requests, {end:.1f} MiB at "
            f"{done:,}: {growth:+.2f}% ({minutes:.1f} min, load average {load_average()})"
        )
    finally:
        for proc in reversed(procs):
            proc.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
