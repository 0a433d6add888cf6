"""A bounded, time-stratified sample of the request log, weighted by the rollups.

Percentiles (latency, time to first token) and the router's decisions are not
in the rollups, and reading every row of a range does not scale to millions of
rows. So a range is cut into at most :data:`MAX_BUCKETS` buckets of whole hours
(ranges up to two days) or whole UTC days; from each, the newest ``per_bucket``
rows are read (one indexed ``LIMIT`` query, the one ``GET /admin/logs`` runs);
and each sampled row stands for ``requests in its bucket / rows sampled from
it``, the requests counted by the rollups (hourly up to two days, else daily).
A busy bucket therefore weighs as much as it should, and a range with fewer
rows than the sample holds is read whole (every weight is then 1: the figures
are exact).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from junction.requestlog import LogQuery, RequestLog, SpendQuery
from junction.requestlog.queries import parse_time
from junction.requestlog.rows import COLUMNS
from junction.types import GatewayError

HOUR = 3600
DAY = 86400
MAX_BUCKETS = 48
FILTERS = ("key", "team", "user", "model", "provider")
"""The dimensions both the rollup and the log can be narrowed by."""
QUANTILES = {"p50": 0.50, "p90": 0.90, "p95": 0.95, "p99": 0.99}
AT = {name: i for i, name in enumerate(COLUMNS)}


@dataclass(frozen=True, slots=True)
class Window:
    start: float
    end: float
    filters: tuple[tuple[str, str], ...]
    """(name, value) of :data:`FILTERS` given."""

    @classmethod
    def parse(
        cls, query: Mapping[str, list[str]], now: float, allowed: Iterable[str] = ()
    ) -> Window:
        """``start`` / ``end`` (default: the last 24 hours) and the filters;
        any other parameter is a 400 naming it."""
        known = {"start", "end", *FILTERS, *allowed}
        for name, values in query.items():
            if name not in known:
                raise GatewayError(
                    "invalid_request",
                    f"Unknown parameter {name!r}; this route takes: {', '.join(sorted(known))}.",
                    param=name,
                )
            if len(values) > 1:
                raise GatewayError("invalid_request", f"Give {name!r} once.", param=name)
        end = parse_time("end", query["end"][0]) if "end" in query else now
        start = parse_time("start", query["start"][0]) if "start" in query else end - 86400
        if start >= end:
            raise GatewayError("invalid_request", "'start' must be before 'end'.", param="start")
        if end - start > 400 * 86400:
            raise GatewayError(
                "invalid_request", "Give a range of at most 400 days.", param="start"
            )
        filters = tuple((n, query[n][0]) for n in FILTERS if n in query)
        return cls(start, end, filters)

    @property
    def step(self) -> int:
        """The bucket unit: hours up to two days, else whole UTC days (whose
        request counts the daily rollup has, so weighing stays cheap)."""
        return HOUR if self.end - self.start <= 2 * DAY else DAY

    def buckets(self) -> list[tuple[float, float]]:
        """Whole-hour or whole-day buckets covering the range, at most MAX_BUCKETS."""
        step = self.step
        first = math.floor(self.start / step) * step
        units = max(1, math.ceil((self.end - first) / step))
        width = math.ceil(units / MAX_BUCKETS) * step
        out = []
        b = first
        while b < self.end:
            out.append((float(b), float(b + width)))
            b += width
        return out


@dataclass(frozen=True, slots=True)
class Bucket:
    start: float
    end: float
    requests: int
    """Every request of the bucket (from the rollup)."""
    rows: list[tuple[Any, ...]]
    """The newest rows of the bucket, in the log's column order."""

    @property
    def weight(self) -> float:
        """How many requests each sampled row stands for."""
        if not self.rows:
            return 0.0
        return max(self.requests, len(self.rows)) / len(self.rows)


async def sample(log: RequestLog, window: Window, per_bucket: int) -> list[Bucket]:
    """The stratified sample of ``window`` (see the module doc)."""
    spans = window.buckets()
    flat = {name: [value] for name, value in window.filters}
    group = "hour" if window.step == HOUR else "day"
    spend_q = SpendQuery.parse(
        {
            **flat,
            "group_by": [group],
            "by": ["model"],
            "start": [str(window.start)],
            "end": [str(window.end)],
        }
    )
    per_period: dict[float, int] = {}
    for row in await log.store.spend(spend_q):
        per_period[float(row[0])] = per_period.get(float(row[0]), 0) + int(row[2] or 0)
    base = LogQuery.parse(flat)
    out = []
    for b0, b1 in spans:
        q = dataclasses.replace(
            base, start=max(b0, window.start), end=min(b1, window.end), limit=per_bucket
        )
        rows = (await log.store.logs(q))[:per_bucket]
        requests = sum(n for hour, n in per_period.items() if b0 <= hour < b1)
        out.append(Bucket(b0, b1, requests, rows))
    return out


def percentiles(pairs: Sequence[tuple[float, float]]) -> dict[str, float] | None:
    """Weighted nearest-rank percentiles of (value, weight) pairs; None when empty."""
    if not pairs:
        return None
    ordered = sorted(pairs)
    total = sum(w for _, w in ordered)
    out: dict[str, float] = {}
    names = iter(QUANTILES.items())
    name, q = next(names)
    seen = 0.0
    for value, weight in ordered:
        seen += weight
        while seen >= q * total - 1e-9:
            out[name] = round(value, 3)
            step = next(names, None)
            if step is None:
                return out
            name, q = step
    for rest in QUANTILES:
        out.setdefault(rest, round(ordered[-1][0], 3))
    return out
