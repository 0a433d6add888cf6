"""Live endpoint statistics from junction's own traffic, in bounded memory.

The gateway calls :meth:`StatsStore.record` once per finished attempt (never per
chunk). Every query takes ``now`` (seconds, any monotonic origin), so tests
drive a fake clock.

Layout per endpoint, all rings of fixed size, so memory is bounded whatever
the traffic:

* 180 buckets of 10 s (30 minutes): request / success / error / timeout
  counts and three bounded reservoirs (16 samples each) of time to first
  token, total latency and throughput. Percentiles over a window weight each
  bucket's samples by the bucket's request count (so a busy bucket is not
  under-represented) and use the nearest-rank rule: the smallest sample with at
  least q of the weight at or below it. A sample counts for between W-10 s and
  W s of a W-second window (whole buckets).
* 60 buckets of 1 s: successes and failures, for :meth:`recent_failures`.
* 288 buckets of 5 min (1 day): uptime counts.

Definitions:

* *failure*: ``ok=False`` (the caller decides; a client's own 4xx should be
  recorded as ``ok=True`` or not at all). Timeouts are failures.
* *uptime*: successes / (successes + failures), **rate-limited (429) requests
  excluded** as in OpenRouter's ``uptime_last_*``; ``None`` with no traffic.
* *throughput*: output tokens per second after the first token,
  ``output_tokens / (latency - ttft)``; for a non-streamed request (no
  ``ttft_ms``) over the whole latency, a lower bound.
* *latency* for routing and the endpoints page: time to first token; when
  the window has no streamed request, total latency stands in.
* Latency, TTFT and throughput samples come from successful requests only.
* *significant recent failures* (OpenRouter's "significant outages in the
  last 30 seconds"): at least 3 failures **and** a failure share of at least
  50 % within the window (both configurable).
* *circuit breaker*: opens after ``failure_threshold`` consecutive failures
  (default 5); after ``cooldown_s`` (default 30 s) it is half-open (requests
  may probe it); a success closes it, a failure while half-open opens it again.
  A probe belongs to the attempt that took it (:meth:`StatsStore.begin_probe`
  at the attempt's start) and is given back on every outcome
  (:meth:`StatsStore.end_probe`, or the attempt's record).
* *cooldown*: a provider that said when to come back (``retry-after`` on a
  429 or 503) rests until then (:meth:`StatsStore.cool_down`, capped at
  ``max_cooldown_s``). Selection puts resting endpoints (open circuit or
  cooldown) last; it never drops them.

Percentile results are cached per endpoint and window and recomputed when the
window slides or, at most every ``refresh_s`` seconds (default 1 s), when new
samples arrived, so selection reads them in O(1).
"""

from __future__ import annotations

import math
import random
from typing import Protocol

import msgspec

from junction.catalog import CircuitState, LiveStats, Percentiles

__all__ = [
    "BreakerConfig",
    "EndpointStats",
    "StatsConfig",
    "StatsStore",
]

_FINE_S = 10.0
_FINE_SLOTS = 180
_SECOND_SLOTS = 60
_DAY_S = 300.0
_DAY_SLOTS = 288
_QUANTILES = (0.50, 0.75, 0.90, 0.99)


class BreakerConfig(msgspec.Struct, frozen=True):
    failure_threshold: int = 5
    cooldown_s: float = 30.0
    probe_ttl_s: float = 120.0
    """How long a half-open endpoint's probe (one request) holds it
    for itself before another request may probe (a safety net: the
    attempt that took the probe gives it back when it ends)."""
    max_cooldown_s: float = 600.0
    """The longest ``retry-after`` taken as a cooldown (longer ones are cut)."""


class StatsConfig(msgspec.Struct, frozen=True):
    breaker: BreakerConfig = BreakerConfig()
    recent_min_failures: int = 3
    recent_min_share: float = 0.5
    reservoir: int = 16
    refresh_s: float = 1.0


