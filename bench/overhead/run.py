"""Gateway overhead: junction vs the bare upstream vs LiteLLM's proxy, in one run.

Starts the provider simulator (no sleeps), junction and LiteLLM's proxy (one
worker each, both pointing at that simulator), checks each answers correctly,
warms them up, then runs the loads interleaved -- direct, junction, litellm,
direct, junction, litellm, ... -- for several rounds, and prints markdown
tables of medians. Everything it started is stopped at the end, even on error.

Loads (127.0.0.1 only, each bounded by --duration):
  plain-c1    non-streaming chat completion, 1 connection (latency)       wrk
  plain-c32   non-streaming, 32 connections (throughput)                  wrk
  stream-c1   stream + include_usage (~53 SSE events), 1 connection:
              time to first body byte and total time                      Python client
  stream-c32  streaming, 32 connections (throughput)                      wrk

Gateway CPU is user+sys time of the gateway's process tree from /proc, read
before and after each load.

    python bench/overhead/run.py [--rounds 3] [--duration 5]
"""

from __future__ import annotations

import argparse
import http.client
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import servers
from procs import Proc, load_average, tree_cpu_seconds

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
TARGETS = ("direct", "junction", "litellm")
GATEWAYS = ("junction", "litellm")


@dataclass(frozen=True)
class Load:
    name: str
    stream: bool
    conns: int

    @property
    def tool(self) -> str:
        return "client" if self.stream and self.conns == 1 else "wrk"


LOADS = (
    Load("plain-c1", False, 1),
    Load("plain-c32", False, 32),
    Load("stream-c1", True, 1),
    Load("stream-c32", True, 32),
)

Result = dict[str, Any]


# -- load generators -------------------------------------------------------


def run_wrk(port: int, body_file: Path, expect: str, conns: int, seconds: float) -> Result:
    cmd = ["wrk", "-t1", f"-c{conns}", f"-d{seconds}s", "--timeout", "10s"]
    cmd += ["-s", str(HERE / "wrk.lua"), f"http://127.0.0.1:{port}{servers.CHAT_PATH}"]
    env = {**os.environ, "BENCH_BODY": str(body_file), "BENCH_EXPECT": expect}
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=seconds + 60)
    lines = out.stdout.splitlines()
    data = next((ln[11:] for ln in lines if ln.startswith("BENCH_JSON ")), None)
    if data is None:
        raise RuntimeError(f"wrk failed ({out.returncode}): {out.stdout}\n{out.stderr}")
    raw = json.loads(data)
    sample = next((ln[13:] for ln in lines if ln.startswith("BENCH_SAMPLE ")), "")
    errors = sum(raw[k] for k in ("connect", "read", "write", "timeout"))
    return {
        "requests": raw["requests"],
        "rps": raw["requests"] / (raw["duration_us"] / 1e6),
        "p50_us": raw["p50_us"],
        "p99_us": raw["p99_us"],
        "errors": errors,
        "bad": raw["bad"],
        "sample": sample,
    }


def run_client(port: int, body_file: Path, seconds: int, events: int) -> Result:
    """The streaming latency client, in its own process (see client_main)."""
    cmd = [sys.executable, __file__, "--stream-client", str(port), "--body", str(body_file)]
    cmd += ["--duration", str(seconds), "--events", str(events)]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60)
    if out.returncode != 0:
        raise RuntimeError(f"stream client failed: {out.stderr}")
    result: Result = json.loads(out.stdout)
    return result


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def client_main(port: int, body_file: Path, seconds: float, events_expected: int) -> None:
    """One keep-alive connection, requests back to back: time to the first
    body byte (the first SSE event) and to the end of the stream."""
    payload = body_file.read_bytes()
    headers = {"content-type": "application/json", "authorization": "Bearer sk-bench"}
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    ttfb: list[float] = []
    total: list[float] = []
    bad = errors = 0
    sample = ""
    start = time.perf_counter()
    while time.perf_counter() - start < seconds and len(total) < 100_000:
        t0 = time.perf_counter()
        try:
            conn.request("POST", servers.CHAT_PATH, body=payload, headers=headers)
            resp = conn.getresponse()
            first = resp.read1(65536)
            t1 = time.perf_counter()
            data = first + resp.read()
            t2 = time.perf_counter()
        except (OSError, http.client.HTTPException) as exc:
            errors += 1
            sample = sample or repr(exc)
            conn.close()
            continue
        events = data.count(b"data: ")
        if resp.status != 200 or events != events_expected:
            bad += 1
            sample = sample or f"{resp.status} {events} events {data[:300]!r}"
            continue
        ttfb.append((t1 - t0) * 1e6)
        total.append((t2 - t0) * 1e6)
    elapsed = time.perf_counter() - start
    conn.close()
    n = len(total)
    result = {
        "requests": n + bad,
        "rps": n / elapsed,
        "p50_us": _percentile(total, 0.5) if n else 0.0,
        "p99_us": _percentile(total, 0.99) if n else 0.0,
        "ttfb_p50_us": _percentile(ttfb, 0.5) if n else 0.0,
        "ttfb_p99_us": _percentile(ttfb, 0.99) if n else 0.0,
        "errors": errors,
        "bad": bad,
        "sample": sample,
    }
    print(json.dumps(result))


