"""The simulator's run-time state: the live profile, fault decisions, counters
and the log of received requests (what ``/_sim/*`` reads and changes)."""

from __future__ import annotations

import random
import time
from collections import Counter, deque
from typing import Any

import msgspec

from junction.sim.profile import FAULT_KINDS, FaultKind, ModelConfig, ModelSettings, Profile

SECRET_HEADERS = frozenset(
    {"authorization", "x-api-key", "x-goog-api-key", "api-key", "proxy-authorization", "cookie"}
)
SECRET_QUERY = frozenset({"key", "api_key", "api-key"})
MASK = "***"


class RequestRecord(msgspec.Struct, omit_defaults=True):
    """One received request as ``GET /_sim/requests`` shows it."""

    seq: int
    time: float
    dialect: str
    method: str
    path: str
    query: dict[str, str]
    model: str | None
    key_sent: bool
    headers: dict[str, str]
    body: Any = None


class _Pending(msgspec.Struct):
    raw: bytes
    record: RequestRecord


class _Forced(msgspec.Struct):
    model: str
    kind: FaultKind
    remaining: int


class FailRequest(msgspec.Struct, forbid_unknown_fields=True):
    """``POST /_sim/fail``: the next ``count`` requests to ``model`` ("*" for
    any model) fail with ``kind``."""

    kind: FaultKind
    model: str = "*"
    count: int = msgspec.field(default=1)

    def __post_init__(self) -> None:
        if self.count < 1:
            raise ValueError("count must be at least 1")


def mask_headers(headers: Any) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, value in headers.items():
        out[name.lower()] = MASK if name.lower() in SECRET_HEADERS else value
    return out


def mask_query(query: Any) -> dict[str, str]:
    return {k: (MASK if k.lower() in SECRET_QUERY else v) for k, v in query.items()}


def _body_json(raw: bytes) -> Any:
    if not raw:
        return None
    try:
        return msgspec.json.decode(raw)
    except msgspec.DecodeError:
        return raw.decode("utf-8", errors="replace")


class SimState:
    """Mutable state of one simulator app. Not shared between apps."""

    def __init__(self, profile: Profile) -> None:
        self.loaded = profile
        self.in_flight = 0
        self._seq = 0
        self.reset()

    def reset(self) -> None:
        """Back to the loaded profile; counters, forced faults and log cleared."""
        self.set_profile(self.loaded)
        self._fault_rng = random.Random(self.loaded.seed)
        self._jitter_rng = random.Random(self.loaded.seed ^ 0x5EED)
        self._forced: list[_Forced] = []
        self._log: deque[_Pending] = deque(maxlen=self.loaded.max_logged_requests)
        self.requests = 0
        self.cached_prefixes: set[tuple[str, str]] = set()
        self.by_model: Counter[str] = Counter()
        self.by_dialect: Counter[str] = Counter()
        self.by_endpoint: Counter[str] = Counter()
        self.faults: Counter[str] = Counter()
        self.faults_by_model: dict[str, Counter[str]] = {}
        self.with_key = 0
        self.without_key = 0
        self.errors = 0

    # --- profile ------------------------------------------------------------

    def set_profile(self, profile: Profile) -> None:
        self.profile = profile
        self._configs: dict[str, ModelConfig] = {}

    def config(self, model: str) -> ModelConfig:
        found = self._configs.get(model)
        if found is None:
            found = self._configs[model] = self.profile.resolve(model)
        return found

    def patch_model(self, model: str, patch: ModelSettings) -> ModelConfig:
        self.set_profile(self.profile.with_model(model, patch))
        return self.config(model)

    # --- faults -------------------------------------------------------------

    def force(self, order: FailRequest) -> None:
        self._forced.append(_Forced(order.model, order.kind, order.count))

    def pick_fault(self, model: str) -> FaultKind | None:
        """The fault this request meets: a forced one first, then by the rates."""
        for forced in self._forced:
            if forced.model in ("*", model):
                forced.remaining -= 1
                if forced.remaining <= 0:
                    self._forced.remove(forced)
                return self._count_fault(model, forced.kind)
        faults = self.config(model).faults
        if faults.total() <= 0:
            return None
        draw = self._fault_rng.random()
        for kind in FAULT_KINDS:
            draw -= faults.rate(kind)
            if draw < 0:
                return self._count_fault(model, kind)
        return None

    def _count_fault(self, model: str, kind: FaultKind) -> FaultKind:
        self.faults[kind] += 1
        self.faults_by_model.setdefault(model, Counter())[kind] += 1
        return kind

    def jittered(self, seconds: float, jitter: float) -> float:
        """``seconds`` scaled by a factor drawn uniformly from [1-jitter, 1+jitter]."""
        if seconds <= 0 or jitter <= 0:
            return max(0.0, seconds)
        return seconds * self._jitter_rng.uniform(1.0 - jitter, 1.0 + jitter)

    # --- accounting ---------------------------------------------------------

    def record(
        self,
        *,
        dialect: str,
        endpoint: str,
        method: str,
        path: str,
        query: Any,
        headers: Any,
        model: str | None,
        key_sent: bool,
        raw: bytes,
    ) -> None:
        self._seq += 1
        self.requests += 1
        self.by_dialect[dialect] += 1
        self.by_endpoint[endpoint] += 1
        if model is not None:
            self.by_model[model] += 1
        if key_sent:
            self.with_key += 1
        else:
            self.without_key += 1
        record = RequestRecord(
            seq=self._seq,
            time=time.time(),
            dialect=dialect,
            method=method,
            path=path,
            query=mask_query(query),
            model=model,
            key_sent=key_sent,
            headers=mask_headers(headers),
        )
        self._log.append(_Pending(raw, record))

    def recent(self, limit: int) -> list[RequestRecord]:
        """The last ``limit`` requests, oldest first, bodies parsed as JSON."""
        items = list(self._log)[-limit:] if limit > 0 else []
        out = []
        for item in items:
            if item.record.body is None and item.raw:
                item.record.body = _body_json(item.raw)
            out.append(item.record)
        return out

    def stats(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "in_flight": self.in_flight,
            "by_model": dict(self.by_model),
            "by_dialect": dict(self.by_dialect),
            "by_endpoint": dict(self.by_endpoint),
            "faults": dict(self.faults),
            "faults_by_model": {m: dict(c) for m, c in self.faults_by_model.items()},
            "with_key": self.with_key,
            "without_key": self.without_key,
            "errors": self.errors,
            "forced_pending": [
                {"model": f.model, "kind": f.kind, "remaining": f.remaining} for f in self._forced
            ],
        }
