"""The request log as the durable record of spend, which budgets' counters
are restored from when their store has lost them (a flushed or restarted
Redis; the embedded counters after a restart): docs/operations.md,
"Counters after a data loss".

It reads the hourly rollup (``spend_hourly``) through the log's own spend
query, for the one key, team or user of a budget and the hours of its
window. A request's spend is there once its row is written, at most
``request_log.flush_interval`` after it ended.
"""

from __future__ import annotations

import logging

from junction.requestlog.queries import SPEND_DIMENSIONS, SpendQuery
from junction.requestlog.rollup import ROLLUP_SUMS
from junction.requestlog.service import RequestLog
from junction.requestlog.store import LogStore
from junction.stores import Check, Counters, RestoresSpend, Spent
from junction.stores.windows import plan

log = logging.getLogger("junction.requestlog")

OWNERS = ("key", "team", "user")
"""The scopes a budget can have (``key:<id>`` ...), as spend dimensions."""
_COST = 2 + ROLLUP_SUMS.index("cost")


class LoggedSpend:
    """:class:`~junction.stores.SpendRecord` on a request log's store."""

    def __init__(self, store: LogStore) -> None:
        self.store = store

    async def spent(self, check: Check, now: float) -> Spent:
        owner, _, ident = check.scope.partition(":")
        if owner not in OWNERS or not ident:
            return []
        query = SpendQuery(
            group_by="hour",
            by=owner,
            start=_window_start(check, now),
            end=now + 1.0,
            equals=((SPEND_DIMENSIONS[owner], ident),),
        )
        rows = await self.store.spend(query)
        # The rollup's cost is what budgets were charged: a response-cache
        # hit is logged at cost 0 (what it saved is in cache_savings, apart).
        return [(float(r[0]), float(r[_COST] or 0.0)) for r in rows]


def _window_start(check: Check, now: float) -> float:
    """The first instant of the window's first hour (a calendar period
    that starts inside an hour, in a zone such as Asia/Kolkata, counts that
    whole hour: the restored spend errs on the high side)."""
    window = check.window
    if window.start is not None:
        return window.start
    p = plan(check)
    return float((p.bucket(now) - p.span + 1) * p.size)


def restore_spend(counters: Counters, request_log: RequestLog | None) -> None:
    """Restore ``counters``' budgets from the request log, if they are
    counters that can lose them (Redis, memory; PostgreSQL's are as durable
    as the log)."""
    if not isinstance(counters, RestoresSpend):
        return
    if request_log is None:
        log.info("no request log: a budget's spend is not restored if its counters are lost")
        return
    counters.restore_spend_from(LoggedSpend(request_log.store))
