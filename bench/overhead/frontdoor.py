"""What the front door's limits cost per request: two source trees, same load.

Starts the no-sleep simulator once, then ``junction serve`` from each tree
(``--before``, say a checkout from before a change, and ``--after``,
default this checkout's src/) in turn, over several interleaved rounds. Each round sends
plain chat requests over keep-alive connections (a small asyncio client,
no wrk needed) and reads the gateway process's CPU time from /proc:
CPU microseconds per request is the figure; req/s is printed too but on a
shared machine it moves with the neighbours.

    python bench/overhead/frontdoor.py --before ../old/src --rounds 5 --duration 5
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

from procs import Proc, free_port, load_average, tree_cpu_seconds
from servers import CHAT_PATH, JUNCTION_CONFIG, MODEL, Target, body, start_sim, wait_up

ROOT = Path(__file__).resolve().parents[2]


def start_gateway(work: Path, name: str, src: Path, sim_port: int) -> tuple[Proc, int]:
    cfg = work / "junction.yaml"
    cfg.write_text(JUNCTION_CONFIG.format(model=MODEL, sim_port=sim_port))
    port = free_port()
    cmd = [sys.executable, "-m", "junction.cli", "serve", "--config", str(cfg)]
    proc = Proc(name, [*cmd, "--port", str(port)], work / f"{name}.log", {"PYTHONPATH": str(src)})
    return proc, port


async def _client(port: int, request: bytes, stop: float, counts: list[int]) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while time.monotonic() < stop:
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            if not head.startswith(b"HTTP/1.1 200"):
                raise RuntimeError(f"answer {head[:60]!r}")
            length = next(
                int(line.split(b":", 1)[1])
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length:")
            )
            await reader.readexactly(length)
            counts[0] += 1
    finally:
        writer.close()


async def load(port: int, connections: int, duration: float) -> int:
    payload = body(False)
    request = (
        f"POST {CHAT_PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\ncontent-type: application/json\r\n"
        f"content-length: {len(payload)}\r\n\r\n"
    ).encode() + payload
    counts = [0]
    stop = time.monotonic() + duration
    await asyncio.gather(*[_client(port, request, stop, counts) for _ in range(connections)])
    return counts[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", type=Path, required=True, help="src/ of the other tree")
    parser.add_argument("--after", type=Path, default=ROOT / "src")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--connections", type=int, default=8)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        sim = start_sim(work)
        procs = [sim.proc]
        try:
            trees = {"before": args.before, "after": args.after}
            gateways = {}
            for name, src in trees.items():
                proc, port = start_gateway(work, name, src, sim.port)
                procs.append(proc)
                gateways[name] = (proc, port)
            for name, (proc, port) in gateways.items():
                wait_up(Target(name, port, proc), 60)
            per_request: dict[str, list[float]] = {name: [] for name in trees}
            rates: dict[str, list[float]] = {name: [] for name in trees}
            for _ in range(args.rounds):
                for name, (proc, port) in gateways.items():
                    cpu0 = tree_cpu_seconds(proc.pid)
                    done = asyncio.run(load(port, args.connections, args.duration))
                    cpu = tree_cpu_seconds(proc.pid) - cpu0
                    per_request[name].append(cpu / done * 1e6)
                    rates[name].append(done / args.duration)
            print(
                f"load average {load_average()}; {args.rounds} rounds x {args.duration:g}s, "
                f"{args.connections} connections, plain chat requests"
            )
            print("| tree | CPU us/request (median) | req/s (median) |")
            print("|---|---|---|")
            for name in trees:
                cpu_med = statistics.median(per_request[name])
                rate_med = statistics.median(rates[name])
                print(f"| {name} ({trees[name]}) | {cpu_med:.0f} | {rate_med:.0f} |")
            ratio = statistics.median(per_request["after"]) / statistics.median(
                per_request["before"]
            )
            print(f"after / before, CPU per request: {ratio:.3f}")
        finally:
            for proc in reversed(procs):
                proc.stop()


if __name__ == "__main__":
    main()
