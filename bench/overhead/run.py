"""Gateway overhead: what each gateway adds to an upstream that answers instantly.

One run, one upstream (instant_upstream.py, --chunks 20), these targets side
by side:

  direct             the upstream itself (the floor)
  thin               thin_proxy.py: aiohttp server + one pooled aiohttp client
  junction           junction serve, one process, one model, features off
  junction-features  + master key, a virtual key with a rate limit and a budget
                     sent as Bearer, the request log (SQLite), metrics
  junction-shared    the same features on Redis and PostgreSQL (--no-shared, or
                     either unreachable: skipped with a note)
  litellm            LiteLLM's proxy, one worker (only with --litellm [PATH])

Gateways run under ``taskset -c 0``; the upstream, wrk, the streaming client
and this script on CPU 1 (with 2 CPUs or more; otherwise nothing is pinned).
After checks and a warm-up, the loads run one at a time, interleaved over
rounds (round 1: every load on every target, round 2: ...):

  plain-c1    non-streaming, wrk -t1 -c1: p50/p90/p99, req/s
  plain-c16   non-streaming, wrk -t1 -c16: a gateway process's req/s
  stream-c1   streaming, one keep-alive connection (asyncio client): time to
              the first SSE event, the whole stream, the gaps between events
  startup     a fresh copy of each target: launch to its first 200 (10 ms polls)

Gateway CPU per request is user+sys time of its process tree from /proc,
read around each load; memory is VmRSS after start and VmHWM after the loads.
Prints a markdown report and writes results.json into the scratch directory
(kept with --keep). Everything it started is stopped at the end, even on error.

    python bench/overhead/run.py [--rounds 3] [--duration 5] [--litellm [PATH]]
    python bench/overhead/run.py --quick     # direct, thin, junction; ~20 s
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import servers
from loads import Result, run_stream_client, run_wrk
from procs import Proc, load_average, tree_cpu_seconds, tree_status_kib, wait_ready
from report import PLAIN_C1, PLAIN_C16, STREAM_C1, Run, report
from servers import Spec, Target

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
ORDER = ("direct", "thin", "junction", "junction-features", "junction-shared", "litellm")
LITELLM_DEFAULT = "/work/venvs/litellm/bin/litellm"
LITELLM_PACKAGE = "litellm[proxy]==1.99.4"
STARTUP_POLL = 0.01  # seconds between the start-up probe's requests

__all__ = ["main", "run_wrk"]  # hotpath.py imports run_wrk from here


@dataclass(frozen=True)
class Load:
    name: str
    stream: bool
    conns: int


LOADS = (Load(PLAIN_C1, False, 1), Load(PLAIN_C16, False, 16), Load(STREAM_C1, True, 1))


@dataclass
class Settings:
    rounds: int
    duration: int  # seconds per load
    warmup: int  # seconds of wrk at 16 connections per target (and half of it streaming)
    work: Path
    chunks: int
    litellm: str | None  # the litellm executable, or None: no litellm
    features: bool  # junction-features
    shared: bool  # junction-shared (when PostgreSQL and Redis answer)
    gateway_cpu: int | None = None
    load_cpu: int | None = None
    pinning: str = "none"
    notes: list[str] = field(default_factory=list)


@dataclass
class Bench:
    """The running targets of one run, and what is known about them."""

    settings: Settings
    specs: dict[str, Spec] = field(default_factory=dict)
    targets: dict[str, Target] = field(default_factory=dict)
    extra: list[Proc] = field(default_factory=list)  # start-up probes, stopped at the end
    events: dict[str, int] = field(default_factory=dict)  # SSE events in a whole stream
    windows: dict[str, int] = field(default_factory=dict)

    @property
    def upstream(self) -> Target:
        return self.targets["direct"]

    @property
    def names(self) -> list[str]:
        return [t for t in ORDER if t in self.targets]


# -- starting the targets -----------------------------------------------------------


def pin_cpus() -> tuple[int | None, int | None, str]:
    """(gateway CPU, load CPU, what the header says); this script moves to the load CPU."""
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2 or shutil.which("taskset") is None:
        why = f"{len(cpus)} CPU" if len(cpus) < 2 else "no taskset"
        return None, None, f"none ({why}): every process shares the CPUs"
    gateway, load = cpus[0], cpus[1]
    os.sched_setaffinity(0, {load})
    return (
        gateway,
        load,
        (f"gateways on CPU {gateway}; upstream, wrk, stream client and harness on CPU {load}"),
    )


def gateway_specs(bench: Bench, shared: servers.SharedStores | None) -> dict[str, Spec]:
    s, work, up = bench.settings, bench.settings.work, bench.upstream.port
    cpu = s.gateway_cpu
    config = servers.JUNCTION_CONFIG.format(model=servers.MODEL, sim_port=up)
    specs = {
        "thin": servers.thin_spec(up, cpu),
        "junction": servers.junction_spec(work, "junction", config, cpu),
    }
    if s.features:
        sqlite = f"sqlite:///{work / 'junction-features.db'}"
        features = servers.features_config(up, sqlite, None)
        specs["junction-features"] = servers.junction_spec(work, "junction-features", features, cpu)
    if shared is not None:
        redis = (shared.redis_url, shared.redis_prefix)
        text = servers.features_config(up, shared.database_url, redis)
        specs["junction-shared"] = servers.junction_spec(work, "junction-shared", text, cpu)
    if s.litellm is not None:
        specs["litellm"] = servers.litellm_spec(work, up, s.litellm, cpu)
    return specs


def start_all(bench: Bench, specs: dict[str, Spec], memory: dict[str, Result]) -> None:
    """Start every gateway at once, wait for each, note its RSS, make the keys."""
    work = bench.settings.work
    for name, spec in specs.items():
        bench.specs[name] = spec
        bench.targets[name] = spec.start(work)
    for name in bench.names:
        target = bench.targets[name]
        if name.startswith("junction-"):
            target.key = servers.MASTER_KEY  # until the virtual key exists
        servers.wait_up(target, bench.specs[name].ready_timeout)
        rss, procs = tree_status_kib(target.proc.pid, "VmRSS")
        memory[name] = {"rss_start_kib": rss, "processes": procs}
        if name.startswith("junction-"):
            target.key = servers.create_key(target)
            servers.check_limited(target)


# -- measuring -----------------------------------------------------------------------


def body_file(bench: Bench, stream: bool) -> Path:
    return bench.settings.work / ("stream.json" if stream else "plain.json")


def measure(bench: Bench, load: Load, name: str, seconds: int) -> Result:
    s, target, upstream = bench.settings, bench.targets[name], bench.upstream
    key = target.key or servers.DUMMY_KEY
    gateway = None if name == "direct" else target.proc
    gw0 = tree_cpu_seconds(gateway.pid) if gateway else 0.0
    up0 = tree_cpu_seconds(upstream.proc.pid)
    if load.stream:
        res = run_stream_client(
            target.port, body_file(bench, True), seconds, bench.events[name], key, s.load_cpu
        )
    else:
        expect = servers.EXPECT_PLAIN
        res = run_wrk(
            target.port, body_file(bench, False), expect, load.conns, seconds, key, s.load_cpu
        )
    res["window_s"] = seconds
    per_req = 1e6 / max(1.0, res["requests"])
    res["up_cpu_us"] = (tree_cpu_seconds(upstream.proc.pid) - up0) * per_req
    if gateway is not None:
        if not gateway.alive():
            raise RuntimeError(f"{name} died during {load.name}:\n{gateway.tail()}")
        res["gw_cpu_us"] = (tree_cpu_seconds(gateway.pid) - gw0) * per_req
    return res


def time_startup(bench: Bench, name: str, rnd: int) -> Result:
    """Launch a fresh copy of a target, POST a chat completion every 10 ms until
    the first 200: the seconds from the launch to that answer."""
    spec, target = bench.specs[name], bench.targets[name]
    t0 = time.perf_counter()
    probe = spec.start(bench.settings.work, log=f"{name}-startup-{rnd}.log")
    bench.extra.append(probe.proc)
    try:
        probe.key = target.key
        ready = wait_ready(
            probe.proc,
            probe.port,
            servers.CHAT_PATH,
            servers.body(False),
            spec.ready_timeout,
            probe.headers,
            poll=STARTUP_POLL,
        )
    finally:
        probe.proc.stop()
    return {"seconds": ready - t0}


def warm_up(bench: Bench) -> None:
    """Warm every target up (wrk at 16 connections, then the streaming client) and
    size the 16-connection windows: wrk counts only the requests completed in its
    window, so the up to 16 still in flight at its end used CPU uncounted; a
    target completing fewer than 8 x 16 of them in --duration gets a longer
    window (at most 4 x --duration), which keeps that bias under ~12%."""
    s = bench.settings
    for name in bench.names:
        target = bench.targets[name]
        key = target.key or servers.DUMMY_KEY
        plain = body_file(bench, False)
        rps = run_wrk(target.port, plain, servers.EXPECT_PLAIN, 16, s.warmup, key, s.load_cpu)
        rps_value = rps["rps"]
        needed = math.ceil(8 * 16 / rps_value) if rps_value else 4 * s.duration
        bench.windows[name] = max(s.duration, min(4 * s.duration, needed))
        stream = body_file(bench, True)
        events = bench.events[name]
        run_stream_client(target.port, stream, s.warmup / 2, events, key, s.load_cpu)


def run_rounds(bench: Bench) -> tuple[dict[str, dict[str, list[Result]]], dict[str, list[Result]]]:
    s, names = bench.settings, bench.names
    loads: dict[str, dict[str, list[Result]]] = {ld.name: {t: [] for t in names} for ld in LOADS}
    startup: dict[str, list[Result]] = {t: [] for t in names}
    for rnd in range(1, s.rounds + 1):
        for load in LOADS:
            for name in names:
                seconds = bench.windows[name] if load.conns > 1 else s.duration
                res = measure(bench, load, name, seconds)
                loads[load.name][name].append(res)
                print(
                    f"  round {rnd} {load.name:9} {name:17} {res['rps']:8.0f} req/s "
                    f"p50 {res['p50_us']:8.0f} us  errors {res['errors']:.0f} bad {res['bad']:.0f}",
                    file=sys.stderr,
                )
        for name in names:
            startup[name].append(time_startup(bench, name, rnd))
            ms = startup[name][-1]["seconds"] * 1000
            print(f"  round {rnd} startup   {name:17} {ms:8.0f} ms", file=sys.stderr)
    return loads, startup


# -- the run -------------------------------------------------------------------------


@contextlib.contextmanager
def shared_stores(s: Settings) -> Iterator[servers.SharedStores | None]:
    """The run's PostgreSQL database and Redis prefix, cleaned up at the end; None
    (with a note) when --no-shared or when either cannot be reached."""
    if not s.shared:
        yield None
        return
    try:
        shared = servers.open_shared()
    except RuntimeError as exc:
        s.notes.append(f"junction-shared skipped: {exc}")
        yield None
        return
    s.notes.append("junction-shared: PostgreSQL and Redis are this machine's services, not pinned")
    try:
        yield shared
    finally:
        s.notes += servers.close_shared(shared)


def bench(s: Settings) -> tuple[Run, dict[str, object]]:
    for stream in (False, True):
        (s.work / ("stream.json" if stream else "plain.json")).write_bytes(servers.body(stream))
    b = Bench(s)
    memory: dict[str, Result] = {}
    with shared_stores(s) as shared:
        try:
            b.specs["direct"] = servers.instant_spec(s.chunks, s.load_cpu)
            b.targets["direct"] = b.specs["direct"].start(s.work)
            servers.wait_up(b.upstream, 30)
            rss, procs = tree_status_kib(b.upstream.proc.pid, "VmRSS")
            memory["direct"] = {"rss_start_kib": rss, "processes": procs}
            start_all(b, gateway_specs(b, shared), memory)
            b.events["direct"], text = servers.upstream_stream(b.upstream)
            for name in b.names[1:]:
                b.events[name] = servers.check_answers(b.targets[name], text)
            print(f"ready; load average {load_average()}; warming up", file=sys.stderr)
            warm_up(b)
            load_before = load_average()
            started = time.strftime("%Y-%m-%d %H:%M %Z")
            loads, startup = run_rounds(b)
            for name in b.names:
                hwm, procs = tree_status_kib(b.targets[name].proc.pid, "VmHWM")
                memory[name].update(hwm_kib=hwm, processes=procs)
            header = header_line(s, started, load_before)
        finally:
            for proc in [*b.extra, *(t.proc for t in reversed(b.targets.values()))]:
                proc.stop()
        run = Run(header, b.names, loads, startup, memory, s.chunks, b.events, s.notes)
    meta = {"windows_s": b.windows, "settings": {k: str(v) for k, v in vars(s).items()}}
    return run, meta


def header_line(s: Settings, started: str, load_before: str) -> str:
    litellm = servers.litellm_version(s.litellm) if s.litellm else "litellm not run"
    return (
        f"Run {started} | junction {servers.git_head(REPO)} | {litellm} | "
        f"{os.cpu_count()} CPUs | load average before {load_before}, after {load_average()} | "
        f"rounds={s.rounds}, {s.duration} s per load | pinning: {s.pinning}"
    )


def ensure_litellm(path: str) -> str:
    """The litellm executable at path; when missing and path is VENV/bin/litellm,
    make that virtualenv and install LITELLM_PACKAGE into it."""
    exe = Path(path)
    if exe.exists():
        return path
    if exe.parent.name != "bin":
        sys.exit(f"no LiteLLM at {path} (give VENV/bin/litellm to have it installed there)")
    venv = exe.parent.parent
    print(f"installing {LITELLM_PACKAGE} into {venv} (a few minutes)", file=sys.stderr)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", LITELLM_PACKAGE]
    subprocess.run(pip, check=True, timeout=1800)
    if not exe.exists():
        sys.exit(f"installed {LITELLM_PACKAGE} into {venv}, but there is no {exe}")
    return path


def settings_from(a: argparse.Namespace, work: Path) -> Settings:
    if a.quick:
        s = Settings(1, 1, 1, work, a.chunks, None, features=False, shared=False)
    else:
        litellm = ensure_litellm(a.litellm) if a.litellm else None
        s = Settings(a.rounds, a.duration, 3, work, a.chunks, litellm, True, not a.no_shared)
    s.gateway_cpu, s.load_cpu, s.pinning = pin_cpus()
    if a.quick:
        s.notes.append("quick mode: direct, thin and junction only; 1 round of 1 s loads")
        return s
    if a.no_shared:
        s.notes.append("junction-shared skipped: --no-shared")
    if s.litellm is None:
        s.notes.append("litellm not run (--litellm [PATH] runs it)")
    return s


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--duration", type=int, default=5, help="seconds per load (whole)")
    ap.add_argument("--chunks", type=int, default=20, help="content chunks per stream")
    ap.add_argument(
        "--litellm",
        nargs="?",
        const=LITELLM_DEFAULT,
        metavar="PATH",
        help=f"also run LiteLLM's proxy (default {LITELLM_DEFAULT}; installed there if missing)",
    )
    ap.add_argument("--no-shared", action="store_true", help="skip junction-shared")
    ap.add_argument(
        "--quick", action="store_true", help="direct, thin, junction; 1 round of 1 s loads"
    )
    ap.add_argument("--keep", action="store_true", help="keep the scratch directory")
    a = ap.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is needed: apt-get install -y wrk")
    if a.rounds < 1 or a.duration < 1:
        sys.exit("--rounds and --duration must be at least 1")
    work = Path(tempfile.mkdtemp(prefix="junction-overhead-"))
    try:
        s = settings_from(a, work)
        run, meta = bench(s)
        (work / "results.json").write_text(
            json.dumps({**dataclasses.asdict(run), **meta}, indent=1)
        )
        print(report(run))
    finally:
        if a.keep:
            print(f"logs and results.json in {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
