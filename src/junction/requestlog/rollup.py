"""The spend rollups: a batch of rows aggregated in Python, one upsert per group.

``spend_hourly`` holds every group (hour x key x team x user x model x
provider); the others are derived from a batch's hourly groups in the same
transaction: ``spend_daily_groups`` (every group per UTC day),
``spend_hourly_dims`` and ``spend_daily`` (per dimension and value, per hour
and per day). A spend query reads the smallest that answers it
(queries.SpendQuery)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from junction.requestlog.rows import COLUMNS

ROLLUP_KEYS = ("hour", "key_id", "team", "user_id", "model", "provider")
ROLLUP_SUMS = (
    "requests",
    "errors",
    "prompt_tokens",
    "completion_tokens",
    "cached_tokens",
    "cache_write_tokens",
    "reasoning_tokens",
    "cost",
    "cache_hits",
    "cache_savings",
)
_AT = {name: i for i, name in enumerate(COLUMNS)}


def aggregate(rows: Iterable[Sequence[Any]]) -> list[tuple[Any, ...]]:
    """``spend_hourly`` increments for a batch: (keys..., sums...) per group."""
    groups: dict[tuple[Any, ...], list[float]] = {}
    at = _AT
    for row in rows:
        key = (
            int(row[at["time"]]) // 3600 * 3600,
            row[at["key_id"]],
            row[at["team"]],
            row[at["user_id"]],
            row[at["model_used"]],
            row[at["provider"]],
        )
        sums = groups.get(key)
        if sums is None:
            sums = groups[key] = [0.0] * len(ROLLUP_SUMS)
        cost = row[at["cost"]] or 0.0
        hit = bool(row[at["cache_hit"]])
        sums[0] += 1
        sums[1] += 1 if row[at["status"]] >= 400 or row[at["error"]] else 0
        sums[2] += row[at["prompt_tokens"]]
        sums[3] += row[at["completion_tokens"]]
        sums[4] += row[at["cached_tokens"]]
        sums[5] += row[at["cache_write_tokens"]]
        sums[6] += row[at["reasoning_tokens"]]
        sums[7] += cost
        sums[8] += 1 if hit else 0
        sums[9] += (row[at["saved_cost"]] or 0.0) if hit else 0.0
    out: list[tuple[Any, ...]] = []
    for key, sums in sorted(groups.items()):  # one lock order: no deadlocks
        ints = tuple(int(v) for v in sums[:7])
        out.append((*key, *ints, sums[7], int(sums[8]), sums[9]))
    return out


DIMENSIONS = {"key": 1, "team": 2, "user": 3, "model": 4, "provider": 5}
"""The per-dimension rollups' dimensions: their position in an hourly group's key."""


def _summed(groups: dict[tuple[Any, ...], list[float]]) -> list[tuple[Any, ...]]:
    out = []
    for key, acc in sorted(groups.items()):  # one lock order: no deadlocks
        ints = tuple(int(v) for v in acc[:7])
        out.append((*key, *ints, float(acc[7]), int(acc[8]), float(acc[9])))
    return out


def _add(groups: dict[tuple[Any, ...], list[float]], key: tuple[Any, ...], sums: Any) -> None:
    acc = groups.get(key)
    if acc is None:
        groups[key] = list(sums)
    else:
        for i, v in enumerate(sums):
            acc[i] += v


def by_dimension(hourly: Sequence[tuple[Any, ...]], period: int) -> list[tuple[Any, ...]]:
    """Per-dimension increments (dimension, period start, value, sums...) from
    hourly groups: ``period`` 3600 for ``spend_hourly_dims``, 86400 for ``spend_daily``."""
    groups: dict[tuple[Any, ...], list[float]] = {}
    width = len(ROLLUP_KEYS)
    for group in hourly:
        start = int(group[0]) // period * period
        for name, at in DIMENSIONS.items():
            _add(groups, (name, start, group[at]), group[width:])
    return _summed(groups)


def daily(hourly: Sequence[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """``spend_daily`` increments (dimension, day, value, sums...)."""
    return by_dimension(hourly, 86400)


def hourly_dims(hourly: Sequence[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """``spend_hourly_dims`` increments (dimension, hour, value, sums...)."""
    return by_dimension(hourly, 3600)


def daily_groups(hourly: Sequence[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """``spend_daily_groups`` increments: the hourly groups summed per UTC day
    (day, key_id, team, user_id, model, provider, sums...)."""
    groups: dict[tuple[Any, ...], list[float]] = {}
    width = len(ROLLUP_KEYS)
    for group in hourly:
        _add(groups, (int(group[0]) // 86400 * 86400, *group[1:width]), group[width:])
    return _summed(groups)


def dimension_upsert_sql(table: str, period: str, placeholder: Any) -> str:
    """The upsert of a per-dimension rollup: ``spend_daily`` (``day``) or
    ``spend_hourly_dims`` (``hour``)."""
    names = ("dimension", period, "value", *ROLLUP_SUMS)
    values = ", ".join(placeholder(i + 1) for i in range(len(names)))
    updates = ", ".join(f"{s} = {table}.{s} + excluded.{s}" for s in ROLLUP_SUMS)
    return (
        f"INSERT INTO {table} ({', '.join(names)}) VALUES ({values}) "
        f"ON CONFLICT (dimension, {period}, value) DO UPDATE SET {updates}"
    )


def daily_upsert_sql(placeholder: Any) -> str:
    return dimension_upsert_sql("spend_daily", "day", placeholder)


def hourly_dims_upsert_sql(placeholder: Any) -> str:
    return dimension_upsert_sql("spend_hourly_dims", "hour", placeholder)


def daily_groups_upsert_sql(placeholder: Any) -> str:
    names = ("day", *ROLLUP_KEYS[1:], *ROLLUP_SUMS)
    values = ", ".join(placeholder(i + 1) for i in range(len(names)))
    updates = ", ".join(f"{s} = spend_daily_groups.{s} + excluded.{s}" for s in ROLLUP_SUMS)
    return (
        f"INSERT INTO spend_daily_groups ({', '.join(names)}) VALUES ({values}) "
        f"ON CONFLICT (day, {', '.join(ROLLUP_KEYS[1:])}) DO UPDATE SET {updates}"
    )


def upsert_sql(placeholder: Any) -> str:
    names = (*ROLLUP_KEYS, *ROLLUP_SUMS)
    values = ", ".join(placeholder(i + 1) for i in range(len(names)))
    updates = ", ".join(f"{s} = spend_hourly.{s} + excluded.{s}" for s in ROLLUP_SUMS)
    return (
        f"INSERT INTO spend_hourly ({', '.join(names)}) VALUES ({values}) "
        f"ON CONFLICT ({', '.join(ROLLUP_KEYS)}) DO UPDATE SET {updates}"
    )