# -- one measurement -------------------------------------------------------


def measure(
    load: Load, port: int, gateway: Proc | None, sim: Proc, args: Args, seconds: int
) -> Result:
    body_file = args.work / ("stream.json" if load.stream else "plain.json")
    expect = servers.EXPECT_STREAM if load.stream else servers.EXPECT_PLAIN
    gw0 = tree_cpu_seconds(gateway.pid) if gateway else 0.0
    sim0 = tree_cpu_seconds(sim.pid)
    if load.tool == "client":
        res = run_client(port, body_file, seconds, args.events)
    else:
        res = run_wrk(port, body_file, expect, load.conns, seconds)
    res["window_s"] = seconds
    per_1k = 1000 / max(1.0, res["requests"])
    res["sim_cpu_s_per_1k"] = (tree_cpu_seconds(sim.pid) - sim0) * per_1k
    if gateway:
        if not gateway.alive():
            raise RuntimeError(f"{gateway.name} died during {load.name}:\n{gateway.tail()}")
        res["gw_cpu_s_per_1k"] = (tree_cpu_seconds(gateway.pid) - gw0) * per_1k
    return res


@dataclass
class Args:
    rounds: int
    duration: int
    work: Path
    events: int = 0  # SSE data events in a whole stream


def run_rounds(
    ports: dict[str, int],
    procs: dict[str, Proc],
    sim: Proc,
    args: Args,
    windows: dict[tuple[str, str], int],
) -> dict[str, dict[str, list[Result]]]:
    results: dict[str, dict[str, list[Result]]] = {
        ld.name: {t: [] for t in TARGETS} for ld in LOADS
    }
    for rnd in range(1, args.rounds + 1):
        for load in LOADS:
            for target in TARGETS:  # interleaved: direct, junction, litellm
                seconds = windows.get((load.name, target), args.duration)
                res = measure(load, ports[target], procs.get(target), sim, args, seconds)
                results[load.name][target].append(res)
                print(
                    f"  round {rnd} {load.name:10} {target:8} {res['rps']:8.0f} req/s "
                    f"p50 {res['p50_us']:8.0f} us  errors {res['errors']:.0f} bad {res['bad']:.0f}",
                    file=sys.stderr,
                )
    return results


def warm_up(ports: dict[str, int], args: Args) -> dict[tuple[str, str], int]:
    """Warm every target up at 32 connections and size the 32-connection windows.

    wrk counts the requests completed in its window; the up to 32 still in
    flight at the end have used CPU but are not counted. A target slow
    enough to complete fewer than 8 x 32 requests in --duration gets a longer
    window (at most 4 x --duration), which keeps that bias under ~12%.
    """
    windows = {}
    for target in TARGETS:
        for load in (ld for ld in LOADS if ld.conns > 1):
            body_file = args.work / ("stream.json" if load.stream else "plain.json")
            expect = servers.EXPECT_STREAM if load.stream else servers.EXPECT_PLAIN
            rps = run_wrk(ports[target], body_file, expect, load.conns, 3)["rps"]
            needed = math.ceil(8 * load.conns / rps) if rps else 4 * args.duration
            windows[(load.name, target)] = max(args.duration, min(4 * args.duration, needed))
    return windows


# -- report ----------------------------------------------------------------


def med(rs: list[Result], key: str) -> float:
    return statistics.median(r[key] for r in rs)


