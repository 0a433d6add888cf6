"""Each key's own endpoint statistics, from the request log: what the
endpoints page (``GET /api/v1/models/{id}/endpoints``) shows a virtual key.

Two tables, written in the same transaction as the batch's rows (from the
rows' ``attempts``, so a failed attempt of a request another endpoint then
served counts against the endpoint that failed):

- ``key_endpoint_attempts``: one row per attempt of a keyed request, keyed
  ``(key_id, endpoint, time, id, n)``: the latency, time to first token and
  throughput samples of the last 30 minutes are one range of that key.
- ``key_endpoint_minutely``: per key, endpoint and minute, the attempts that
  count for uptime (429s excluded, as OpenRouter does) and those that
  succeeded: the 5-minute, 30-minute and 1-day uptimes are a sum over at most
  1,440 rows.

The definitions are the live statistics' (routing/stats.py): latency is the
time to first token (total latency when the window has no streamed answer),
throughput is output tokens per second after the first token, both from
successful attempts. A window's percentiles use its newest
:data:`MAX_SAMPLES` attempts. The writer trims both tables (they serve a day
at most; the request log itself keeps every attempt in ``attempts``).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import msgspec

from junction.catalog.live import LiveStats, Percentiles
from junction.requestlog.rows import COLUMNS

MAX_SAMPLES = 1000
"""Newest successful attempts per key and endpoint a window's percentiles read."""
SAMPLES_KEPT_S = 3600.0
"""``key_endpoint_attempts`` rows older than this are trimmed (the page reads 30 minutes)."""
MINUTES_KEPT_S = 25 * 3600.0
"""``key_endpoint_minutely`` rows older than this are trimmed (the page reads a day)."""
WINDOW_S = 1800.0
_UPTIMES = (300.0, 1800.0, 86400.0)
_AT = {name: i for i, name in enumerate(COLUMNS)}
_attempts = msgspec.json.Decoder(list[dict[str, Any]])

ATTEMPT_COLUMNS = (
    "key_id",
    "endpoint",
    "time",
    "id",
    "n",
    "status",
    "ok",
    "ttft_ms",
    "latency_ms",
    "tokens_per_s",
)
MINUTE_COLUMNS = ("key_id", "endpoint", "minute", "up_total", "up_ok")


def attempt_rows(rows: Iterable[Sequence[Any]]) -> list[tuple[Any, ...]]:
    """``key_endpoint_attempts`` rows of a batch: each attempt of a keyed request."""
    out: list[tuple[Any, ...]] = []
    at = _AT
    for row in rows:
        key = row[at["key_id"]]
        raw = row[at["attempts"]]
        if not key or not raw or raw == "[]":
            continue
        attempts = _attempts.decode(raw)
        last = len(attempts) - 1
        for n, a in enumerate(attempts):
            ok = a.get("error") is None and not a.get("timeout")
            latency = float(a.get("latency_ms") or 0.0)
            ttft = a.get("ttft_ms")
            tps = None
            if ok and n == last:  # the row's completion tokens are the serving attempt's
                generating = latency - ttft if ttft is not None else latency
                tokens = row[at["completion_tokens"]]
                if tokens > 0 and generating > 0:
                    tps = tokens * 1000.0 / generating
            out.append(
                (
                    key,
                    str(a.get("endpoint") or ""),
                    row[at["time"]],
                    row[at["id"]],
                    n,
                    int(a.get("status") or 0),
                    ok,
                    ttft,
                    latency,
                    tps,
                )
            )
    return out