class StatsStore(Protocol):
    """What routing reads and writes: the failover policy records attempts,
    takes probes and cools endpoints down; selection reads health, latency and
    throughput; the endpoints page reads a snapshot. :class:`EndpointStats`
    is the one-process store; ``junction.stores.redis.stats.RedisStats``
    shares it between processes."""

    def record(
        self,
        endpoint_id: str,
        *,
        ok: bool,
        timeout: bool,
        status: int,
        ttft_ms: float | None,
        latency_ms: float,
        output_tokens: int,
        now: float,
    ) -> None: ...

    def begin_probe(self, endpoint_id: str, *, now: float) -> bool: ...

    def end_probe(self, endpoint_id: str) -> None: ...

    def cool_down(self, endpoint_id: str, *, until: float, now: float) -> None: ...

    def resting(self, endpoint_id: str, *, now: float) -> str | None: ...

    def recent_failures(self, endpoint_id: str, *, now: float, window_s: float = 30.0) -> bool: ...

    def uptime(self, endpoint_id: str, *, now: float, window_s: float) -> float | None: ...

    def ttft(
        self, endpoint_id: str, *, now: float, window_s: float = 300.0
    ) -> Percentiles | None: ...

    def latency(
        self, endpoint_id: str, *, now: float, window_s: float = 300.0
    ) -> Percentiles | None: ...

    def throughput(
        self, endpoint_id: str, *, now: float, window_s: float = 300.0
    ) -> Percentiles | None: ...

    def snapshot(self, endpoint_id: str, *, now: float) -> LiveStats: ...


class _Reservoir:
    __slots__ = ("samples", "seen")

    def __init__(self) -> None:
        self.samples: list[float] = []
        self.seen = 0

    def reset(self) -> None:
        self.samples.clear()
        self.seen = 0

    def add(self, value: float, cap: int, rng: random.Random) -> None:
        self.seen += 1
        if len(self.samples) < cap:
            self.samples.append(value)
        else:
            j = rng.randrange(self.seen)
            if j < cap:
                self.samples[j] = value


class _Fine:
    __slots__ = (
        "errors",
        "index",
        "latency",
        "ok",
        "throughput",
        "timeouts",
        "total",
        "ttft",
        "up_ok",
        "up_total",
    )

    def __init__(self, index: int) -> None:
        self.index = index
        self.total = self.ok = self.errors = self.timeouts = 0
        self.up_ok = self.up_total = 0
        self.ttft = _Reservoir()
        self.latency = _Reservoir()
        self.throughput = _Reservoir()

    def reset(self, index: int) -> None:
        self.index = index
        self.total = self.ok = self.errors = self.timeouts = 0
        self.up_ok = self.up_total = 0
        self.ttft.reset()
        self.latency.reset()
        self.throughput.reset()


_CacheEntry = tuple[int, int, float, Percentiles | None]


class _Endpoint:
    __slots__ = (
        "cache",
        "consecutive",
        "cool_until",
        "day_index",
        "day_ok",
        "day_total",
        "fine",
        "last_failure",
        "opened_at",
        "probe_until",
        "recent",
        "sec_fail",
        "sec_index",
        "sec_ok",
        "version",
    )

    def __init__(self) -> None:
        self.fine: list[_Fine | None] = [None] * _FINE_SLOTS
        self.sec_index = [-1] * _SECOND_SLOTS
        self.sec_ok = [0] * _SECOND_SLOTS
        self.sec_fail = [0] * _SECOND_SLOTS
        self.day_index = [-1] * _DAY_SLOTS
        self.day_ok = [0] * _DAY_SLOTS
        self.day_total = [0] * _DAY_SLOTS
        self.consecutive = 0
        self.last_failure = -math.inf
        self.opened_at: float | None = None
        self.probe_until: float | None = None
        self.cool_until = -math.inf
        self.version = 0
        self.recent: tuple[int, int, float, bool] = (-1, -1, 0.0, False)
        self.cache: dict[tuple[str, float], _CacheEntry] = {}