def ratio(num: list[Result], den: list[Result], key: str) -> str:
    """Median of the per-round ratios, with their range."""
    rs = [a[key] / b[key] for a, b in zip(num, den, strict=True) if b[key]]
    if not rs:
        return "n/a"
    return f"{statistics.median(rs):.2f}x ({min(rs):.2f}-{max(rs):.2f})"


def added(num: list[Result], den: list[Result], key: str) -> str:
    """Median of the per-round differences (µs), with their range."""
    ds = [a[key] - b[key] for a, b in zip(num, den, strict=True)]
    return f"+{statistics.median(ds):,.0f} ({min(ds):,.0f} to {max(ds):,.0f})"


def cpu(rs: list[Result]) -> str:
    return f"{med(rs, 'gw_cpu_s_per_1k'):.3f}" if "gw_cpu_s_per_1k" in rs[0] else "-"


def table_latency(r: dict[str, list[Result]], stream: bool) -> list[str]:
    if stream:
        head = "| target | TTFB p50 µs | TTFB p99 µs | total p50 µs | total p99 µs "
        head += "| added TTFB p50 µs | added total p50 µs | gateway CPU s/1000 req |"
        lines = [head, "|---|--:|--:|--:|--:|--:|--:|--:|"]
    else:
        head = "| target | p50 µs | p99 µs | added p50 µs | req/s | gateway CPU s/1000 req |"
        lines = [head, "|---|--:|--:|--:|--:|--:|"]
    for t in TARGETS:
        rs, base = r[t], r["direct"]
        extra = "-" if t == "direct" else added(rs, base, "p50_us")
        if stream:
            extra_ttfb = "-" if t == "direct" else added(rs, base, "ttfb_p50_us")
            lines.append(
                f"| {t} | {med(rs, 'ttfb_p50_us'):,.0f} | {med(rs, 'ttfb_p99_us'):,.0f} "
                f"| {med(rs, 'p50_us'):,.0f} | {med(rs, 'p99_us'):,.0f} | {extra_ttfb} "
                f"| {extra} | {cpu(rs)} |"
            )
        else:
            lines.append(
                f"| {t} | {med(rs, 'p50_us'):,.0f} | {med(rs, 'p99_us'):,.0f} | {extra} "
                f"| {med(rs, 'rps'):,.0f} | {cpu(rs)} |"
            )
    return lines


