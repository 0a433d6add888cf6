"""The log store on both backends: rollups equal the sums of the rows, cursor
paging visits every row once, each filter selects what it says, and the
writer keeps rows while the store is down."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import AsyncIterator, Sequence
from typing import Any

import msgspec
import pytest

from junction.requestlog import LogQuery, LogStore, RequestLogWriter, SpendQuery, connect
from junction.requestlog.queries import Cursor
from junction.requestlog.rows import COLUMNS
from junction.requestlog.synthetic import synthetic_rows
from junction.types import GatewayError

START = 1_780_000_000.0  # 2026-05-28
AT = {c: i for i, c in enumerate(COLUMNS)}


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[LogStore]:
    s = await connect(database_url)
    try:
        yield s
    finally:
        await s.close()


def _rows(n: int = 600, seed: int = 7) -> list[tuple[Any, ...]]:
    return list(synthetic_rows(n, start=START, span=3 * 86400, seed=seed))


async def _all_pages(store: LogStore, **filters: str) -> list[tuple[Any, ...]]:
    seen: list[tuple[Any, ...]] = []
    cursor: str | None = None
    while True:
        q = {k: [v] for k, v in filters.items()} | {"limit": ["37"]}
        if cursor:
            q["cursor"] = [cursor]
        query = LogQuery.parse(q)
        found = await store.logs(query)
        page = found[: query.limit]
        seen += page
        if len(found) <= query.limit:
            return seen
        cursor = Cursor(page[-1][1], page[-1][0]).encode()


async def test_rollups_equal_the_sums_of_the_rows(store: LogStore) -> None:
    rows = _rows()
    for i in range(0, len(rows), 100):  # batches: the upserts add up across them
        await store.write(rows[i : i + 100])
    spend = SpendQuery.parse({"group_by": ["day"], "by": ["model"]})
    got = {(r["period"], r["model"]): r for r in spend.view(await store.spend(spend))}
    want: dict[tuple[str, str], dict[str, float]] = defaultdict(lambda: defaultdict(float))
    from datetime import UTC, datetime

    for row in rows:
        day = int(row[AT["time"]]) // 86400 * 86400
        w = want[(datetime.fromtimestamp(day, tz=UTC).isoformat(), row[AT["model_used"]])]
        w["requests"] += 1
        w["errors"] += 1 if row[AT["status"]] >= 400 else 0
        w["prompt_tokens"] += row[AT["prompt_tokens"]]
        w["completion_tokens"] += row[AT["completion_tokens"]]
        w["cached_tokens"] += row[AT["cached_tokens"]]
        w["reasoning_tokens"] += row[AT["reasoning_tokens"]]
        w["cost"] += row[AT["cost"]] or 0.0
    assert set(got) == set(want)
    for k, w in want.items():
        g = got[k]
        for name in ("requests", "errors", "prompt_tokens", "completion_tokens"):
            assert g[name] == w[name], (k, name)
        assert g["cached_tokens"] == w["cached_tokens"]
        assert g["reasoning_tokens"] == w["reasoning_tokens"]
        assert g["cost"] == pytest.approx(w["cost"], rel=1e-9)
        assert g["error_rate"] == pytest.approx(w["errors"] / w["requests"])
    hourly = SpendQuery.parse({"group_by": ["hour"], "by": ["key"]})
    total = sum(r["requests"] for r in hourly.view(await store.spend(hourly)))
    assert total == len(rows)


async def test_cursor_paging_visits_every_row_once_newest_first(store: LogStore) -> None:
    rows = _rows(300)
    await store.write(rows)
    seen = await _all_pages(store)
    assert [r[0] for r in seen] == [r[0] for r in sorted(rows, key=lambda r: (r[1], r[0]))][::-1]


@pytest.mark.parametrize(
    ("param", "column", "pick"),
    [
        ("key", "key_id", lambda r: r[AT["key_id"]]),
        ("team", "team", lambda r: r[AT["team"]]),
        ("model", "model_used", lambda r: r[AT["model_used"]]),
        ("provider", "provider", lambda r: r[AT["provider"]]),
        ("status", "status", lambda r: str(r[AT["status"]])),
    ],
)
async def test_each_filter_selects_its_rows(
    store: LogStore, param: str, column: str, pick: Any
) -> None:
    rows = _rows(400)
    await store.write(rows)
    value = pick(rows[5]) if param != "status" else "502"
    seen = await _all_pages(store, **{param: value})
    want = {r[0] for r in rows if str(r[AT[column]]) == value}
    assert want
    assert {r[0] for r in seen} == want


async def test_time_cost_and_tag_filters(store: LogStore) -> None:
    rows = _rows(400)
    await store.write(rows)
    lo, hi = START + 86400, START + 2 * 86400
    seen = await _all_pages(store, start=str(lo), end=str(hi), min_cost="0.002", tag="batch")
    want = {
        r[0]
        for r in rows
        if lo <= r[1] < hi
        and (r[AT["cost"]] or -1) >= 0.002
        and "batch" in msgspec.json.decode(r[AT["tags"]])
    }
    assert want
    assert {r[0] for r in seen} == want


def test_bad_filter_values_name_the_parameter() -> None:
    for q, param in [
        ({"limit": ["5000"]}, "limit"),
        ({"status": ["ok"]}, "status"),
        ({"start": ["yesterday"]}, "start"),
        ({"min_cost": ["nan"]}, "min_cost"),
        ({"cursor": ["@@@"]}, "cursor"),
    ]:
        with pytest.raises(GatewayError) as caught:
            LogQuery.parse(q)
        assert caught.value.kind == "invalid_request"
        assert caught.value.param == param
    with pytest.raises(GatewayError) as caught:
        SpendQuery.parse({"by": ["colour"]})
    assert caught.value.param == "by"


class _Flaky:
    """A store that is down until ``up`` is set."""

    def __init__(self, inner: LogStore) -> None:
        self.inner = inner
        self.up = False

    async def write(self, rows: Sequence[tuple[Any, ...]]) -> None:
        if not self.up:
            raise ConnectionError("database is down")
        await self.inner.write(rows)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


async def test_the_writer_keeps_rows_while_the_store_is_down_and_counts_drops(
    store: LogStore,
) -> None:
    from junction.gateway.accounting import Generation

    flaky = _Flaky(store)
    writer = RequestLogWriter(flaky, batch_size=10, flush_interval=0.02, max_queue=50)  # type: ignore[arg-type]
    writer.start()
    for i in range(60):
        writer.listen(
            Generation(id=f"gen-{i}", model="m", created=START + i, streamed=False, attempts=[])
        )
    await asyncio.sleep(0.2)
    assert writer.failures >= 1
    assert len(writer.queue) == 50
    assert writer.dropped == 10
    flaky.up = True
    for _ in range(200):
        if not writer.queue:
            break
        await asyncio.sleep(0.02)
    await writer.close()
    assert writer.written == 50
    page = await store.logs(LogQuery.parse({"limit": ["1000"]}))
    assert sorted(r[0] for r in page) == sorted(f"gen-{i}" for i in range(50))


@pytest.mark.parametrize("by", ["key", "team", "user", "model", "provider"])
async def test_day_groups_from_the_daily_rollup_match_the_hours(store: LogStore, by: str) -> None:
    """Whole days come from spend_daily (no filter) or spend_daily_groups (a
    filter), partial edge days from spend_hourly: the sums equal the hourly
    rollup's, bucketed by day."""
    rows = _rows(500)
    await store.write(rows[:250])
    await store.write(rows[250:])
    team, key = rows[0][AT["team"]], rows[0][AT["key_id"]]
    for filters in ({}, {"team": [team]}, {"key": [key]}, {"team": [team], "model": ["gpt-4.1"]}):
        await _days_match_hours(store, by, filters, rows)


