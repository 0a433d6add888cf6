"""What the upstream safety nets cost: ``python bench/upstream_safety.py``.

Prints microseconds per call for

- building the secret scrubber from a config (once, at load);
- scrubbing a typical upstream 401 that echoes the key, a clean upstream
  error message (nothing to replace), and a log record through the filter;
- the SSE parser on an OpenAI-style stream of small chunks (µs per chunk),
  and on an endless line (16 MiB in 1 KiB reads, the attack case); the
  Bedrock event-stream reader on a 16 MiB frame in 1 KiB reads;
- one read of the transport's chunk loop with the idle-timeout bookkeeping
  (a clock read per chunk; the one timer per attempt is never re-armed by a
  read), against a stand-in response that hands out ready chunks.

The success path runs no scrubber at all: it is called only where a
failure's text leaves (an upstream error entering the attempt loop, error
rendering, a log record).
"""

from __future__ import annotations

import asyncio
import logging
import time
import timeit
from typing import Any

from junction.codecs.bedrock_converse.eventstream import FrameReader, event
from junction.codecs.sse import SSEParser, StreamLimits
from junction.config import parse_config, redactor
from junction.redact import LogRedactor
from junction.transport import Limits
from junction.transport.http import StreamReply

KEY = "sk-proj-Xq81ZZprovider0secret0value0for0bench"
CONFIG = "models:\n" + "".join(
    f"  m{i}:\n    deployments:\n      - {{provider: openai, model: x, api_key: '${{K{i}}}'}}\n"
    for i in range(20)
)
ENV = {f"K{i}": f"{KEY}-{i:02d}" for i in range(20)}
ECHO = (
    f"openai returned 401: the gateway's credentials for this provider were rejected: "
    f"Incorrect API key provided: Bearer {KEY}-03. You can find your API key at "
    "https://platform.openai.com/account/api-keys."
)
CLEAN = (
    "openai returned 429: Rate limit reached for gpt-4o-mini in organization org-abc on "
    "tokens per min (TPM): Limit 200000, Used 199000, Requested 1500. Please try again."
)
CHUNK = (
    b'data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,'
    b'"model":"gpt-4o-mini","choices":[{"index":0,"delta":{"content":"word "},'
    b'"finish_reason":null}]}\n\n'
)


def per_call_us(fn: Any, number: int) -> float:
    return min(timeit.repeat(fn, number=number, repeat=5)) / number * 1e6


def scrubber() -> None:
    config = parse_config(CONFIG, ENV)
    print(f"build the scrubber (20 keys): {per_call_us(lambda: redactor(config), 200):8.1f} µs")
    scrub = redactor(config).scrub
    assert KEY not in scrub(ECHO)
    print(f"scrub a 401 echoing the key:  {per_call_us(lambda: scrub(ECHO), 20_000):8.2f} µs")
    print(f"scrub a clean error message:  {per_call_us(lambda: scrub(CLEAN), 20_000):8.2f} µs")
    log_filter = LogRedactor()
    log_filter.add(redactor(config))
    record = logging.LogRecord("junction.x", logging.INFO, __file__, 1, "%s", (CLEAN,), None)
    cost = per_call_us(lambda: log_filter.filter(record), 20_000)
    print(f"log filter, one record:       {cost:8.2f} µs")


def sse() -> None:
    parser = SSEParser()
    print(
        f"SSE parser, one small chunk:  {per_call_us(lambda: parser.feed(CHUNK), 50_000):8.2f} µs"
    )
    parser = SSEParser(StreamLimits(max_line_bytes=32 << 20, max_event_bytes=32 << 20))
    piece = b"x" * 1024
    started = time.process_time()
    parser.feed(b"data: ")
    for _ in range(16 * 1024):
        parser.feed(piece)
    parser.feed(b"\n\n")
    cpu = time.process_time() - started
    print(f"SSE parser, 16 MiB endless line in 1 KiB reads: {cpu:.3f} s CPU")
    frame = event("contentBlockDelta", b"a" * (16 << 20))
    reader = FrameReader(max_frame=32 << 20)
    started = time.process_time()
    for i in range(0, len(frame), 1024):
        list(reader.feed(frame[i : i + 1024]))
    cpu = time.process_time() - started
    print(f"event-stream reader, 16 MiB frame in 1 KiB reads: {cpu:.3f} s CPU")


class _Content:
    def __init__(self, chunks: int) -> None:
        self.left = chunks

    async def readany(self) -> bytes:
        self.left -= 1
        return CHUNK if self.left >= 0 else b""


class _Response:
    status = 200
    headers: dict[str, str] = {}
    content_length = None

    def __init__(self, chunks: int) -> None:
        self.content = _Content(chunks)

    def close(self) -> None:
        pass


async def chunk_loop(chunks: int, idle: float | None) -> float:
    limits = Limits(10, 10, 600, idle=idle)
    loop = asyncio.get_running_loop()
    reply = StreamReply(_Response(chunks), "bench", loop.time() + 600, limits)  # type: ignore[arg-type]
    started = time.perf_counter()
    async for _ in reply.chunks():
        pass
    elapsed = time.perf_counter() - started
    await reply.close()
    return elapsed / chunks * 1e6


def transport() -> None:
    for idle in (None, 120.0):
        best = min(asyncio.run(chunk_loop(200_000, idle)) for _ in range(3))
        label = "no idle timeout" if idle is None else f"idle timeout {idle:g} s"
        print(f"transport chunk loop, {label}: {best:.3f} µs per read")


if __name__ == "__main__":
    scrubber()
    sse()
    transport()