def table_throughput(r: dict[str, list[Result]]) -> list[str]:
    lines = [
        "| target | req/s | p50 ms | p99 ms | req/s vs direct | gateway CPU s/1000 req "
        "| simulator CPU s/1000 req | completed / window |",
        "|---|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for t in TARGETS:
        rs = r[t]
        vs = "1.00x" if t == "direct" else ratio(rs, r["direct"], "rps")
        lines.append(
            f"| {t} | {med(rs, 'rps'):,.0f} | {med(rs, 'p50_us') / 1000:.1f} "
            f"| {med(rs, 'p99_us') / 1000:.1f} | {vs} | {cpu(rs)} "
            f"| {med(rs, 'sim_cpu_s_per_1k'):.3f} "
            f"| {med(rs, 'requests'):,.0f} / {rs[0]['window_s']} s |"
        )
    return lines


def table_summary(results: dict[str, dict[str, list[Result]]]) -> list[str]:
    p1, p32 = results["plain-c1"], results["plain-c32"]
    s1, s32 = results["stream-c1"], results["stream-c32"]
    j, ll = "junction", "litellm"
    rows = [
        ("added p50 latency, plain c=1 (µs)", added(p1[j], p1["direct"], "p50_us"), ""),
        ("", "", added(p1[ll], p1["direct"], "p50_us")),
        ("added TTFB p50, stream c=1 (µs)", added(s1[j], s1["direct"], "ttfb_p50_us"), ""),
        ("", "", added(s1[ll], s1["direct"], "ttfb_p50_us")),
    ]
    lines = [
        "| measure | junction | litellm | junction/litellm |",
        "|---|--:|--:|--:|",
        f"| {rows[0][0]} | {rows[0][1]} | {rows[1][2]} | |",
        f"| {rows[2][0]} | {rows[2][1]} | {rows[3][2]} | |",
    ]
    for name, r in (("plain c=32", p32), ("stream c=32", s32)):
        lines.append(
            f"| req/s vs direct, {name} | {ratio(r[j], r['direct'], 'rps')} "
            f"| {ratio(r[ll], r['direct'], 'rps')} | {ratio(r[j], r[ll], 'rps')} |"
        )
    for load in LOADS:
        r = results[load.name]
        lines.append(
            f"| gateway CPU s/1000 req, {load.name} | {cpu(r[j])} | {cpu(r[ll])} "
            f"| {ratio(r[j], r[ll], 'gw_cpu_s_per_1k')} |"
        )
    return lines


def problems(results: dict[str, dict[str, list[Result]]]) -> list[str]:
    out = []
    for load, by_target in results.items():
        for t, rs in by_target.items():
            errors = sum(r["errors"] for r in rs)
            bad = sum(r["bad"] for r in rs)
            total = sum(r["requests"] for r in rs)
            if errors or bad:
                sample = next((r["sample"] for r in rs if r["sample"]), "")
                out.append(
                    f"- {load} {t}: {bad:.0f} bad answers and {errors:.0f} socket errors "
                    f"in {total:.0f} requests; first: `{sample}`"
                )
    return out


def report(results: dict[str, dict[str, list[Result]]], header: str) -> str:
    parts = [header, "", "Summary (median of per-round values, range in brackets):", ""]
    parts += table_summary(results)
    parts += ["", "Non-streaming, concurrency 1:", "", *table_latency(results["plain-c1"], False)]
    parts += ["", "Non-streaming, concurrency 32:", "", *table_throughput(results["plain-c32"])]
    parts += ["", "Streaming, concurrency 1:", "", *table_latency(results["stream-c1"], True)]
    parts += ["", "Streaming, concurrency 32:", "", *table_throughput(results["stream-c32"])]
    errs = problems(results)
    parts += ["", "Errors: " + ("none" if not errs else ""), *errs]
    return "\n".join(parts)


# -- main ------------------------------------------------------------------


def bench(args: Args, litellm: str) -> str:
    for stream in (False, True):
        (args.work / ("stream.json" if stream else "plain.json")).write_bytes(servers.body(stream))
    procs: dict[str, Proc] = {}
    try:
        direct = servers.start_sim(args.work)
        sim, sim_port = direct.proc, direct.port
        procs["sim"] = sim
        servers.wait_up(direct, timeout=30)
        jn = servers.start_junction(args.work, sim_port)
        procs["junction"] = jn.proc
        ll = servers.start_litellm(args.work, sim_port, litellm)
        procs["litellm"] = ll.proc
        servers.wait_up(jn, timeout=60)
        servers.wait_up(ll, timeout=180)
        ports = {"direct": sim_port, "junction": jn.port, "litellm": ll.port}
        args.events = servers.stream_events(direct)
        for target in (jn, ll):
            servers.check_answers(target, args.events)
        print(f"ready; load average {load_average()}; warming up", file=sys.stderr)
        windows = warm_up(ports, args)
        load_before = load_average()
        started = time.strftime("%Y-%m-%d %H:%M %Z")
        results = run_rounds(ports, {k: procs[k] for k in GATEWAYS}, sim, args, windows)
        header = (
            f"<!-- {started} | junction {servers.git_head(REPO)} | "
            f"{servers.litellm_version(litellm)} | {os.cpu_count()} CPUs | "
            f"load average before {load_before}, after {load_average()} | "
            f"rounds={args.rounds} duration={args.duration}s -->"
        )
        (args.work / "results.json").write_text(json.dumps(results, indent=1))
        return report(results, header)
    finally:
        for proc in reversed(procs.values()):
            proc.stop()


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--duration", type=int, default=5, help="seconds per load")
    ap.add_argument("--litellm", default="/work/venvs/litellm/bin/litellm")
    ap.add_argument("--keep", action="store_true", help="keep the scratch directory (logs)")
    ap.add_argument("--stream-client", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--body", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--events", type=int, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.stream_client:
        return client_main(a.stream_client, a.body, a.duration, a.events)
    if shutil.which("wrk") is None:
        sys.exit("wrk is needed: apt-get install -y wrk")
    if not Path(a.litellm).exists():
        sys.exit(f"no LiteLLM at {a.litellm}: see bench/overhead/README.md")
    work = Path(tempfile.mkdtemp(prefix="junction-overhead-"))
    try:
        print(bench(Args(a.rounds, a.duration, work), a.litellm))
    finally:
        if a.keep:
            print(f"logs and results.json in {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
