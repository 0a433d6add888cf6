"""Soak: many mixed requests through junction with provider faults on.

Starts the simulator (faults on every model) and junction (bench/soak/gateway.py,
every model with two deployments) on loopback ports, then sends ``--requests``
requests with at most ``--concurrency`` in flight: the four doors (chat
completions, responses, messages, embeddings), streamed and not, over the five
egress dialects. Prints the error budget (client-visible failures against the
injected per-attempt fault rate p and p squared), latency, and the gateway's
resident memory, file descriptors, sockets and asyncio tasks after warm-up,
over time, at the end and once idle again.

    python bench/soak/run.py                       # 1,000,000 requests
    python bench/soak/run.py --requests 50000 --out soak.json

Not part of CI. Loopback only.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

HERE = Path(__file__).resolve().parent
DIALECTS = {
    # name: (provider, base URL suffix, api key, extra deployment fields)
    "openai": ("openai", "/v1", "k", ""),
    "anthropic": ("anthropic", "", "k", ""),
    "gemini": ("gemini", "", "k", ""),
    "bedrock": ("bedrock", "", "AKIDSOAK:soak-secret", ", api_version: us-east-1"),
    "responses": ("openai-responses", "/v1", "k", ""),
}
FAULTS = {
    "rate_limit": 0.02,
    "server_error": 0.02,
    "unavailable": 0.01,
    "timeout": 0.002,
    "reset": 0.005,
    "stream_cut": 0.005,
    "malformed": 0.005,
}
"""Per-attempt probabilities, for every simulated model."""
DOORS = ("chat", "responses", "messages", "embeddings")


def profile_yaml(seed: int, scale: float) -> str:
    faults = ", ".join(f"{k}: {v * scale:.6f}" for k, v in FAULTS.items())
    return (
        f"seed: {seed}\n"
        "models:\n"
        '  "*":\n'
        "    ttft_ms: 0\n    tokens_per_second: 0\n    jitter: 0\n    output_tokens: 16\n"
        "    hang_ms: 4000\n    retry_after_s: 1\n    stream_cut_after: 2\n"
        f"    faults: {{{faults}}}\n"
    )


CLIENT_KEY = "sk-soak-client-0001"
MASTER_KEY = "sk-soak-master-0002"
HIGH_RPM, HIGH_TPM = 10_000_000, 1_000_000_000


def config_yaml(sim: str, port: int, work: Path) -> str:
    """Gateway I and II on, on the embedded stores: keys (every request is
    authenticated), model rpm and tpm far above the load (every request is
    admitted and settled through the counters), the request log in SQLite,
    metrics."""
    lines = [
        f"server: {{host: 127.0.0.1, port: {port}, master_key: {MASTER_KEY}}}",
        f"keys: [{{name: soak, key: {CLIENT_KEY}}}]",
        f"stores: {{database_url: 'sqlite:///{work / 'soak.db'}', migrate_on_start: true}}",
        "request_log: {retention_days: null}",
        "timeouts: {connect: 2, first_token: 2, total: 20}",
        "models:",
    ]
    for name, (provider, suffix, key, extra) in DIALECTS.items():
        lines += [
            f"  soak/{name}:",
            f"    rpm: {HIGH_RPM}",
            f"    tpm: {HIGH_TPM}",
            "    deployments:",
        ]
        lines += [
            f"      - {{provider: {provider}, name: {name}-{side}, model: soak-{name}-{side}, "
            f"base_url: '{sim}{suffix}', api_key: '{key}'{extra}}}"
            for side in ("a", "b")
        ]
    lines += [
        "  soak/embedding:",
        "    kind: embedding",
        f"    rpm: {HIGH_RPM}",
        "    deployments:",
    ]
    lines += [
        f"      - {{provider: openai, name: embed-{side}, model: soak-embed-{side}, "
        f"base_url: '{sim}/v1', api_key: k}}"
        for side in ("a", "b")
    ]
    return "\n".join(lines) + "\n"


# --- processes -----------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Proc:
    """A child in its own process group, output to a log file."""

    def __init__(self, name: str, cmd: list[str], log: Path) -> None:
        self.name, self.log = name, log
        with log.open("wb") as out:
            self.popen = subprocess.Popen(
                cmd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()


async def wait_ready(session: aiohttp.ClientSession, proc: Proc, url: str) -> None:
    for _ in range(300):
        if proc.popen.poll() is not None:
            raise RuntimeError(f"{proc.name} exited:\n{proc.log.read_text(errors='replace')}")
        try:
            async with session.get(url) as r:
                if r.status == 200:
                    return
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.1)
    raise RuntimeError(f"{proc.name} did not start: {url}")


# --- load ------------------------------------------------------------------------


@dataclass(frozen=True)
class Call:
    door: str
    model: str
    stream: bool
    path: str
    body: bytes


def make_call(rng: random.Random, i: int) -> Call:
    door = DOORS[i % len(DOORS)]
    text = f"soak request {i % 997}"
    if door == "embeddings":
        body: dict[str, Any] = {"model": "soak/embedding", "input": [text]}
        return Call(door, "soak/embedding", False, "/v1/embeddings", json.dumps(body).encode())
    model = "soak/" + rng.choice(list(DIALECTS))
    stream = rng.random() < 0.5
    user = [{"role": "user", "content": text}]
    if door == "chat":
        body, path = {"model": model, "messages": user, "max_tokens": 32}, "/v1/chat/completions"
    elif door == "responses":
        body, path = {"model": model, "input": text, "max_output_tokens": 32}, "/v1/responses"
    else:
        body, path = {"model": model, "messages": user, "max_tokens": 32}, "/v1/messages"
    body["stream"] = stream
    return Call(door, model, stream, path, json.dumps(body).encode())


STREAM_END = {
    "chat": b"data: [DONE]",
    "messages": b"event: message_stop",
    "responses": b"response.completed",
}
STREAM_ERROR = (b'"finish_reason":"error"', b"event: error", b"response.failed")


def outcome(call: Call, status: int, body: bytes) -> str:
    """``ok``, or what the client saw go wrong."""
    if status != 200:
        return f"http {status}"
    if call.stream:
        if any(marker in body for marker in STREAM_ERROR):
            return "error in stream"
        if STREAM_END[call.door] not in body:
            return "stream ended early"
    return "ok"


@dataclass
class Tally:
    outcomes: Counter[str] = field(default_factory=Counter)
    by_kind: Counter[str] = field(default_factory=Counter)
    failed_by_kind: Counter[str] = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)
    done: int = 0


async def worker(
    session: aiohttp.ClientSession, url: str, calls: asyncio.Queue[Call | None], tally: Tally
) -> None:
    while (call := await calls.get()) is not None:
        kind = f"{call.door}{' stream' if call.stream else ''}"
        started = time.perf_counter()
        try:
            async with session.post(url + call.path, data=call.body) as r:
                result = outcome(call, r.status, await r.read())
        except (TimeoutError, aiohttp.ClientError) as exc:
            result = f"client {type(exc).__name__}"
        tally.latencies.append(time.perf_counter() - started)
        tally.outcomes[result] += 1
        tally.by_kind[kind] += 1
        if result != "ok":
            tally.failed_by_kind[kind] += 1
        tally.done += 1


def last_sample(path: Path) -> dict[str, float]:
    lines = path.read_text().splitlines()
    return json.loads(lines[-1]) if lines else {}


def show(sample: dict[str, float]) -> str:
    return (
        f"rss {sample['rss_kib'] / 1024:.1f} MiB, fds {sample['fds']:.0f}, "
        f"sockets {sample['sockets']:.0f}, tasks {sample['tasks']:.0f}"
    )


async def drive(args: argparse.Namespace, url: str, samples: Path) -> dict[str, Any]:
    rng = random.Random(args.seed)
    tally = Tally()
    calls: asyncio.Queue[Call | None] = asyncio.Queue(maxsize=args.concurrency * 4)
    warm_up = min(max(args.requests // 10, 12_000), args.requests // 2)
    timeline: list[dict[str, float]] = []
    connector = aiohttp.TCPConnector(limit=args.concurrency)
    timeout = aiohttp.ClientTimeout(total=60)
    headers = {"authorization": f"Bearer {CLIENT_KEY}"}
    async with aiohttp.ClientSession(
        connector=connector, timeout=timeout, headers=headers
    ) as session:
        idle_before = last_sample(samples)
        workers = [
            asyncio.create_task(worker(session, url, calls, tally)) for _ in range(args.concurrency)
        ]
        started = time.perf_counter()
        step = max(1, args.requests // 20)
        warm: dict[str, float] = {}
        for i in range(args.requests):
            await calls.put(make_call(rng, i))
            if i == warm_up:
                warm = last_sample(samples) | {"done": tally.done}
                print(f"warm-up done at {tally.done} requests: {show(warm)}", flush=True)
            if i % step == 0 and i:
                point = last_sample(samples) | {
                    "done": tally.done,
                    "seconds": time.perf_counter() - started,
                }
                timeline.append(point)
                rate = tally.done / point["seconds"]
                print(f"{tally.done:>9} done, {rate:6.0f} req/s, {show(point)}", flush=True)
        for _ in workers:
            await calls.put(None)
        await asyncio.gather(*workers)
        elapsed = time.perf_counter() - started
    await asyncio.sleep(2.5)  # let the sampler see the end, then the idle gateway
    end = timeline[-1] if timeline else last_sample(samples)
    await asyncio.sleep(3)
    idle_after = last_sample(samples)
    return summary(args, tally, elapsed, idle_before, warm, end, idle_after, timeline)


def summary(
    args: argparse.Namespace,
    tally: Tally,
    elapsed: float,
    idle_before: dict[str, float],
    warm: dict[str, float],
    end: dict[str, float],
    idle_after: dict[str, float],
    timeline: list[dict[str, float]],
) -> dict[str, Any]:
    p = sum(FAULTS.values()) * args.fault_scale
    failed = tally.done - tally.outcomes["ok"]
    lat = sorted(tally.latencies)
    return {
        "requests": tally.done,
        "concurrency": args.concurrency,
        "seconds": round(elapsed, 1),
        "requests_per_second": round(tally.done / elapsed, 1),
        "fault_rate_per_attempt": round(p, 4),
        "p_squared": round(p * p, 6),
        "client_error_rate": round(failed / max(1, tally.done), 6),
        "outcomes": dict(tally.outcomes.most_common()),
        "error_rate_by_kind": {
            k: round(tally.failed_by_kind[k] / n, 5) for k, n in sorted(tally.by_kind.items())
        },
        "latency_s": {
            "p50": round(lat[len(lat) // 2], 4),
            "p99": round(lat[int(len(lat) * 0.99)], 4),
            "max": round(lat[-1], 3),
        },
        "rss_mib": {
            "idle_before": round(idle_before["rss_kib"] / 1024, 1),
            "after_warm_up": round(warm["rss_kib"] / 1024, 1),
            "end": round(end["rss_kib"] / 1024, 1),
            "growth_after_warm_up_pct": round(100 * (end["rss_kib"] / warm["rss_kib"] - 1), 2),
        },
        "fds": {k: s["fds"] for k, s in _points(idle_before, warm, end, idle_after).items()},
        "sockets": {
            k: s["sockets"] for k, s in _points(idle_before, warm, end, idle_after).items()
        },
        "tasks": {k: s["tasks"] for k, s in _points(idle_before, warm, end, idle_after).items()},
        "timeline": timeline,
    }


def _points(*samples: dict[str, float]) -> dict[str, dict[str, float]]:
    return dict(zip(("idle_before", "after_warm_up", "end", "idle_after"), samples, strict=True))


def report(result: dict[str, Any]) -> str:
    lines = [
        f"requests          {result['requests']:,} in {result['seconds']} s "
        f"({result['requests_per_second']} req/s, concurrency {result['concurrency']})",
        f"faults            p = {result['fault_rate_per_attempt']} per attempt "
        f"(p^2 = {result['p_squared']}), two deployments per model",
        f"client errors     {result['client_error_rate']:.4%}",
        f"outcomes          {result['outcomes']}",
        f"error rate / kind {result['error_rate_by_kind']}",
        f"latency s         {result['latency_s']}",
        f"RSS MiB           {result['rss_mib']}",
        f"fds               {result['fds']}",
        f"sockets           {result['sockets']}",
        f"asyncio tasks     {result['tasks']}",
        f"request log rows  {result['log_rows']:,} for {result['requests']:,} requests "
        f"(after SIGTERM)",
    ]
    return "\n".join(lines)


async def soak(args: argparse.Namespace) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="junction-soak-"))
    sim_port, gw_port = free_port(), free_port()
    sim_url, gw_url = f"http://127.0.0.1:{sim_port}", f"http://127.0.0.1:{gw_port}"
    (work / "profile.yaml").write_text(profile_yaml(args.seed, args.fault_scale))
    (work / "config.yaml").write_text(config_yaml(sim_url, gw_port, work))
    samples = work / "samples.jsonl"
    samples.touch()
    cli = [sys.executable, "-c", "from junction.cli import main; raise SystemExit(main())"]
    sim = Proc(
        "simulator",
        [*cli, "sim", "--port", str(sim_port), "--profile", str(work / "profile.yaml")],
        work / "sim.log",
    )
    gateway = Proc(
        "gateway",
        [sys.executable, str(HERE / "gateway.py"), str(work / "config.yaml"), str(gw_port),
         str(samples)],
        work / "gateway.log",
    )  # fmt: skip
    try:
        async with aiohttp.ClientSession() as probe:
            await wait_ready(probe, sim, sim_url + "/_sim/stats")
            await wait_ready(probe, gateway, gw_url + "/health")
        await asyncio.sleep(1.2)  # a first sample of the idle gateway
        print(f"gateway pid {gateway.popen.pid}, logs in {work}", flush=True)
        result = await drive(args, gw_url, samples)
    finally:
        gateway.stop()  # SIGTERM: the request log flushes every queued row
        sim.stop()
    result["log_rows"] = logged_rows(work / "soak.db")
    return result


def logged_rows(db: Path) -> int:
    """Rows in the request log, once the gateway has stopped."""
    with contextlib.closing(sqlite3.connect(db)) as conn:
        (count,) = conn.execute("SELECT count(*) FROM request_log").fetchone()
    return int(count)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=1_000_000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--fault-scale", type=float, default=1.0, help="multiply every fault rate (0: no faults)"
    )
    parser.add_argument("--out", type=Path, help="also write the figures as JSON here")
    args = parser.parse_args()
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    result = asyncio.run(soak(args))
    print(report(result))
    if args.out:
        args.out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
