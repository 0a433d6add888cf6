"""401s in the request log: bounded apart from answered rows (a token bucket
and half of the queue), so a client spraying bad keys cannot grow the queue
or crowd answered rows out. The writer here never writes (no task started):
what is bounded is what it queues."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from junction.gateway.accounting import Generation
from junction.requestlog import RequestLogWriter


class _Nowhere:
    async def write(self, rows: Sequence[tuple[Any, ...]]) -> None:
        raise AssertionError("not started: nothing is written")


class _Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _refused(i: int) -> Generation:
    return Generation(
        id=f"gen-401-{i}",
        model="",
        created=0.0,
        streamed=False,
        attempts=[],
        status=401,
        error="authentication",
        refused=True,
    )


def _answered(i: int) -> Generation:
    return Generation(id=f"gen-ok-{i}", model="m", created=0.0, streamed=False, attempts=[])


def _writer(clock: _Clock, *, rate: float = 10, max_queue: int = 1000) -> RequestLogWriter:
    return RequestLogWriter(
        _Nowhere(),  # type: ignore[arg-type]
        max_queue=max_queue,
        batch_size=10**9,
        refused_per_second=rate,
        clock=clock,
    )


def test_refusals_are_queued_at_the_configured_rate_and_counted_past_it() -> None:
    clock = _Clock()
    writer = _writer(clock, rate=10)
    for i in range(500):  # a burst: one second's worth gets in
        writer.listen(_refused(i))
    assert len(writer.queue) == 10
    assert writer.refused_unlogged == 490
    clock.now += 0.5  # half a second refills half the bucket
    for i in range(500, 1000):
        writer.listen(_refused(i))
    assert len(writer.queue) == 15
    clock.now += 3600  # an idle hour refills it to one second's worth, no more
    for i in range(1000, 1100):
        writer.listen(_refused(i))
    assert len(writer.queue) == 25
    assert writer.refused_unlogged == 490 + 495 + 90
    assert writer.dropped == 0


def test_refusals_never_take_more_than_half_the_queue() -> None:
    clock = _Clock()
    writer = _writer(clock, rate=10**6, max_queue=100)
    for i in range(1000):
        clock.now += 1.0
        writer.listen(_refused(i))
    assert len(writer.queue) == 50
    for i in range(50):  # answered rows still have the other half
        writer.listen(_answered(i))
    assert len(writer.queue) == 100
    assert writer.dropped == 0
    assert sum(1 for row in writer.queue if row[0].startswith("gen-ok-")) == 50


def test_answered_rows_are_not_rate_limited() -> None:
    clock = _Clock()
    writer = _writer(clock, rate=1)
    for i in range(500):
        writer.listen(_answered(i))
    assert len(writer.queue) == 500
    assert writer.refused_unlogged == 0
