"""Who may call: virtual keys, teams and users, as the stores keep them.

Plain data (msgspec structs) shared by every backend, the admin API and the
policy stages. A key's secret is never here: only its sha256 digest
(``key_hash``) and a short public prefix for people to recognise it by.
"""

from __future__ import annotations

from typing import Any, Literal

import msgspec

BudgetPeriod = str
"""``daily`` | ``weekly`` | ``monthly`` (calendar-aligned in the configured
time zone), ``total`` (never resets), or a rolling window ``<N>h`` / ``<N>d``
(for example ``24h``, ``7d``, ``30d``)."""


class Limits(msgspec.Struct, omit_defaults=True, forbid_unknown_fields=True):
    """What one principal (key, team or user) may use. None: no limit."""

    models: list[str] | None = None
    """Glob allow-list of model names (``sim/*``); None allows every model."""
    rpm: int | None = None
    tpm: int | None = None
    max_parallel: int | None = None
    budget_usd: float | None = None
    """Hard budget: requests are refused once the period's spend reaches it."""
    soft_budget_usd: float | None = None
    """Soft budget: past it, requests pass with a warning header, log line and metric."""
    budget_period: BudgetPeriod = "monthly"


class KeyRecord(msgspec.Struct, omit_defaults=True, kw_only=True):
    id: str
    """Public identifier (``key_...``): in logs, metrics and the admin API."""
    name: str
    key_hash: str
    """sha256 hex of the secret (junction.config.key_digest)."""
    prefix: str
    """The secret's first characters (``sk-jx-ab12``), to tell keys apart."""
    created_at: float
    team: str | None = None
    user: str | None = None
    limits: Limits = msgspec.field(default_factory=Limits)
    expires_at: float | None = None
    revoked_at: float | None = None
    metadata: dict[str, Any] = msgspec.field(default_factory=dict)
    provider: dict[str, Any] | None = None
    """Default provider preferences (OpenRouter's ``provider`` object)."""
    provider_locked: bool = False
    """When true a request's own ``provider`` cannot override ``provider``."""
    kind: Literal["virtual", "config"] = "virtual"
    store_bodies: bool | None = None
    """Keep this key's request bodies in the request log (redacted first);
    None: the team's setting, else ``request_log.store_bodies``."""


class TeamRecord(msgspec.Struct, omit_defaults=True, kw_only=True):
    id: str
    name: str
    created_at: float
    limits: Limits = msgspec.field(default_factory=Limits)
    metadata: dict[str, Any] = msgspec.field(default_factory=dict)
    store_bodies: bool | None = None
    """Keep the bodies of this team's keys' requests (a key's own setting
    wins); None: ``request_log.store_bodies``."""


class UserRecord(msgspec.Struct, omit_defaults=True, kw_only=True):
    id: str
    name: str
    created_at: float
    team: str | None = None
    email: str | None = None
    limits: Limits = msgspec.field(default_factory=Limits)
    metadata: dict[str, Any] = msgspec.field(default_factory=dict)