def _fine_bucket(ep: _Endpoint, now: float) -> _Fine:
    index = int(now // _FINE_S)
    slot = index % _FINE_SLOTS
    bucket = ep.fine[slot]
    if bucket is None:
        bucket = ep.fine[slot] = _Fine(index)
    elif bucket.index != index:
        bucket.reset(index)
    return bucket


def _buckets(ep: _Endpoint, now: float, window_s: float) -> list[_Fine]:
    if window_s > _FINE_S * _FINE_SLOTS:
        raise ValueError(f"window_s must be at most {_FINE_S * _FINE_SLOTS:.0f} s")
    current = int(now // _FINE_S)
    oldest = current - max(1, math.ceil(window_s / _FINE_S)) + 1
    return [b for b in ep.fine if b is not None and oldest <= b.index <= current]


def _weighted_percentiles(pairs: list[tuple[float, float]]) -> Percentiles | None:
    if not pairs:
        return None
    pairs.sort()
    total = sum(w for _, w in pairs)
    out: list[float] = []
    cumulative = 0.0
    qi = 0
    for value, weight in pairs:
        cumulative += weight
        while qi < len(_QUANTILES) and cumulative >= _QUANTILES[qi] * total - 1e-9:
            out.append(value)
            qi += 1
        if qi == len(_QUANTILES):
            break
    while len(out) < len(_QUANTILES):
        out.append(pairs[-1][0])
    return Percentiles(p50=out[0], p75=out[1], p90=out[2], p99=out[3])


class EndpointStats:
    """The in-memory :class:`StatsStore` (one process)."""

    def __init__(self, config: StatsConfig | None = None, *, rng: random.Random | None = None):
        self.config = config or StatsConfig()
        self._rng = rng or random.Random(0x5EED)
        self._endpoints: dict[str, _Endpoint] = {}

    # -- recording -----------------------------------------------------------------

    def record(
        self,
        endpoint_id: str,
        *,
        ok: bool,
        timeout: bool,
        status: int,
        ttft_ms: float | None,
        latency_ms: float,
        output_tokens: int,
        now: float,
    ) -> None:
        ep = self._endpoints.get(endpoint_id)
        if ep is None:
            ep = self._endpoints[endpoint_id] = _Endpoint()
        ep.version += 1
        failed = not ok or timeout
        self._count(ep, failed=failed, timeout=timeout, status=status, now=now)
        if not failed:
            self._sample(ep, ttft_ms, latency_ms, output_tokens, now)
        self._breaker(endpoint_id, ep, failed, now)

    def _count(
        self, ep: _Endpoint, *, failed: bool, timeout: bool, status: int, now: float
    ) -> None:
        bucket = _fine_bucket(ep, now)
        bucket.total += 1
        counts_for_uptime = status != 429
        if failed:
            bucket.errors += 1
            bucket.timeouts += timeout
        else:
            bucket.ok += 1
        if counts_for_uptime:
            bucket.up_total += 1
            bucket.up_ok += not failed
        second = int(now)
        slot = second % _SECOND_SLOTS
        if ep.sec_index[slot] != second:
            ep.sec_index[slot] = second
            ep.sec_ok[slot] = ep.sec_fail[slot] = 0
        if failed:
            ep.sec_fail[slot] += 1
            ep.last_failure = max(ep.last_failure, float(second))
        else:
            ep.sec_ok[slot] += 1
        if counts_for_uptime:
            day = int(now // _DAY_S)
            dslot = day % _DAY_SLOTS
            if ep.day_index[dslot] != day:
                ep.day_index[dslot] = day
                ep.day_ok[dslot] = ep.day_total[dslot] = 0
            ep.day_total[dslot] += 1
            ep.day_ok[dslot] += not failed

    def _sample(
        self, ep: _Endpoint, ttft_ms: float | None, latency_ms: float, tokens: int, now: float
    ) -> None:
        bucket = _fine_bucket(ep, now)
        cap, rng = self.config.reservoir, self._rng
        bucket.latency.add(latency_ms, cap, rng)
        generating_ms = latency_ms
        if ttft_ms is not None:
            bucket.ttft.add(ttft_ms, cap, rng)
            generating_ms = latency_ms - ttft_ms
        if tokens > 0 and generating_ms > 0:
            bucket.throughput.add(tokens * 1000.0 / generating_ms, cap, rng)

    def _breaker(self, ep_id: str, ep: _Endpoint, failed: bool, now: float) -> None:
        ep.probe_until = None
        if not failed:
            ep.consecutive = 0
            ep.opened_at = None
            return
        ep.consecutive += 1
        breaker = self.config.breaker
        if ep.opened_at is not None:
            if now - ep.opened_at >= breaker.cooldown_s:  # the half-open probe failed
                ep.opened_at = now
        elif ep.consecutive >= breaker.failure_threshold:
            ep.opened_at = now
            self._opened(ep_id, now)

    def _opened(self, endpoint_id: str, now: float) -> None:
        """The breaker just opened on this process's own traffic (a hook for shared stores)."""

    def trip(self, endpoint_id: str, *, now: float) -> None:
        """Open the circuit as of ``now`` (another process saw the endpoint fail);
        a circuit already open keeps its own, later opening."""
        ep = self._endpoints.get(endpoint_id)
        if ep is None:
            ep = self._endpoints[endpoint_id] = _Endpoint()
        if ep.opened_at is None or ep.opened_at < now:
            ep.opened_at = now
            ep.consecutive = max(ep.consecutive, self.config.breaker.failure_threshold)

    def forget(self, endpoint_id: str) -> None:
        self._endpoints.pop(endpoint_id, None)

    # -- queries -------------------------------------------------------------------

    def circuit_state(self, endpoint_id: str, *, now: float) -> CircuitState:
        ep = self._endpoints.get(endpoint_id)
        if ep is None or ep.opened_at is None:
            return "closed"
        if ep.probe_until is not None and now < ep.probe_until:
            return "open"  # one probe at a time
        if now - ep.opened_at >= self.config.breaker.cooldown_s:
            return "half_open"
        return "open"

    def begin_probe(self, endpoint_id: str, *, now: float) -> bool:
        """An attempt is starting on this endpoint: if it is half-open, the
        attempt takes the probe (returns True) and, until the attempt gives
        it back (:meth:`end_probe` or its record) or ``probe_ttl_s`` passes,
        the circuit counts as open for everyone else, so one request, not
        all, pays for a provider that is still down."""
        ep = self._endpoints.get(endpoint_id)
        if ep is None or self.circuit_state(endpoint_id, now=now) != "half_open":
            return False
        ep.probe_until = now + self.config.breaker.probe_ttl_s
        return True

    def end_probe(self, endpoint_id: str) -> None:
        """Give back a probe taken by :meth:`begin_probe` (any outcome)."""
        ep = self._endpoints.get(endpoint_id)
        if ep is not None:
            ep.probe_until = None

    def cool_down(self, endpoint_id: str, *, until: float, now: float) -> None:
        """The endpoint asked not to be called before ``until`` (its ``retry-after``)."""
        ep = self._endpoints.get(endpoint_id)
        if ep is None:
            ep = self._endpoints[endpoint_id] = _Endpoint()
        ep.cool_until = max(ep.cool_until, min(until, now + self.config.breaker.max_cooldown_s))

    def resting(self, endpoint_id: str, *, now: float) -> str | None:
        """Why the endpoint should be tried only as a last resort, or None."""
        ep = self._endpoints.get(endpoint_id)
        if ep is None:
            return None
        if now < ep.cool_until:
            return "cooling down (retry-after)"
        if ep.opened_at is not None and self.circuit_state(endpoint_id, now=now) == "open":
            return "circuit breaker open"
        return None

    def recent_failures(self, endpoint_id: str, *, now: float, window_s: float = 30.0) -> bool:
        ep = self._endpoints.get(endpoint_id)
        if window_s > _SECOND_SLOTS:
            raise ValueError(f"window_s must be at most {_SECOND_SLOTS} s")
        current = int(now)
        oldest = current - max(1, math.ceil(window_s)) + 1
        if ep is None or ep.last_failure < oldest:  # the common, healthy case: O(1)
            return False
        cached = ep.recent
        if cached[0] == current and cached[1] == ep.version and cached[2] == window_s:
            return cached[3]
        ok = failed = 0
        for second in range(oldest, current + 1):
            slot = second % _SECOND_SLOTS
            if ep.sec_index[slot] == second:
                ok += ep.sec_ok[slot]
                failed += ep.sec_fail[slot]
        cfg = self.config
        result = failed >= cfg.recent_min_failures and failed >= cfg.recent_min_share * (
            ok + failed
        )
        ep.recent = (current, ep.version, window_s, result)
        return result

    def _rate(self, endpoint_id: str, now: float, window_s: float, timeouts: bool) -> float | None:
        ep = self._endpoints.get(endpoint_id)
        if ep is None:
            return None
        total = bad = 0
        for bucket in _buckets(ep, now, window_s):
            total += bucket.total
            bad += bucket.timeouts if timeouts else bucket.errors
        return bad / total if total else None

    def error_rate(self, endpoint_id: str, *, now: float, window_s: float = 300.0) -> float | None:
        """Failures / requests (429s included), ``None`` without traffic."""
        return self._rate(endpoint_id, now, window_s, timeouts=False)

    def timeout_rate(
        self, endpoint_id: str, *, now: float, window_s: float = 300.0
    ) -> float | None:
        return self._rate(endpoint_id, now, window_s, timeouts=True)

    def uptime(self, endpoint_id: str, *, now: float, window_s: float) -> float | None:
        """Share of successful requests (429s excluded); windows up to 1 day."""
        ep = self._endpoints.get(endpoint_id)
        if ep is None:
            return None
        ok = total = 0
        if window_s <= _FINE_S * _FINE_SLOTS:
            for bucket in _buckets(ep, now, window_s):
                ok += bucket.up_ok
                total += bucket.up_total
        else:
            if window_s > _DAY_S * _DAY_SLOTS:
                raise ValueError("window_s must be at most one day")
            current = int(now // _DAY_S)
            oldest = current - math.ceil(window_s / _DAY_S) + 1
            for slot in range(_DAY_SLOTS):
                if oldest <= ep.day_index[slot] <= current:
                    ok += ep.day_ok[slot]
                    total += ep.day_total[slot]
        return ok / total if total else None

    def ttft(self, endpoint_id: str, *, now: float, window_s: float = 300.0) -> Percentiles | None:
        """Time to first token (ms) percentiles of successful streamed requests."""
        return self._percentiles(endpoint_id, "ttft", now, window_s)

    def latency(
        self, endpoint_id: str, *, now: float, window_s: float = 300.0
    ) -> Percentiles | None:
        """Total latency (ms) percentiles of successful requests."""
        return self._percentiles(endpoint_id, "latency", now, window_s)

    def throughput(
        self, endpoint_id: str, *, now: float, window_s: float = 300.0
    ) -> Percentiles | None:
        """Output tokens per second percentiles of successful requests."""
        return self._percentiles(endpoint_id, "throughput", now, window_s)

    def _percentiles(
        self, endpoint_id: str, metric: str, now: float, window_s: float
    ) -> Percentiles | None:
        ep = self._endpoints.get(endpoint_id)
        if ep is None:
            return None
        key = (metric, window_s)
        current = int(now // _FINE_S)
        entry = ep.cache.get(key)
        if (
            entry is not None
            and entry[0] == current
            and (entry[1] == ep.version or now - entry[2] < self.config.refresh_s)
        ):
            return entry[3]
        pairs: list[tuple[float, float]] = []
        for bucket in _buckets(ep, now, window_s):
            reservoir: _Reservoir = getattr(bucket, metric)
            if reservoir.samples:
                weight = reservoir.seen / len(reservoir.samples)
                pairs.extend((value, weight) for value in reservoir.samples)
        value = _weighted_percentiles(pairs)
        ep.cache[key] = (current, ep.version, now, value)
        return value

    def snapshot(self, endpoint_id: str, *, now: float) -> LiveStats:
        """The endpoints-page view: uptimes, 30-minute latency and throughput, breaker."""
        return LiveStats(
            uptime_5m=self.uptime(endpoint_id, now=now, window_s=300.0),
            uptime_30m=self.uptime(endpoint_id, now=now, window_s=1800.0),
            uptime_1d=self.uptime(endpoint_id, now=now, window_s=86400.0),
            latency_30m=self.ttft(endpoint_id, now=now, window_s=1800.0)
            or self.latency(endpoint_id, now=now, window_s=1800.0),
            throughput_30m=self.throughput(endpoint_id, now=now, window_s=1800.0),
            circuit=self.circuit_state(endpoint_id, now=now),
        )