async def test_a_log_older_than_the_daily_groups_gets_them_filled(database_url: str) -> None:
    """A log written before spend_daily_groups and spend_hourly_dims existed:
    they are filled from spend_hourly once, at start-up, and never again."""
    store = await connect(database_url)
    rows = _rows(400)
    await store.write(rows)
    await _sql(store, "DELETE FROM spend_daily_groups")
    await _sql(store, "DELETE FROM spend_hourly_dims")
    await store.close()
    store = await connect(database_url)  # applies the schema: fills the empty table
    try:
        team = rows[0][AT["team"]]
        for by, filters in (("user", {"team": [team]}), ("model", {})):
            await _days_match_hours(store, by, filters, rows)
        await store.close()
        store = await connect(database_url)  # not empty now: left alone
        await _days_match_hours(store, "key", {}, rows)
        await _days_match_hours(store, "model", {"team": [team]}, rows)
    finally:
        await store.close()


async def _sql(store: LogStore, sql: str) -> None:
    pool = getattr(store, "pool", None)
    if pool is not None:
        await pool.execute(sql)
    else:
        await store._writer.run(lambda db: db.execute(sql))  # type: ignore[attr-defined]


_COLUMN = {"key": "key_id", "team": "team", "user": "user_id", "model": "model_used"}
_COLUMN["provider"] = "provider"


