"""Where a gateway's CPU goes per request: a stack sampler under load, by function.

Starts the simulator and one gateway (junction by default, or LiteLLM) as
run.py does, warms it up, then for each load (non-streaming and streaming;
wrk, 32 connections unless --connections) samples the gateway while the
load runs:

- ``--sampler cpu`` (junction only, the default): junction runs under
  cpu_sampler.py, which samples on SIGPROF, a timer counting the process's
  CPU time, so only time junction actually runs is sampled;
- ``--sampler py-spy``: py-spy from outside. It also samples a thread that
  is runnable but descheduled, so on a busy machine it over-weights the
  places where the gateway is preempted (right after socket writes).

Prints markdown tables of the gateway's own functions (files under
src/junction/, or litellm/ for LiteLLM):

- self: samples whose innermost frame is that function;
- self + libraries: samples whose innermost frame *of the gateway's own code*
  is that function, so time in the C extensions, stdlib and third-party code
  it calls directly (msgspec, aiohttp, asyncio...) counts to it;

and where all samples end, by package. µs/request is the function's share of
the samples times the gateway's CPU time per request measured over the same
window (user+sys from /proc / requests served in it). The raw collapsed
stacks are kept (--out) for a flamegraph (flamegraph.pl or speedscope.app).

    python bench/overhead/hotpath.py [--target junction] [--sampler cpu] [--duration 15]

py-spy (--sampler py-spy, and always for LiteLLM) needs permission to
ptrace the gateway (root, or kernel.yama.ptrace_scope=0); see README.md.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import servers
from procs import load_average, tree_cpu_seconds
from run import run_wrk

OWN = {"junction": "/src/junction/", "litellm": "/site-packages/litellm/"}


def frame_file(frame: str) -> str:
    """'func (path/to/file.py:12)' -> 'path/to/file.py'."""
    inside = frame[frame.rfind("(") + 1 : -1]
    return inside.rsplit(":", 1)[0]


def short(frame: str, own: str) -> str:
    func = frame[: frame.rfind(" (")]
    path = frame_file(frame)
    rel = path.split(own, 1)[1] if own in path else path
    return f"{rel.removesuffix('.py').replace('/', '.')}.{func}"


def package(frame: str) -> str:
    path = frame_file(frame)
    if "site-packages/" in path:
        return path.split("site-packages/", 1)[1].split("/", 1)[0].removesuffix(".py")
    if "/src/junction/" in path:
        return "junction." + path.split("/src/junction/", 1)[1].split("/", 1)[0]
    if path.startswith("<"):
        return path
    return "stdlib " + Path(path).name.removesuffix(".py") if "/lib/python" in path else path


def parse(raw: Path, own: str) -> tuple[Counter[str], Counter[str], Counter[str], int]:
    self_t: Counter[str] = Counter()
    attributed: Counter[str] = Counter()
    packages: Counter[str] = Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack:
            continue
        n = int(count)
        frames = stack.split(";")
        total += n
        leaf = frames[-1]
        packages[package(leaf)] += n
        if own in frame_file(leaf):
            self_t[short(leaf, own)] += n
        mine = next((f for f in reversed(frames) if own in frame_file(f)), None)
        if mine is not None:
            attributed[short(mine, own)] += n
    return self_t, attributed, packages, total


def table(counts: Counter[str], total: int, per_req: float, top: int, what: str) -> list[str]:
    lines = [f"| {what} | samples % | µs/request |", "|---|--:|--:|"]
    for name, n in counts.most_common(top):
        lines.append(f"| `{name}` | {100 * n / total:.1f} | {n * per_req:,.1f} |")
    return lines


def record(target: servers.Target, raw: Path, args: argparse.Namespace) -> None:
    """Sample the gateway for args.duration seconds into raw (collapsed stacks)."""
    if args.sampler == "cpu":  # cpu_sampler.py runs inside the gateway process
        os.kill(target.proc.pid, signal.SIGUSR1)
        time.sleep(args.duration)
        os.kill(target.proc.pid, signal.SIGUSR2)
        stacks = args.work / "stacks.txt"  # where the sampler writes (see main)
        deadline = time.monotonic() + 10
        while not stacks.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.2)  # let the handler finish writing
        stacks.replace(raw)
        return
    spy = [args.py_spy, "record", "--pid", str(target.proc.pid), "-d", str(args.duration)]
    spy += ["-r", str(args.rate), "--nonblocking", "-F", "--full-filenames", "-f", "raw"]
    spy += ["--gil"] if args.gil else []
    subprocess.run([*spy, "-o", str(raw)], check=True, capture_output=True, timeout=120)


def sample(target: servers.Target, load: str, args: argparse.Namespace) -> list[str]:
    stream = load == "stream"
    body_file = args.work / f"{load}.json"
    body_file.write_bytes(servers.body(stream))
    expect = servers.EXPECT_STREAM if stream else servers.EXPECT_PLAIN
    raw = args.out / f"{target.name}-{load}-{args.sampler}.txt"
    raw.unlink(missing_ok=True)
    result: dict[str, float] = {}

    def load_it() -> None:  # wrk runs a little longer than the sampling window
        seconds = args.duration + 2
        key = target.key or servers.DUMMY_KEY
        result.update(run_wrk(target.port, body_file, expect, args.connections, seconds, key))

    loader = threading.Thread(target=load_it)
    loader.start()
    time.sleep(0.5)
    cpu0, t0 = tree_cpu_seconds(target.proc.pid), time.monotonic()
    record(target, raw, args)
    cpu, wall = tree_cpu_seconds(target.proc.pid) - cpu0, time.monotonic() - t0
    loader.join()
    own = OWN[target.name]
    self_t, attributed, packages, total = parse(raw, own)
    served = result["rps"] * wall
    cpu_per_req = cpu * 1e6 / served
    per_req = cpu_per_req / total  # µs of measured CPU per sample, per request
    head = (
        f"### {target.name}, {load}, {args.connections} connections, {args.sampler} sampler: "
        f"{result['rps']:,.0f} req/s; gateway CPU {cpu_per_req:,.0f} µs/request "
        f"({100 * cpu / wall:.0f}% of a core); {total} samples"
    )
    return [
        head,
        "",
        *table(self_t, total, per_req, args.top, "own function, self"),
        "",
        *table(attributed, total, per_req, args.top, "own function, self + libraries it calls"),
        "",
        *table(packages, total, per_req, args.top, "where samples end (package)"),
        "",
        f"raw stacks: {raw}",
        "",
    ]


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--target", choices=sorted(OWN), default="junction")
    ap.add_argument("--duration", type=int, default=15, help="seconds sampled per load")
    ap.add_argument(
        "--rate", type=int, default=250, help="samples per second (cpu: at most the kernel HZ)"
    )
    ap.add_argument("--top", type=int, default=12)
    ap.add_argument(
        "--sampler",
        choices=["cpu", "py-spy"],
        default="cpu",
        help="cpu: SIGPROF sampler inside junction (cpu_sampler.py); py-spy: from outside",
    )
    ap.add_argument("--gil", action="store_true", help="py-spy: only samples holding the GIL")
    ap.add_argument("--loads", default="plain,stream")
    ap.add_argument(
        "--features",
        action="store_true",
        help="junction with the production features on (run.py's junction-features)",
    )
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()))
    ap.add_argument("--py-spy", default=shutil.which("py-spy") or "/work/venvs/tools/bin/py-spy")
    ap.add_argument("--litellm", default="/work/venvs/litellm/bin/litellm")
    args = ap.parse_args()
    if args.target == "litellm":
        args.sampler = "py-spy"  # cpu_sampler.py sees only the main thread; LiteLLM uses more
    if args.sampler == "py-spy" and not Path(args.py_spy).exists():
        sys.exit("py-spy is needed: see bench/overhead/README.md")
    args.work = Path(tempfile.mkdtemp(prefix="junction-profile-"))
    procs = []
    try:
        direct = servers.start_sim(args.work)
        procs.append(direct.proc)
        servers.wait_up(direct, timeout=30)
        if args.target == "junction":
            launcher = None
            if args.sampler == "cpu":
                sampler = str(Path(__file__).with_name("cpu_sampler.py"))
                launcher = [sys.executable, sampler, "--out", str(args.work / "stacks.txt")]
                launcher += ["--hz", str(args.rate), "-m", "junction.cli"]
            config = None
            if args.features:
                database = f"sqlite:///{args.work / 'features.db'}"
                config = servers.features_config(direct.port, database, None)
            target = servers.start_junction(args.work, direct.port, launcher, config)
        else:
            target = servers.start_litellm(args.work, direct.port, args.litellm)
        procs.append(target.proc)
        if args.features:  # the master key until a virtual key exists
            servers.wait_up(dataclasses.replace(target, key=servers.MASTER_KEY), timeout=180)
            target = dataclasses.replace(target, key=servers.create_key(target))
        servers.wait_up(target, timeout=180)
        servers.check_answers(target, servers.stream_events(direct))
        (args.work / "plain.json").write_bytes(servers.body(False))
        warm_key = target.key or servers.DUMMY_KEY
        run_wrk(target.port, args.work / "plain.json", servers.EXPECT_PLAIN, 32, 3, warm_key)
        repo = Path(__file__).resolve().parents[2]
        head = servers.git_head(repo)
        print(f"<!-- {time.strftime('%Y-%m-%d %H:%M %Z')} | junction {head} | ", end="")
        print(f"load average {load_average()} -->\n")
        for load in args.loads.split(","):
            print("\n".join(sample(target, load, args)))
    finally:
        for proc in reversed(procs):
            proc.stop()
        shutil.rmtree(args.work, ignore_errors=True)


if __name__ == "__main__":
    main()
