"""What a change costs per request: two source trees, same load, CPU per request.

Starts the instant upstream once (instant_upstream.py, 20 chunks a stream),
then ``junction serve`` from each tree (``--before``, say a checkout from
before a change, and ``--after``, default this checkout's src/), pinned as in
run.py (gateways on one CPU; the upstream and this client on the other), and
loads them in turn over several interleaved rounds. Each round sends chat requests
over keep-alive connections (a small asyncio client, no wrk needed) and reads
the gateway process's CPU time from /proc: CPU microseconds per request is the
figure; req/s is printed too but on a shared machine it moves with the
neighbours.

``--stream`` sends streamed requests (the upstream's stream, read whole and
checked to end in ``[DONE]``) and also prints the median time to a
stream's first and to its last event (with ``--connections 1``, the
latency a client feels); ``--features`` runs both gateways with the
production features on, as run.py's junction-features target (a master key,
a virtual key with a rate limit and a budget made through the admin API, the
SQLite request log, metrics).

``--startup`` times start-up instead, as run.py does: each round launches a
fresh ``junction serve`` from each tree in turn (on the gateway CPU, the
request log's database made by an uncounted first launch) and POSTs a chat
completion every 10 ms until the first 200; the figure is the median of the
milliseconds from the launch to that answer.

    python bench/overhead/frontdoor.py --before ../old/src --rounds 5 --duration 5
    python bench/overhead/frontdoor.py --before ../old/src --stream --features
    python bench/overhead/frontdoor.py --before ../old/src --startup --rounds 10
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

from loads import BadAnswer, chat_request, one_stream, parse_head
from procs import Proc, free_port, load_average, pinned, tree_cpu_seconds, wait_ready
from run import STARTUP_POLL, pin_cpus
from servers import (
    CHAT_PATH,
    DUMMY_KEY,
    JUNCTION_CONFIG,
    MASTER_KEY,
    MODEL,
    Target,
    body,
    create_key,
    features_config,
    instant_spec,
    wait_up,
)

ROOT = Path(__file__).resolve().parents[2]


def start_gateway(work: Path, name: str, src: Path, config: str, cpu: int | None) -> Target:
    cfg = work / f"{name}.yaml"
    cfg.write_text(config)
    port = free_port()
    cmd = [sys.executable, "-m", "junction.cli", "serve", "--config", str(cfg)]
    cmd = pinned(cpu, [*cmd, "--port", str(port)])
    proc = Proc(name, cmd, work / f"{name}.log", {"PYTHONPATH": str(src)})
    return Target(name, port, proc)


async def _plain(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes
) -> tuple[float, float] | None:
    writer.write(request)
    status, fields = parse_head(await reader.readuntil(b"\r\n\r\n"))
    if status != 200:
        raise BadAnswer(f"answered {status}")
    await reader.readexactly(int(fields["content-length"]))
    return None


async def _streamed(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes
) -> tuple[float, float] | None:
    """One stream, read to the end of its body: (time to the first event,
    time to the last), µs from sending the request."""
    t0, stream = await one_stream(reader, writer, request)
    if not stream.events or stream.events[-1].strip() != b"data: [DONE]":
        raise BadAnswer(f"a stream that did not end in [DONE]: {stream.events[-1:]!r}")
    return (stream.stamps[0] - t0) * 1e6, (stream.stamps[-1] - t0) * 1e6


async def _client(
    port: int, request: bytes, stream: bool, stop: float, times: list[tuple[float, float] | None]
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    one = _streamed if stream else _plain
    try:
        while time.monotonic() < stop:
            times.append(await one(reader, writer, request))
    finally:
        writer.close()


async def load(
    port: int, key: str, stream: bool, connections: int, duration: float
) -> list[tuple[float, float] | None]:
    """One answer's timings per request served (None for plain requests)."""
    request = chat_request(port, body(stream), key)
    times: list[tuple[float, float] | None] = []
    stop = time.monotonic() + duration
    clients = [_client(port, request, stream, stop, times) for _ in range(connections)]
    await asyncio.gather(*clients)
    return times


