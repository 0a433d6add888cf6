"""The load generators of run.py: wrk (non-streaming) and an asyncio streaming client.

- ``run_wrk``: ``wrk -t1 -cN`` with wrk.lua, which POSTs the body, checks every
  answer (status 200 and the expected marker) and prints a JSON summary.
- ``run_stream_client``: this file run as a script, in its own process (pinned
  with the upstream and wrk): one keep-alive HTTP/1.1 connection, streamed
  chat completions back to back. It reads the chunked body itself and stamps
  each SSE event with the time the read that completed it returned, so it
  measures the time to the first event (TTFB), the whole stream, and the gaps
  between events as they arrive. Every stream is checked: status 200, the
  expected number of events, ``data: [DONE]`` last.

    python bench/overhead/loads.py --port 8000 --body stream.json --events 24 --duration 5
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from procs import pinned

HERE = Path(__file__).resolve().parent
CHAT_PATH = "/v1/chat/completions"
READ_TIMEOUT = 10.0  # seconds one stream may take, whole
MAX_STREAMS = 1_000_000

Result = dict[str, Any]


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


# -- wrk -------------------------------------------------------------------------


def run_wrk(
    port: int,
    body_file: Path,
    expect: str,
    conns: int,
    seconds: int,
    key: str = "sk-bench",
    cpu: int | None = None,
) -> Result:
    """One wrk run (one thread); latency percentiles are wrk's, in µs."""
    cmd = ["wrk", "-t1", f"-c{conns}", f"-d{seconds}s", "--timeout", "10s"]
    cmd += ["-s", str(HERE / "wrk.lua"), f"http://127.0.0.1:{port}{CHAT_PATH}"]
    cmd = pinned(cpu, cmd)
    env = {**os.environ, "BENCH_BODY": str(body_file), "BENCH_EXPECT": expect, "BENCH_KEY": key}
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
        "p90_us": raw["p90_us"],
        "p99_us": raw["p99_us"],
        "errors": errors,
        "bad": raw["bad"],
        "sample": sample,
    }


# -- the streaming client -----------------------------------------------------------


def run_stream_client(
    port: int,
    body_file: Path,
    seconds: float,
    events: int,
    key: str = "sk-bench",
    cpu: int | None = None,
) -> Result:
    """The streaming client in its own process (pinned to cpu when given)."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--port", str(port)]
    cmd += ["--body", str(body_file), "--duration", str(seconds), "--events", str(events)]
    cmd += ["--key", key]
    cmd = pinned(cpu, cmd)
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60)
    if out.returncode != 0:
        raise RuntimeError(f"stream client failed ({out.returncode}): {out.stderr[-2000:]}")
    result: Result = json.loads(out.stdout)
    return result


class BadAnswer(Exception):
    """An answer that is not a whole 200 stream (counted, first one quoted)."""


@dataclass
class Stream:
    status: int
    stamps: list[float] = field(default_factory=list)  # arrival of each SSE event
    events: list[bytes] = field(default_factory=list)


def chat_request(port: int, payload: bytes, key: str) -> bytes:
    """A keep-alive chat request's bytes, sent as they are for each request."""
    return (
        f"POST {CHAT_PATH} HTTP/1.1\r\nhost: 127.0.0.1:{port}\r\n"
        f"content-type: application/json\r\nauthorization: Bearer {key}\r\n"
        f"content-length: {len(payload)}\r\n\r\n"
    ).encode() + payload


def parse_head(head: bytes) -> tuple[int, dict[str, str]]:
    """A response head: its status and its fields (names and values lower-cased)."""
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    fields = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if sep:
            fields[name.strip().lower()] = value.strip().lower()
    return status, fields


async def _body(reader: asyncio.StreamReader, fields: dict[str, str]) -> AsyncIterator[bytes]:
    """The body's bytes as they are read: HTTP chunks, or pieces of a sized body."""
    if "chunked" in fields.get("transfer-encoding", ""):
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";", 1)[0], 16)
            if size == 0:
                while await reader.readuntil(b"\r\n") != b"\r\n":  # trailers
                    pass
                return
            yield (await reader.readexactly(size + 2))[:-2]
    elif "content-length" in fields:
        left = int(fields["content-length"])
        while left > 0:
            piece = await reader.read(min(left, 65536))
            if not piece:
                raise BadAnswer(f"connection closed {left} bytes before the end of the body")
            left -= len(piece)
            yield piece
    else:
        raise BadAnswer(f"a body with neither chunked encoding nor a length: {fields}")