def minute_rollup(attempts: Sequence[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """``key_endpoint_minutely`` increments: (key, endpoint, minute, up_total, up_ok)."""
    groups: dict[tuple[str, str, int], list[int]] = {}
    for key, endpoint, time, _id, _n, status, ok, *_samples in attempts:
        if status == 429:  # a rate limit says nothing of an endpoint's health
            continue
        group = (key, endpoint, int(time) // 60 * 60)
        counts = groups.get(group)
        if counts is None:
            counts = groups[group] = [0, 0]
        counts[0] += 1
        counts[1] += 1 if ok else 0
    return [(*group, total, up) for group, (total, up) in sorted(groups.items())]


def insert_attempts_sql(placeholder: Any) -> str:
    marks = ", ".join(placeholder(i + 1) for i in range(len(ATTEMPT_COLUMNS)))
    return (
        f"INSERT INTO key_endpoint_attempts ({', '.join(ATTEMPT_COLUMNS)}) "
        f"VALUES ({marks}) ON CONFLICT DO NOTHING"
    )


def upsert_minutes_sql(placeholder: Any) -> str:
    marks = ", ".join(placeholder(i + 1) for i in range(len(MINUTE_COLUMNS)))
    return (
        f"INSERT INTO key_endpoint_minutely ({', '.join(MINUTE_COLUMNS)}) VALUES ({marks}) "
        "ON CONFLICT (key_id, endpoint, minute) DO UPDATE SET "
        "up_total = key_endpoint_minutely.up_total + excluded.up_total, "
        "up_ok = key_endpoint_minutely.up_ok + excluded.up_ok"
    )


@functools.cache
def page_sql(ph: Callable[[int], str], n: int) -> tuple[str, str]:
    """The two statements of one key's page of ``n`` endpoints: the uptime
    sums, and the newest successful attempts of the last 30 minutes; one row
    group per endpoint (``i``), each an index range of one key and endpoint.
    Parameters: :func:`page_params`."""
    key, first = ph(1), 1 + len(_UPTIMES)
    sums = ", ".join(
        f"SUM(CASE WHEN minute >= {ph(2 + w)} THEN up_ok ELSE 0 END), "
        f"SUM(CASE WHEN minute >= {ph(2 + w)} THEN up_total ELSE 0 END)"
        for w in range(len(_UPTIMES))
    )
    uptime = " UNION ALL ".join(
        f"SELECT {i} AS i, {sums} FROM key_endpoint_minutely WHERE key_id = {key} "
        f"AND endpoint = {ph(first + 1 + i)} AND minute >= {ph(first)}"
        for i in range(n)
    )
    samples = " UNION ALL ".join(
        f"SELECT * FROM (SELECT {i} AS i, ttft_ms, latency_ms, tokens_per_s "
        f"FROM key_endpoint_attempts WHERE key_id = {key} AND endpoint = {ph(3 + i)} "
        f"AND time >= {ph(2)} AND ok ORDER BY time DESC LIMIT {MAX_SAMPLES}) s{i}"
        for i in range(n)
    )
    return uptime, samples


def page_params(key_id: str, endpoints: Sequence[str], now: float) -> tuple[list[Any], list[Any]]:
    """The parameters of :func:`page_sql`'s statements. Window starts are whole
    minutes (a minute counts once it has begun)."""
    starts = [int(now - w) // 60 * 60 for w in _UPTIMES]
    return [key_id, *starts, *endpoints], [key_id, now - WINDOW_S, *endpoints]


def page_stats(
    endpoints: Sequence[str],
    uptimes: Iterable[Sequence[Any]],
    samples: Iterable[Sequence[Any]],
) -> dict[str, LiveStats]:
    """Each endpoint's :class:`LiveStats` from the two statements' rows."""
    up = {int(row[0]): row[1:] for row in uptimes}
    seen: dict[int, list[Sequence[Any]]] = {}
    for row in samples:
        seen.setdefault(int(row[0]), []).append(row[1:])
    return {e: stats_from(up.get(i), seen.get(i, [])) for i, e in enumerate(endpoints)}


def stats_from(uptime: Sequence[Any] | None, samples: Sequence[Sequence[Any]]) -> LiveStats:
    """A key's :class:`LiveStats` of one endpoint from the two queries' answers."""
    uptimes: list[float | None] = []
    for i in range(len(_UPTIMES)):
        ok, total = (uptime[2 * i], uptime[2 * i + 1]) if uptime is not None else (0, 0)
        uptimes.append(float(ok) / float(total) if total else None)  # SUM of nothing: NULL
    ttft = [float(s[0]) for s in samples if s[0] is not None]
    latency = ttft or [float(s[1]) for s in samples]
    throughput = [float(s[2]) for s in samples if s[2] is not None]
    return LiveStats(
        uptime_5m=uptimes[0],
        uptime_30m=uptimes[1],
        uptime_1d=uptimes[2],
        latency_30m=percentiles(latency),
        throughput_30m=percentiles(throughput),
    )


def percentiles(values: list[float]) -> Percentiles | None:
    """Nearest rank: the smallest value with at least q of them at or below it."""
    if not values:
        return None
    values.sort()
    n = len(values)

    def rank(q: float) -> float:
        return values[min(n - 1, max(0, math.ceil(q * n) - 1))]

    return Percentiles(p50=rank(0.5), p75=rank(0.75), p90=rank(0.9), p99=rank(0.99))
