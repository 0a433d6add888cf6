"""What happened to one request: its id, key, deadline and every attempt."""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from junction.gateway.routes import Endpoint
from junction.routing import ProviderPreferences
from junction.stores.records import KeyRecord, TeamRecord, UserRecord
from junction.types import RouterChoice


@dataclass(slots=True)
class Attempt:
    endpoint: Endpoint
    status: int
    latency_ms: float
    ttft_ms: float | None = None
    error: str | None = None
    timeout: bool = False
    recorded: bool = False
    """Already in the endpoint statistics (failures are recorded when they
    happen; the rest when the request is settled)."""
    started: float = field(init=False)
    """Wall-clock time the attempt began (an attempt is recorded as soon as
    its latency is known), for trace spans drawn after the fact."""

    def __post_init__(self) -> None:
        self.started = time.time() - self.latency_ms / 1000

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling, as the gateway knows it: the key, its team and user
    records (virtual keys), its provider defaults. ``admin`` (the master
    key) may use the admin API and read every key's records."""

    name: str
    preferences: ProviderPreferences | None = None
    admin: bool = False
    id: str = ""
    """The key's public id (``key_...``), ``config:<name>`` for a key in the
    config file, ``master`` for the master key."""
    key: KeyRecord | None = None
    team: TeamRecord | None = None
    user: UserRecord | None = None
    provider_locked: bool = False
    """The key's provider defaults cannot be overridden by a request."""
    store_bodies: bool | None = None
    """Keep this caller's request bodies in the request log: the key's own
    setting, else its team's; None: the config's ``request_log.store_bodies``."""

    @property
    def team_id(self) -> str | None:
        return self.key.team if self.key is not None else None

    @property
    def user_id(self) -> str | None:
        return self.key.user if self.key is not None else None


@dataclass(slots=True)
class Trace:
    """What happened to one request, attempt by attempt."""

    attempts: list[Attempt] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    served: Endpoint | None = None
    model: str | None = None
    """The model that answered (after a ``models`` fallback)."""
    key: Principal | None = None
    """The client key the request came with (when the config has keys)."""
    started: float = field(default_factory=time.time)
    id: str = ""
    """junction's own response id (``gen-...``), set when the gateway takes the request."""
    router: RouterChoice | None = None
    """The semantic router's decision, when the request named a router model."""
    door: str = ""
    """The door the request came through (its server codec's name)."""
    status: int = 200
    """The status the client got: set when the request fails."""
    error: str | None = None
    """The error kind the client got, when it failed."""
    tags: list[str] = field(default_factory=list)
    """The client's tags (``x-junction-tags``) for the request log."""
    headers: list[tuple[str, str]] = field(default_factory=list)
    """Response headers the policy adds (rate-limit state, budget warnings, the cache's)."""
    request_headers: Mapping[str, str] = field(default_factory=dict)
    """The client's request headers, lower-case names (the cache controls)."""
    cache_hit: bool | None = None
    """Answered from the response cache; None when the cache was not consulted."""
    saved_cost: float | None = None
    """On a cache hit: the cost of the answer replayed (USD; the hit costs 0)."""
    extra: dict[str, Any] = field(default_factory=dict)
    """What the request log keeps beside the trace (model asked, ``user``, ``metadata``)."""
    deadline: float = math.inf
    """``time.monotonic()`` by which the request must be over (``timeouts.request``)."""

    @property
    def served_by(self) -> str | None:
        return self.served.label if self.served is not None else None

    def remaining(self) -> float:
        """Seconds left before the deadline."""
        return self.deadline - time.monotonic()

    def expired(self) -> bool:
        # A millisecond of slack: the transport's timers run on the loop's
        # clock, which may round differently.
        return self.remaining() <= 0.001