async def one_stream(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes
) -> tuple[float, Stream]:
    """Send one request and read its SSE answer: (start time, the stream)."""
    t0 = time.perf_counter()
    writer.write(request)
    status, fields = parse_head(await reader.readuntil(b"\r\n\r\n"))
    stream, buf = Stream(status), b""
    async for piece in _body(reader, fields):
        now = time.perf_counter()
        buf += piece
        while (end := buf.find(b"\n\n")) >= 0:
            stream.events.append(buf[:end])
            stream.stamps.append(now)
            buf = buf[end + 2 :]
    if status != 200:
        raise BadAnswer(f"{status} {(b''.join(stream.events) + buf)[:300]!r}")
    if "close" in fields.get("connection", ""):
        raise BadAnswer("the server closed the keep-alive connection")
    return t0, stream


@dataclass
class Tally:
    ttfb: list[float] = field(default_factory=list)
    total: list[float] = field(default_factory=list)
    gaps: list[float] = field(default_factory=list)
    bad: int = 0
    errors: int = 0
    sample: str = ""

    def check(self, t0: float, stream: Stream, events: int) -> None:
        got = len(stream.events)
        if got != events or stream.events[-1].strip() != b"data: [DONE]":
            last = stream.events[-1][:200] if stream.events else b""
            raise BadAnswer(f"{got} events (expected {events}), last {last!r}")
        self.ttfb.append((stream.stamps[0] - t0) * 1e6)
        self.total.append((stream.stamps[-1] - t0) * 1e6)
        self.gaps += [(b - a) * 1e6 for a, b in itertools.pairwise(stream.stamps)]

    def failed(self, kind: str, exc: BaseException) -> None:
        if kind == "bad":
            self.bad += 1
        else:
            self.errors += 1
        self.sample = self.sample or f"{type(exc).__name__}: {exc}"


async def stream_load(port: int, payload: bytes, seconds: float, events: int, key: str) -> Result:
    """Streams back to back on one keep-alive connection (reopened after an error)."""
    request = chat_request(port, payload, key)
    tally = Tally()
    conn: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
    start = time.perf_counter()
    while time.perf_counter() - start < seconds and len(tally.total) < MAX_STREAMS:
        try:
            if conn is None:
                conn = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), 5)
            t0, stream = await asyncio.wait_for(one_stream(*conn, request), READ_TIMEOUT)
            tally.check(t0, stream, events)
            continue
        except BadAnswer as exc:
            tally.failed("bad", exc)
        except (OSError, TimeoutError, EOFError, asyncio.LimitOverrunError, ValueError) as exc:
            tally.failed("error", exc)
        if conn is not None:  # after a failure, start again on a new connection
            conn[1].close()
        conn = None
    elapsed = time.perf_counter() - start
    if conn is not None:
        conn[1].close()
    return _summary(tally, elapsed)


def _summary(tally: Tally, elapsed: float) -> Result:
    n = len(tally.total)
    return {
        "requests": n + tally.bad,
        "rps": n / elapsed,
        "p50_us": percentile(tally.total, 0.5),
        "p90_us": percentile(tally.total, 0.9),
        "p99_us": percentile(tally.total, 0.99),
        "ttfb_p50_us": percentile(tally.ttfb, 0.5),
        "ttfb_p90_us": percentile(tally.ttfb, 0.9),
        "ttfb_p99_us": percentile(tally.ttfb, 0.99),
        "gap_p50_us": percentile(tally.gaps, 0.5),
        "gap_p99_us": percentile(tally.gaps, 0.99),
        "gap_max_us": max(tally.gaps, default=0.0),
        "errors": tally.errors,
        "bad": tally.bad,
        "sample": tally.sample,
    }


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--body", type=Path, required=True, help="the JSON request body")
    ap.add_argument("--duration", type=float, required=True, help="seconds")
    ap.add_argument("--events", type=int, required=True, help="SSE events in a whole stream")
    ap.add_argument("--key", default="sk-bench", help="sent as Authorization: Bearer")
    a = ap.parse_args()
    payload = a.body.read_bytes()
    print(json.dumps(asyncio.run(stream_load(a.port, payload, a.duration, a.events, a.key))))


if __name__ == "__main__":
    main()
