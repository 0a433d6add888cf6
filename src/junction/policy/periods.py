"""Budget periods as counter windows: calendar periods in a time zone,
``total``, and rolling windows (``24h``, ``7d``)."""

from __future__ import annotations

import math
import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from junction.stores import Window

CALENDAR = ("daily", "weekly", "monthly")
_ROLLING = re.compile(r"^([1-9][0-9]{0,3})([hd])$")


def valid_period(period: str) -> bool:
    return period in CALENDAR or period == "total" or _ROLLING.match(period) is not None


class Periods:
    """The current window of each period, recomputed only when it ends."""

    def __init__(self, timezone: str) -> None:
        self.zone = ZoneInfo(timezone)
        self._current: dict[str, Window] = {}

    def window(self, period: str, now: float) -> Window:
        found = self._current.get(period)
        if found is not None and found.end is not None and found.start is not None:
            if found.start <= now < found.end:
                return found
        elif found is not None:
            return found  # total and rolling windows do not move
        made = self._make(period, now)
        self._current[period] = made
        return made

    def _make(self, period: str, now: float) -> Window:
        if period == "total":
            return Window(start=0.0, end=math.inf)
        rolling = _ROLLING.match(period)
        if rolling is not None:
            hours = int(rolling.group(1)) * (24 if rolling.group(2) == "d" else 1)
            return Window(rolling=hours * 3600.0)
        local = datetime.fromtimestamp(now, self.zone)
        day = local.replace(hour=0, minute=0, second=0, microsecond=0)
        if period == "daily":
            start, end = day, _next_day(day, 1)
        elif period == "weekly":
            start = _next_day(day, -day.weekday())
            end = _next_day(start, 7)
        elif period == "monthly":
            start = day.replace(day=1)
            end = (start + timedelta(days=32)).replace(day=1)
        else:
            raise ValueError(f"unknown budget period {period!r}")
        return Window(start=start.timestamp(), end=end.timestamp())


def _next_day(day: datetime, days: int) -> datetime:
    """Midnight ``days`` later in the same zone (a DST day is 23 or 25 hours)."""
    moved = (day.replace(tzinfo=None) + timedelta(days=days)).replace(tzinfo=day.tzinfo)
    return moved.replace(hour=0, minute=0, second=0, microsecond=0)


def describe(window: Window) -> str:
    if window.rolling is not None:
        hours = window.rolling / 3600
        return f"rolling {hours / 24:g} days" if hours % 24 == 0 else f"rolling {hours:g} hours"
    if window.start == 0.0:
        return "total"
    return "this period"
