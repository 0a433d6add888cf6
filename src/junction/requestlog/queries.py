"""The admin queries: filters parsed from a query string, SQL for either backend,
keyset cursors, CSV. Bad values raise a 400 naming the parameter."""

from __future__ import annotations

import base64
import csv
import io
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

import msgspec

from junction.requestlog.rollup import ROLLUP_SUMS
from junction.requestlog.rows import COLUMNS
from junction.types import GatewayError

MAX_LIMIT = 1000
DEFAULT_LIMIT = 100
Placeholder = Callable[[int], str]

SPEND_DIMENSIONS = {
    "key": "key_id",
    "team": "team",
    "user": "user_id",
    "model": "model",
    "provider": "provider",
}
_LOG_FILTERS = {
    "key": "key_id",
    "team": "team",
    "user": "user_id",
    "model": "model_used",
    "provider": "provider",
}


def _bad(param: str, why: str) -> GatewayError:
    return GatewayError("invalid_request", f"Bad {param!r}: {why}.", param=param)


def parse_time(param: str, value: str) -> float:
    """Epoch seconds, or an ISO 8601 time (UTC unless it says otherwise)."""
    try:
        seconds = float(value)
    except ValueError:
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise _bad(param, "give an ISO 8601 time or epoch seconds") from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return moment.timestamp()
    if not math.isfinite(seconds):
        raise _bad(param, "give a finite time")
    return seconds


def _one(query: Mapping[str, list[str]], name: str) -> str | None:
    values = query.get(name)
    if not values:
        return None
    if len(values) > 1:
        raise _bad(name, "give it once")
    return values[0]


@dataclass(frozen=True, slots=True)
class Cursor:
    time: float
    id: str

    def encode(self) -> str:
        raw = msgspec.json.encode([self.time, self.id])
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str) -> Cursor:
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
            t, i = msgspec.json.decode(raw, type=tuple[float, str])
        except (ValueError, msgspec.DecodeError):
            raise _bad("cursor", "pass back the next_cursor of a previous page") from None
        return cls(t, i)


@dataclass(frozen=True, slots=True)
class LogQuery:
    start: float | None = None
    end: float | None = None
    equals: tuple[tuple[str, str], ...] = ()
    status: int | None = None
    min_cost: float | None = None
    tag: str | None = None
    limit: int = DEFAULT_LIMIT
    cursor: Cursor | None = None

    @classmethod
    def parse(cls, query: Mapping[str, list[str]]) -> LogQuery:
        start = _one(query, "start")
        end = _one(query, "end")
        equals = tuple(
            (column, value)
            for name, column in _LOG_FILTERS.items()
            if (value := _one(query, name)) is not None
        )
        status = _one(query, "status")
        min_cost = _one(query, "min_cost")
        limit = _one(query, "limit")
        cursor = _one(query, "cursor")
        return cls(
            start=parse_time("start", start) if start is not None else None,
            end=parse_time("end", end) if end is not None else None,
            equals=equals,
            status=_int("status", status, 100, 599) if status is not None else None,
            min_cost=_float("min_cost", min_cost) if min_cost is not None else None,
            tag=_one(query, "tag"),
            limit=_int("limit", limit, 1, MAX_LIMIT) if limit is not None else DEFAULT_LIMIT,
            cursor=Cursor.decode(cursor) if cursor is not None else None,
        )

    def sql(self, ph: Placeholder) -> tuple[str, list[Any]]:
        """Newest first, one row past the page (to know whether there is a next)."""
        params: list[Any] = []

        def p(value: Any) -> str:
            params.append(value)
            return ph(len(params))

        cols = ", ".join(f"r.{c}" for c in COLUMNS)
        if self.tag is not None:
            source = "request_log_tags o JOIN request_log r ON r.id = o.id"
            where = [f"o.tag = {p(self.tag)}"]
        else:
            source = "request_log r"
            where = []
        o = "o" if self.tag is not None else "r"
        if self.start is not None:
            where.append(f"{o}.time >= {p(self.start)}")
        if self.end is not None:
            where.append(f"{o}.time < {p(self.end)}")
        for column, value in self.equals:
            where.append(f"r.{column} = {p(value)}")
        if self.status is not None:
            where.append(f"r.status = {p(self.status)}")
        if self.min_cost is not None:
            where.append(f"r.cost >= {p(self.min_cost)}")
        if self.cursor is not None:
            t = p(self.cursor.time)
            i = p(self.cursor.id)
            where.append(f"({o}.time, {o}.id) < ({t}, {i})")
        clause = f" WHERE {' AND '.join(where)}" if where else ""
        sql = (
            f"SELECT {cols} FROM {source}{clause} "
            f"ORDER BY {o}.time DESC, {o}.id DESC LIMIT {p(self.limit + 1)}"
        )
        return sql, params


