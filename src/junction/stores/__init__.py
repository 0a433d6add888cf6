"""Where the gateway keeps what outlives a request: keys, teams, users,
counters for limits and budgets (and, later, the request log).

Two backends behind each contract (stores/protocols.py): embedded (memory
and one SQLite file, the default, zero set-up) and shared (Redis and
PostgreSQL, for many processes acting as one gateway).
"""

from __future__ import annotations

from dataclasses import dataclass

from junction.stores.protocols import (
    Check,
    Correction,
    CounterReader,
    Counters,
    Records,
    RestoresSpend,
    Settle,
    SettlesMany,
    SettlesNow,
    SpendRecord,
    Spent,
    StoreUnavailable,
    Verdict,
    Window,
)
from junction.stores.records import KeyRecord, Limits, TeamRecord, UserRecord


@dataclass(slots=True)
class Stores:
    """The stores one gateway process uses."""

    records: Records
    counters: Counters

    async def close(self) -> None:
        await self.counters.close()
        await self.records.close()


__all__ = [
    "Check",
    "Correction",
    "CounterReader",
    "Counters",
    "KeyRecord",
    "Limits",
    "Records",
    "RestoresSpend",
    "Settle",
    "SettlesMany",
    "SettlesNow",
    "SpendRecord",
    "Spent",
    "StoreUnavailable",
    "Stores",
    "TeamRecord",
    "UserRecord",
    "Verdict",
    "Window",
]
