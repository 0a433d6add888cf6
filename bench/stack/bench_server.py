"""HTTP server benchmark: uvicorn vs granian vs aiohttp.web vs junction's
front door on one worker.

All servers are started once (each in its own process group, on 127.0.0.1),
then wrk (one thread, fixed connections, fixed duration) drives them in
interleaved rounds: A B C ... A B C ... The table reports the median over
rounds of requests/s, p50/p99 latency, and server CPU per request (user+sys of
the server's process tree during the run, read from /proc), plus ratios
against uvicorn + Starlette. Requires Debian's `wrk` (apt-get install wrk).

    python bench/stack/bench_server.py [--rounds 3] [--duration 5] [--connections 32]
        [--only NAME ...]

``--only`` runs some of the servers (names as in the table, e.g.
``--only "uvicorn + bare ASGI" "junction front door + bare ASGI" aiohttp.web``;
granian need not be installed then). The baseline is then the first one.
"""

from __future__ import annotations

import argparse
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from payloads import REQUEST_BYTES
from procs import HERE, free_port, start, stop, tree_cpu_seconds, wait_ready

BASELINE = "uvicorn + Starlette"


def uvicorn_cmd(app: str, port: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "uvicorn",
        app,
        "--app-dir",
        str(HERE),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--loop",
        "uvloop",
        "--http",
        "httptools",
        "--no-access-log",
        "--log-level",
        "warning",
    ]


def granian_cmd(app: str, port: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "granian",
        "--interface",
        "asgi",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        "1",
        "--loop",
        "uvloop",
        "--http",
        "1",
        "--no-access-log",
        "--log-level",
        "warning",
        "--working-dir",
        str(HERE),
        app,
    ]


SERVERS = {
    "uvicorn + bare ASGI": lambda port: uvicorn_cmd("apps:bare_app", port),
    "uvicorn + Starlette": lambda port: uvicorn_cmd("apps:starlette_app", port),
    "granian + bare ASGI": lambda port: granian_cmd("apps:bare_app", port),
    "granian + Starlette": lambda port: granian_cmd("apps:starlette_app", port),
    "aiohttp.web": lambda port: [sys.executable, "apps.py", "aiohttp", str(port)],
    "junction front door + bare ASGI": lambda port: [
        sys.executable,
        "apps.py",
        "junction",
        str(port),
    ],
}
WORKLOADS = {"chat": "/chat", "stream": "/stream"}


def _version(package: str) -> str:
    try:
        return version(package)
    except PackageNotFoundError:
        return "not installed"


def wrk_script(directory: Path) -> Path:
    body = REQUEST_BYTES.decode()
    assert "]==]" not in body
    script = directory / "post.lua"
    script.write_text(
        'wrk.method = "POST"\n'
        'wrk.headers["Content-Type"] = "application/json"\n'
        f"wrk.body = [==[{body}]==]\n"
    )
    return script


_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3}


def _ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()  # type: ignore[union-attr]
    return float(value) * _UNITS[unit]


def run_wrk(script: Path, url: str, connections: int, duration: int) -> dict[str, float]:
    out = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{duration}s", "--latency", "-s", str(script), url],
        capture_output=True,
        text=True,
        check=True,
        timeout=duration + 30,
    ).stdout
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),  # type: ignore[union-attr]
        "requests": float(re.search(r"(\d+) requests in", out).group(1)),  # type: ignore[union-attr]
        "p50": _ms(re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1)),  # type: ignore[union-attr]
        "p99": _ms(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1)),  # type: ignore[union-attr]
        "errors": float(errors.group(1) if errors else 0)
        + (sum(map(int, sock.groups())) if sock else 0),
    }


def check(name: str, workload: str, data: bytes) -> None:
    ok = data.startswith(b'{"id"') if workload == "chat" else data.count(b"data: ") == 51
    if not ok:
        raise RuntimeError(f"{name} gave an unexpected {workload} body: {data[:200]!r}")


def table(results: dict[str, dict[str, list[float]]], baseline: str) -> str:
    med = {name: {k: statistics.median(v) for k, v in m.items()} for name, m in results.items()}
    base = med[baseline]
    lines = [
        f"| server | req/s | p50 ms | p99 ms | server CPU µs/req | server CPU % | errors "
        f"| req/s vs {baseline} | CPU/req vs baseline |",
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for name, m in med.items():
        lines.append(
            f"| {name} | {m['rps']:,.0f} | {m['p50']:.2f} | {m['p99']:.2f} | {m['cpu_us']:,.0f} "
            f"| {m['cpu_pct']:.0f} | {m['errors']:.0f} | {m['rps'] / base['rps']:.2f}x "
            f"| {m['cpu_us'] / base['cpu_us']:.2f}x |"
        )
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--duration", type=int, default=5, help="seconds per wrk run")
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument(
        "--warmup", type=int, default=1, help="seconds of untimed wrk per server and workload"
    )
    ap.add_argument("--only", nargs="+", metavar="NAME", choices=list(SERVERS))
    args = ap.parse_args()
    servers = {name: SERVERS[name] for name in args.only} if args.only else SERVERS
    baseline = BASELINE if BASELINE in servers else next(iter(servers))
    if not shutil.which("wrk"):
        sys.exit("wrk not found: apt-get update && apt-get install -y wrk")

    procs, ports = {}, {}
    try:
        for name, cmd in servers.items():
            ports[name] = free_port()
            procs[name] = start(cmd(ports[name]), re.sub(r"\W+", "-", name))
        for name in servers:
            for workload, path in WORKLOADS.items():
                check(name, workload, wait_ready(ports[name], path, REQUEST_BYTES))
        with tempfile.TemporaryDirectory() as tmp:
            script = wrk_script(Path(tmp))
            print(
                f"<!-- {time.strftime('%Y-%m-%d %H:%M')} | uvicorn {version('uvicorn')} | "
                f"granian {_version('granian')} | starlette {version('starlette')} | "
                f"aiohttp {version('aiohttp')} | wrk -t1 -c{args.connections} -d{args.duration}s | "
                f"rounds={args.rounds} -->"
            )
            for workload, path in WORKLOADS.items():
                results: dict[str, dict[str, list[float]]] = {n: {} for n in servers}
                for name in servers:
                    run_wrk(
                        script,
                        f"http://127.0.0.1:{ports[name]}{path}",
                        args.connections,
                        args.warmup,
                    )
                for _ in range(args.rounds):
                    for name in servers:  # interleaved
                        cpu0 = tree_cpu_seconds(procs[name].pid)
                        r = run_wrk(
                            script,
                            f"http://127.0.0.1:{ports[name]}{path}",
                            args.connections,
                            args.duration,
                        )
                        cpu = tree_cpu_seconds(procs[name].pid) - cpu0
                        r["cpu_us"] = cpu / r["requests"] * 1e6
                        r["cpu_pct"] = cpu / args.duration * 100
                        for k, v in r.items():
                            results[name].setdefault(k, []).append(v)
                what = (
                    "POST /chat (2 KB JSON in, 1 KB JSON out)"
                    if workload == "chat"
                    else (
                        "POST /stream (2 KB JSON in, 50 SSE chunks + [DONE] out; "
                        "latency = whole stream)"
                    )
                )
                print(f"\n### Server, {what}: median of {args.rounds} interleaved rounds\n")
                print(table(results, baseline))
    finally:
        for proc in procs.values():
            stop(proc)


if __name__ == "__main__":
    main()
