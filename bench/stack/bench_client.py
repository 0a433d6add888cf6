"""HTTP client benchmark for upstream calls: aiohttp vs junction's own transport vs httpx.

A trivial upstream (uvicorn + the bare ASGI app from apps.py: ~1 KB JSON for
POST /chat, 50 SSE chunks for POST /stream) runs in its own process on
127.0.0.1. Each measurement runs in a fresh client process (uvloop, like the
gateway under uvicorn): warm up, then N POSTs with a fixed concurrency,
recording wall time and time.process_time() of the client process. Clients
are interleaved (A B C A B C ...) over several rounds; medians and ratios
against aiohttp are printed as markdown tables.

    python bench/stack/bench_client.py [--rounds 3] [-n 2000] [--concurrency 32]
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from importlib.metadata import version

from payloads import REQUEST_BYTES
from procs import HERE, free_port, start, stop, wait_ready

CLIENTS = [
    "aiohttp",
    "junction",  # junction.transport.Transport: its own HTTP/1.1 client (decisions.md §13)
    "httpx",
    "httpx pool=64",
    "httpx2",
]  # httpx2: the fork openai/anthropic SDKs pull in here
BASELINE = "aiohttp"
HEADERS = {"content-type": "application/json"}
EXPECTED_EVENTS = 51  # 50 chunks + [DONE]

Call = Callable[[], Awaitable[None]]


def _check(ok: bool, what: str) -> None:
    if not ok:
        raise RuntimeError(f"unexpected upstream answer: {what}")


def aiohttp_calls(url: str) -> tuple[dict[str, Call], Callable[[], Awaitable[None]]]:
    import aiohttp

    session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=100))

    async def chat() -> None:
        async with session.post(url + "/chat", data=REQUEST_BYTES, headers=HEADERS) as resp:
            data = await resp.read()
            _check(resp.status == 200 and data.startswith(b'{"id"'), "chat")

    async def stream() -> None:
        async with session.post(url + "/stream", data=REQUEST_BYTES, headers=HEADERS) as resp:
            events = 0
            async for line in resp.content:  # line by line, as an SSE parser reads
                events += line.startswith(b"data: ")
            _check(resp.status == 200 and events == EXPECTED_EVENTS, f"stream {events}")

    return {"chat": chat, "stream": stream}, session.close


def junction_calls(url: str) -> tuple[dict[str, Call], Callable[[], Awaitable[None]]]:
    from junction.transport import Limits, Transport
    from junction.types import HttpRequest

    transport = Transport()
    limits = Limits(10, 30, 60)

    async def chat() -> None:
        request = HttpRequest("POST", url + "/chat", HEADERS, REQUEST_BYTES)
        reply = await transport.send(request, limits, "bench")
        _check(reply.status == 200 and reply.body.startswith(b'{"id"'), "chat")

    async def stream() -> None:
        request = HttpRequest("POST", url + "/stream", HEADERS, REQUEST_BYTES, stream=True)
        async with await transport.open(request, limits, "bench") as reply:
            events, rest = 0, b""
            async for data in reply.chunks():  # split into lines, as an SSE parser reads
                lines = (rest + data).split(b"\n")
                rest = lines.pop()
                events += sum(line.startswith(b"data: ") for line in lines)
            _check(reply.status == 200 and events == EXPECTED_EVENTS, f"stream {events}")

    return {"chat": chat, "stream": stream}, transport.close


def httpx_calls(
    url: str, pool: int | None, module: str
) -> tuple[dict[str, Call], Callable[[], Awaitable[None]]]:
    httpx = importlib.import_module(module)  # httpx and httpx2 share this API

    limits = (
        httpx.Limits(max_connections=pool, max_keepalive_connections=pool)
        if pool
        else httpx.Limits()
    )
    client = httpx.AsyncClient(base_url=url, limits=limits)

    async def chat() -> None:
        resp = await client.post("/chat", content=REQUEST_BYTES, headers=HEADERS)
        _check(resp.status_code == 200 and resp.content.startswith(b'{"id"'), "chat")

    async def stream() -> None:
        async with client.stream("POST", "/stream", content=REQUEST_BYTES, headers=HEADERS) as resp:
            events = 0
            async for line in resp.aiter_lines():
                events += line.startswith("data: ")
            _check(resp.status_code == 200 and events == EXPECTED_EVENTS, f"stream {events}")

    return {"chat": chat, "stream": stream}, client.aclose


async def drive(call: Call, n: int, concurrency: int) -> None:
    remaining = n

    async def worker() -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            await call()

    await asyncio.gather(*(worker() for _ in range(concurrency)))


async def measure(
    client: str, url: str, workload: str, n: int, concurrency: int
) -> dict[str, float]:
    if client == "aiohttp":
        calls, close = aiohttp_calls(url)
    elif client == "junction":
        calls, close = junction_calls(url)
    else:
        calls, close = httpx_calls(url, 64 if client.endswith("64") else None, client.split()[0])
    try:
        await drive(calls[workload], max(200, n // 10), concurrency)  # warm-up, fills the pool
        t0, c0 = time.perf_counter(), time.process_time()
        await drive(calls[workload], n, concurrency)
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    finally:
        await close()
    return {"rps": n / wall, "cpu_us": cpu / n * 1e6, "cpu_pct": cpu / wall * 100}


def worker_main(args: argparse.Namespace) -> None:
    import uvloop

    result = uvloop.run(measure(args.worker, args.url, args.workload, args.n, args.concurrency))
    print(json.dumps(result))


def table(results: dict[str, dict[str, list[float]]]) -> str:
    med = {name: {k: statistics.median(v) for k, v in m.items()} for name, m in results.items()}
    base = med[BASELINE]
    lines = [
        "| client | req/s | client CPU µs/req | client CPU % "
        f"| req/s vs {BASELINE} | CPU/req vs {BASELINE} |",
        "|---|--:|--:|--:|--:|--:|",
    ]
    for name, m in med.items():
        lines.append(
            f"| {name} | {m['rps']:,.0f} | {m['cpu_us']:,.0f} | {m['cpu_pct']:.0f} "
            f"| {m['rps'] / base['rps']:.2f}x | {m['cpu_us'] / base['cpu_us']:.2f}x |"
        )
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("-n", type=int, default=2000, help="timed requests per measurement")
    ap.add_argument("--concurrency", type=int, default=32)
    ap.add_argument("--worker", choices=CLIENTS, help=argparse.SUPPRESS)
    ap.add_argument("--url", help=argparse.SUPPRESS)
    ap.add_argument("--workload", choices=["chat", "stream"], help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        return worker_main(args)

    port = free_port()
    upstream = start(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "apps:bare_app",
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
        ],
        "upstream",
    )
    try:
        wait_ready(port, "/chat", REQUEST_BYTES)
        print(
            f"<!-- {time.strftime('%Y-%m-%d %H:%M')} | aiohttp {version('aiohttp')} "
            f"| httpx {version('httpx')} | httpx2 {version('httpx2')} | upstream uvicorn+bare ASGI "
            f"| n={args.n} concurrency={args.concurrency} rounds={args.rounds} -->"
        )
        for workload in ("chat", "stream"):
            results: dict[str, dict[str, list[float]]] = {c: {} for c in CLIENTS}
            for _ in range(args.rounds):
                for client in CLIENTS:  # interleaved, one fresh process per measurement
                    out = subprocess.run(
                        [
                            sys.executable,
                            __file__,
                            "--worker",
                            client,
                            "--url",
                            f"http://127.0.0.1:{port}",
                            "--workload",
                            workload,
                            "-n",
                            str(args.n),
                            "--concurrency",
                            str(args.concurrency),
                        ],
                        capture_output=True,
                        text=True,
                        check=True,
                        timeout=300,
                        cwd=HERE,
                    ).stdout
                    for k, v in json.loads(out).items():
                        results[client].setdefault(k, []).append(v)
            what = (
                "POST, ~1 KB JSON response"
                if workload == "chat"
                else "POST, 50 SSE chunks read line by line"
            )
            print(f"\n### Client, {what}: median of {args.rounds} interleaved rounds\n")
            print(table(results))
    finally:
        stop(upstream)


if __name__ == "__main__":
    main()
