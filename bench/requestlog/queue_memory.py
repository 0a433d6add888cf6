"""What the request log writer's queue holds in memory, per row and at its
bound (``request_log.max_queue``): the worst case while the database is down.

    PYTHONPATH=src python bench/requestlog/queue_memory.py [--rows 100000]

Queues ``--rows`` rows of refused keys (401s, with ``refused_per_second``
and the queue high enough to admit them all: what is measured is a row) and of
answered requests (synthetic settled generations with two attempts, tags,
metadata), and prints the bytes tracemalloc sees allocated per queued row."""

from __future__ import annotations

import argparse
import gc
import tracemalloc
from collections.abc import Callable, Sequence
from types import SimpleNamespace
from typing import Any

from junction.gateway.accounting import Generation
from junction.gateway.trace import Attempt, Principal
from junction.requestlog import RequestLogWriter
from junction.types import Usage


class _Nowhere:
    async def write(self, rows: Sequence[tuple[Any, ...]]) -> None:
        raise AssertionError


class _Endpoint:
    """What a row reads of an attempt's endpoint."""

    def __init__(self, name: str) -> None:
        self.info = SimpleNamespace(id=f"{name}/gpt-4o-mini")
        self.label = name


def _refused(i: int) -> Generation:
    return Generation(
        id=f"gen-1780000000-{i:016x}",
        model="",
        created=1_780_000_000.0 + i,
        streamed=False,
        attempts=[],
        status=401,
        error="authentication",
        refused=True,
    )


_KEY = Principal("alice", id="key_3f9c0a1b2c3d4e5f")
_EPS = (_Endpoint("openai"), _Endpoint("azure"))


def _answered(i: int) -> Generation:
    attempts = [
        Attempt(_EPS[0], 503, 120.0, None, "upstream 503"),  # type: ignore[arg-type]
        Attempt(_EPS[1], 200, 850.0, 210.0),  # type: ignore[arg-type]
    ]
    return Generation(
        id=f"gen-1780000000-{i:016x}",
        model="gpt-4o-mini",
        created=1_780_000_000.0 + i,
        streamed=True,
        attempts=attempts,
        usage=Usage(prompt_tokens=900, completion_tokens=200, cost=0.000255),
        provider="azure",
        finish_reason="stop",
        latency_ms=980.0,
        ttft_ms=210.0,
        owner=_KEY,
        door="openai_chat",
        extra={"model_asked": "gpt-4o-mini", "metadata": {"job": "nightly"}},
        tags=["prod", "chat"],
    )


def _measure(make: Callable[[int], Generation], n: int) -> float:
    writer = RequestLogWriter(
        _Nowhere(),  # type: ignore[arg-type]
        max_queue=2 * n,  # refusals take half the queue at most
        batch_size=2 * n + 1,
        refused_per_second=float(n),
    )
    generations = [make(i) for i in range(n)]  # built outside the measurement
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    for g in generations:
        writer.listen(g)
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    assert len(writer.queue) == n, (len(writer.queue), writer.refused_unlogged)
    return (after - before) / n


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()
    n = args.rows
    for name, make in (("refused key (401)", _refused), ("answered, 2 attempts", _answered)):
        per_row = _measure(make, n)
        print(
            f"{name:>22}: {per_row:,.0f} bytes per queued row; "
            f"{n:,} rows = {per_row * n / 2**20:,.1f} MiB"
        )


if __name__ == "__main__":
    main()