async def _days_match_hours(
    store: LogStore, by: str, filters: dict[str, list[str]], rows: Sequence[tuple[Any, ...]]
) -> None:
    """Day and hour groups, from whichever rollups answer them, equal the
    rows' own sums (hours are whole: a row counts when its hour starts in
    ``[start's hour, end)``)."""
    start, end = START + 5 * 3600 + 17, START + 2 * 86400 + 7 * 3600 + 0.5
    span = {"start": [str(start)], "end": [str(end)]} | filters
    for group_by, size in (("day", 86400), ("hour", 3600)):
        query = SpendQuery.parse({"group_by": [group_by], "by": [by], **span})
        want: dict[tuple[int, str], list[float]] = defaultdict(lambda: [0, 0, 0.0])
        for row in rows:
            hour = int(row[AT["time"]]) // 3600 * 3600
            if not int(start) // 3600 * 3600 <= hour < end:
                continue
            if any(row[AT[_COLUMN[name]]] != value for name, (value,) in filters.items()):
                continue
            w = want[(hour // size * size, row[AT[_COLUMN[by]]])]
            w[0] += 1
            w[1] += row[AT["prompt_tokens"]]
            w[2] += row[AT["cost"]] or 0.0
        got = {
            (int(r[0]), r[1]): [int(r[2]), int(r[4]), float(r[9])] for r in await store.spend(query)
        }
        assert set(got) == set(want), (group_by, filters)
        for k, w in want.items():
            assert got[k][:2] == w[:2], (group_by, filters, k)
            assert got[k][2] == pytest.approx(w[2])


async def test_retention_deletes_old_rows_and_their_tags_but_keeps_spend(store: LogStore) -> None:
    rows = _rows(200)
    await store.write(rows)
    cut = START + 1.5 * 86400
    gone = await store.delete_before(cut)
    assert gone == sum(1 for r in rows if r[1] < cut)
    left = await _all_pages(store)
    assert {r[0] for r in left} == {r[0] for r in rows if r[1] >= cut}
    tagged = await _all_pages(store, tag="batch")
    assert all(r[1] >= cut for r in tagged)
    spend = SpendQuery.parse({"by": ["key"]})
    assert sum(r["requests"] for r in spend.view(await store.spend(spend))) == len(rows)


def _keyed(i: int, key: str, time: float, attempts: list[dict[str, Any]], tokens: int = 100):
    """A row of ``key`` at ``time`` with these attempts (the last one served)."""
    row = list(next(iter(synthetic_rows(1, start=time, span=1.0, seed=i))))
    row[AT["id"]] = f"gen-ep-{i:06d}"
    row[AT["key_id"]] = key
    row[AT["attempts"]] = msgspec.json.encode(attempts).decode()
    row[AT["completion_tokens"]] = tokens
    return tuple(row)


def _attempt(endpoint: str, status: int = 200, latency: float = 1000.0, ttft: Any = 200.0):
    error = None if status == 200 else f"upstream {status}"
    return {
        "endpoint": endpoint,
        "status": status,
        "error": error,
        "timeout": False,
        "latency_ms": latency,
        "ttft_ms": ttft,
    }


async def test_a_keys_endpoint_stats_count_its_own_attempts(store: LogStore) -> None:
    now = START + 86400
    rows = [
        # 10 s ago: a->b fail over, twice; 20 min ago: a served; 2 h ago: b failed.
        _keyed(1, "k1", now - 10, [_attempt("a", 503), _attempt("b", latency=500, ttft=100)]),
        _keyed(2, "k1", now - 10, [_attempt("a", 503), _attempt("b", latency=700, ttft=300)]),
        _keyed(3, "k1", now - 1200, [_attempt("a", latency=2000, ttft=None)]),
        _keyed(4, "k1", now - 7200, [_attempt("b", 502)]),
        _keyed(5, "k1", now - 30, [_attempt("a", 429), _attempt("b", latency=600, ttft=200)]),
        _keyed(6, "k2", now - 10, [_attempt("a", latency=50, ttft=10)]),  # another key
        _keyed(7, "", now - 10, [_attempt("a", 500)]),  # no key: not a key's page
    ]
    await store.write(rows)
    got = await store.key_endpoint_stats("k1", ["a", "b", "c"], now)
    a, b, c = got["a"], got["b"], got["c"]
    assert a.uptime_5m == 0.0  # two 503s; the 429 does not count
    assert a.uptime_30m == pytest.approx(1 / 3)
    assert a.uptime_1d == pytest.approx(1 / 3)
    # a's only success was not streamed: total latency stands in for the first token.
    assert a.latency_30m is not None
    assert a.latency_30m.p50 == 2000.0
    assert b.uptime_5m == 1.0
    assert b.uptime_30m == 1.0
    assert b.uptime_1d == pytest.approx(3 / 4)  # the 2-hour-old failure is in the day
    assert b.latency_30m is not None
    assert (b.latency_30m.p50, b.latency_30m.p99) == (200.0, 300.0)  # ttft of 100, 200, 300
    assert b.throughput_30m is not None
    assert b.throughput_30m.p50 == pytest.approx(100 * 1000 / 400)  # tokens / (latency - ttft)
    assert (c.uptime_30m, c.latency_30m, c.throughput_30m) == (None, None, None)
    other = await store.key_endpoint_stats("k2", ["a", "b"], now)
    assert other["a"].uptime_30m == 1.0
    assert other["b"].uptime_1d is None
    # Trimming keeps what the page reads and forgets the rest.
    await store.trim_endpoint_stats(now)
    assert await store.key_endpoint_stats("k1", ["a", "b", "c"], now) == got
    await store.trim_endpoint_stats(now + 2 * 86400)
    gone = await store.key_endpoint_stats("k1", ["a", "b"], now)
    assert gone["a"].uptime_1d is None
    assert gone["b"].latency_30m is None
