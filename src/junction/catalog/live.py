"""Live endpoint figures as the catalog renders them (produced by junction.routing.stats)."""

from __future__ import annotations

from typing import Literal

import msgspec

__all__ = ["CircuitState", "LiveStats", "Percentiles"]

CircuitState = Literal["closed", "open", "half_open"]


class Percentiles(msgspec.Struct, frozen=True):
    p50: float
    p75: float
    p90: float
    p99: float


class LiveStats(msgspec.Struct, frozen=True, omit_defaults=True):
    """One endpoint's recent behaviour.

    Uptimes are fractions in [0, 1] (``None`` without traffic); latency is time
    to first token in milliseconds, throughput output tokens per second, both
    over the last 30 minutes.
    """

    uptime_5m: float | None = None
    uptime_30m: float | None = None
    uptime_1d: float | None = None
    latency_30m: Percentiles | None = None
    throughput_30m: Percentiles | None = None
    circuit: CircuitState = "closed"