def startup(
    work: Path,
    trees: dict[str, Path],
    configs: dict[str, str],
    key: str,
    rounds: int,
    cpu: int | None,
) -> None:
    """Launch to first 200 of a fresh gateway from each tree, ``rounds`` times each."""
    headers = {"authorization": f"Bearer {key}"}
    times: dict[str, list[float]] = {name: [] for name in trees}
    for rnd in range(rounds + 1):  # round 0 makes the databases and warms the file cache
        for name, src in trees.items():
            t0 = time.perf_counter()
            target = start_gateway(work, name, src, configs[name], cpu)
            try:
                ready = wait_ready(
                    target.proc, target.port, CHAT_PATH, body(False), 60, headers, STARTUP_POLL
                )
            finally:
                target.proc.stop()
            if rnd:
                times[name].append((ready - t0) * 1000)
    print(f"load average {load_average()}; {rounds} launches of each tree")
    print("| tree | start-up ms (median) | min | max |")
    print("|---|---|---|---|")
    for name, ms in times.items():
        median = statistics.median(ms)
        print(f"| {name} ({trees[name]}) | {median:.0f} | {min(ms):.0f} | {max(ms):.0f} |")
    ratio = statistics.median(times["after"]) / statistics.median(times["before"])
    print(f"after / before, start-up: {ratio:.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", type=Path, required=True, help="src/ of the other tree")
    parser.add_argument("--after", type=Path, default=ROOT / "src")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--stream", action="store_true", help="streamed requests")
    parser.add_argument("--features", action="store_true", help="production features on")
    parser.add_argument("--startup", action="store_true", help="time launch to first 200")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        gateway_cpu, load_cpu, _ = pin_cpus()
        sim = instant_spec(20, load_cpu).start(work)
        procs = [sim.proc]
        try:
            trees = {"before": args.before, "after": args.after}
            configs: dict[str, str] = {}
            for name in trees:
                if args.features:
                    configs[name] = features_config(sim.port, f"sqlite:///{work / name}.db", None)
                else:
                    configs[name] = JUNCTION_CONFIG.format(model=MODEL, sim_port=sim.port)
            wait_up(sim, 30)
            if args.startup:
                key = MASTER_KEY if args.features else DUMMY_KEY
                startup(work, trees, configs, key, args.rounds, gateway_cpu)
                return
            gateways: dict[str, Target] = {}
            for name, src in trees.items():
                gateways[name] = start_gateway(work, name, src, configs[name], gateway_cpu)
                procs.append(gateways[name].proc)
            keys: dict[str, str] = {}
            for name, target in gateways.items():
                ready_key = MASTER_KEY if args.features else DUMMY_KEY  # until a virtual key exists
                wait_up(Target(name, target.port, target.proc, ready_key), 60)
                keys[name] = create_key(target) if args.features else DUMMY_KEY
            per_request: dict[str, list[float]] = {name: [] for name in trees}
            rates: dict[str, list[float]] = {name: [] for name in trees}
            firsts: dict[str, list[float]] = {name: [] for name in trees}
            lasts: dict[str, list[float]] = {name: [] for name in trees}
            for _ in range(args.rounds):
                for name, target in gateways.items():
                    cpu0 = tree_cpu_seconds(target.proc.pid)
                    times = asyncio.run(
                        load(target.port, keys[name], args.stream, args.connections, args.duration)
                    )
                    cpu = tree_cpu_seconds(target.proc.pid) - cpu0
                    per_request[name].append(cpu / len(times) * 1e6)
                    rates[name].append(len(times) / args.duration)
                    if args.stream:
                        firsts[name].append(statistics.median(t[0] for t in times if t))
                        lasts[name].append(statistics.median(t[1] for t in times if t))
            kind = "streamed" if args.stream else "plain"
            features = ", features on" if args.features else ""
            print(
                f"load average {load_average()}; {args.rounds} rounds x {args.duration:g}s, "
                f"{args.connections} connections, {kind} chat requests{features}"
            )
            timed = " first event µs | last event µs |" if args.stream else ""
            print(f"| tree | CPU us/request (median) | req/s (median) |{timed}")
            print("|---|---|---|" + ("---|---|" if args.stream else ""))
            for name in trees:
                cpu_med = statistics.median(per_request[name])
                rate_med = statistics.median(rates[name])
                row = f"| {name} ({trees[name]}) | {cpu_med:.0f} | {rate_med:.0f} |"
                if args.stream:  # medians of the rounds' medians
                    row += f" {statistics.median(firsts[name]):.0f} |"
                    row += f" {statistics.median(lasts[name]):.0f} |"
                print(row)
            ratio = statistics.median(per_request["after"]) / statistics.median(
                per_request["before"]
            )
            print(f"after / before, CPU per request: {ratio:.3f}")
        finally:
            for proc in reversed(procs):
                proc.stop()


if __name__ == "__main__":
    main()
