"""The hourly spend rollup: a batch of rows aggregated in Python, one upsert per group."""

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
"""``spend_daily`` dimensions: their position in an hourly group's key."""


def daily(hourly: Sequence[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """``spend_daily`` increments (dimension, day, value, sums...) from hourly groups."""
    groups: dict[tuple[Any, ...], list[float]] = {}
    width = len(ROLLUP_KEYS)
    for group in hourly:
        day = int(group[0]) // 86400 * 86400
        sums = group[width:]
        for name, at in DIMENSIONS.items():
            key = (name, day, group[at])
            acc = groups.get(key)
            if acc is None:
                groups[key] = list(sums)
            else:
                for i, v in enumerate(sums):
                    acc[i] += v
    out = []
    for key, acc in sorted(groups.items()):
        ints = tuple(int(v) for v in acc[:7])
        out.append((*key, *ints, float(acc[7]), int(acc[8]), float(acc[9])))
    return out


def daily_upsert_sql(placeholder: Any) -> str:
    names = ("dimension", "day", "value", *ROLLUP_SUMS)
    values = ", ".join(placeholder(i + 1) for i in range(len(names)))
    updates = ", ".join(f"{s} = spend_daily.{s} + excluded.{s}" for s in ROLLUP_SUMS)
    return (
        f"INSERT INTO spend_daily ({', '.join(names)}) VALUES ({values}) "
        f"ON CONFLICT (dimension, day, value) DO UPDATE SET {updates}"
    )


def upsert_sql(placeholder: Any) -> str:
    names = (*ROLLUP_KEYS, *ROLLUP_SUMS)
    values = ", ".join(placeholder(i + 1) for i in range(len(names)))
    updates = ", ".join(f"{s} = spend_hourly.{s} + excluded.{s}" for s in ROLLUP_SUMS)
    return (
        f"INSERT INTO spend_hourly ({', '.join(names)}) VALUES ({values}) "
        f"ON CONFLICT ({', '.join(ROLLUP_KEYS)}) DO UPDATE SET {updates}"
    )