@dataclass(frozen=True, slots=True)
class SpendQuery:
    group_by: Literal["day", "hour"] = "day"
    by: str = "key"
    start: float | None = None
    end: float | None = None
    equals: tuple[tuple[str, str], ...] = ()

    @classmethod
    def parse(cls, query: Mapping[str, list[str]]) -> SpendQuery:
        group_by = _one(query, "group_by") or "day"
        if group_by not in ("day", "hour"):
            raise _bad("group_by", "give day or hour")
        by = _one(query, "by") or "key"
        if by not in SPEND_DIMENSIONS:
            raise _bad("by", f"give one of {', '.join(SPEND_DIMENSIONS)}")
        start = _one(query, "start")
        end = _one(query, "end")
        equals = tuple(
            (column, value)
            for name, column in SPEND_DIMENSIONS.items()
            if (value := _one(query, name)) is not None
        )
        return cls(
            group_by="day" if group_by == "day" else "hour",
            by=by,
            start=parse_time("start", start) if start is not None else None,
            end=parse_time("end", end) if end is not None else None,
            equals=equals,
        )

    def sql(self, ph: Placeholder) -> tuple[str, list[Any]]:
        """Hours from an hourly rollup (:meth:`_hourly`). Day groups: the whole
        days from a daily rollup (``spend_daily``, a few rows per day and value,
        when nothing is filtered; ``spend_daily_groups``, every group per day,
        with a filter) and only the partial days at the edges from the hours."""
        params: list[Any] = []

        def p(value: Any) -> str:
            params.append(value)
            return ph(len(params))

        sums = ", ".join(f"SUM({s})" for s in ROLLUP_SUMS)
        d0 = None if self.start is None else math.ceil(self.start / 86400) * 86400
        d1 = None if self.end is None else math.floor(self.end / 86400) * 86400
        whole_days = d0 is None or d1 is None or d0 < d1
        if self.group_by == "hour" or not whole_days:
            inner = self._hourly(p, self.start, self.end, self.equals)
            return (
                f"SELECT period, dim, {sums} FROM ({inner}) u GROUP BY 1, 2 ORDER BY 1, 2",
                params,
            )
        parts = []
        if self.start is not None and d0 is not None and self.start < d0:
            parts.append(self._hourly(p, self.start, d0, self.equals))
        parts.append(self._days(p, d0, d1))
        if self.end is not None and d1 is not None and d1 < self.end:
            parts.append(self._hourly(p, d1, self.end, self.equals))
        inner = " UNION ALL ".join(parts)
        return f"SELECT period, dim, {sums} FROM ({inner}) u GROUP BY 1, 2 ORDER BY 1, 2", params

    def _days(self, p: Callable[[Any], str], d0: int | None, d1: int | None) -> str:
        """Whole days ``[d0, d1)`` from the daily rollups."""
        where = []
        if d0 is not None:
            where.append(f"day >= {p(d0)}")
        if d1 is not None:
            where.append(f"day < {p(d1)}")
        if not self.equals:
            where.insert(0, f"dimension = {p(self.by)}")
            return (
                f"SELECT day AS period, value AS dim, {', '.join(ROLLUP_SUMS)} FROM spend_daily "
                f"WHERE {' AND '.join(where)}"
            )
        for column, value in self.equals:
            where.append(f"{column} = {p(value)}")
        dim = f"{SPEND_DIMENSIONS[self.by]} || ''"  # as in _hourly: filter by index, never group
        return (
            f"SELECT day AS period, {dim} AS dim, {', '.join(ROLLUP_SUMS)} "
            f"FROM spend_daily_groups WHERE {' AND '.join(where)}"
        )

    def _hourly(
        self,
        p: Callable[[Any], str],
        start: float | None,
        end: float | None,
        equals: tuple[tuple[str, str], ...],
    ) -> str:
        """Hours ``[start, end)``: from ``spend_hourly_dims`` (a few rows per
        hour and value) without a filter, else from ``spend_hourly``."""
        bucket = "hour" if self.group_by == "hour" else "(hour / 86400) * 86400"
        where = []
        if not equals:
            where.append(f"dimension = {p(self.by)}")
        if start is not None:
            where.append(f"hour >= {p(int(start) // 3600 * 3600)}")
        if end is not None:
            where.append(f"hour < {p(math.ceil(end))}")
        for column, value in equals:
            where.append(f"{column} = {p(value)}")
        clause = f" WHERE {' AND '.join(where)}" if where else ""
        if not equals:
            return (
                f"SELECT {bucket} AS period, value AS dim, {', '.join(ROLLUP_SUMS)} "
                f"FROM spend_hourly_dims{clause}"
            )
        # "|| ''": group on an expression, so a planner filters with the
        # (team, hour) / (key_id, hour) indexes but never scans them to group.
        dim = f"{SPEND_DIMENSIONS[self.by]} || ''"
        return (
            f"SELECT {bucket} AS period, {dim} AS dim, {', '.join(ROLLUP_SUMS)} "
            f"FROM spend_hourly{clause}"
        )

    def view(self, rows: Sequence[Sequence[Any]]) -> list[dict[str, Any]]:
        out = []
        for row in rows:
            sums = dict(zip(ROLLUP_SUMS, row[2:], strict=True))
            requests = int(sums["requests"] or 0)
            errors = int(sums["errors"] or 0)
            tokens = {
                k: int(sums[k] or 0)
                for k in (
                    "prompt_tokens",
                    "completion_tokens",
                    "cached_tokens",
                    "cache_write_tokens",
                    "reasoning_tokens",
                )
            }
            out.append(
                {
                    "period": datetime.fromtimestamp(int(row[0]), tz=UTC).isoformat(),
                    self.by: row[1],
                    "requests": requests,
                    "errors": errors,
                    "error_rate": errors / requests if requests else 0.0,
                    **tokens,
                    "total_tokens": tokens["prompt_tokens"] + tokens["completion_tokens"],
                    "cost": float(sums["cost"] or 0.0),
                    "cache_hits": int(sums["cache_hits"] or 0),
                    "cache_savings": float(sums["cache_savings"] or 0.0),
                }
            )
        return out


def _int(param: str, value: str, low: int, high: int) -> int:
    try:
        n = int(value)
    except ValueError:
        raise _bad(param, "give a whole number") from None
    if not low <= n <= high:
        raise _bad(param, f"give a number from {low} to {high}")
    return n


def _float(param: str, value: str) -> float:
    try:
        x = float(value)
    except ValueError:
        raise _bad(param, "give a number") from None
    if not math.isfinite(x):
        raise _bad(param, "give a finite number")
    return x


def to_csv(rows: Sequence[Mapping[str, Any]]) -> str:
    """Rows as CSV (nested values as JSON), a header from the first row."""
    buf = io.StringIO()
    if not rows:
        return ""
    writer = csv.writer(buf)
    names = list(rows[0])
    writer.writerow(names)
    for row in rows:
        writer.writerow(
            [
                msgspec.json.encode(v).decode() if isinstance(v, (dict, list)) else v
                for v in (row[n] for n in names)
            ]
        )
    return buf.getvalue()
