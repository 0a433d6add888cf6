"""One JSON line per request on the ``junction.requests`` logger (opt-in).

The line is built from the settled :class:`Generation`: who, what, how it
went and what it cost; never a request or response body. A failed
attempt keeps the upstream's error text (truncated to
:data:`ERROR_LIMIT` and scrubbed of secrets by the gateway's redactor),
which is what one needs to debug a provider's refusal.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import msgspec

from junction.gateway.accounting import Generation
from junction.redact import Redactor
from junction.telemetry.metrics import team_of

LOGGER = "junction.requests"
ERROR_LIMIT = 2048
"""Bytes of an upstream's error text kept per attempt."""


class RequestLog:
    """An :class:`Accountant` listener writing one line per request."""

    def __init__(self, redactor: Redactor, logger: logging.Logger | None = None) -> None:
        self.redactor = redactor
        self.logger = logger or logging.getLogger(LOGGER)

    def __call__(self, g: Generation) -> None:
        if not self.logger.isEnabledFor(logging.INFO):
            return
        self.logger.info("%s", msgspec.json.encode(self.line(g)).decode())

    def line(self, g: Generation) -> dict[str, Any]:
        owner = g.owner
        usage = g.usage
        return {
            "id": g.id,
            "time": datetime.fromtimestamp(g.created, tz=UTC).isoformat(),
            "key": (getattr(owner, "id", None) or owner.name) if owner is not None else None,
            "team": team_of(owner) if owner is not None else None,
            "door": g.door or None,
            "model": g.model or None,
            "provider": g.provider,
            "status": g.status,
            "error": g.error,
            "tokens": None
            if usage is None
            else {
                "prompt": usage.prompt_tokens,
                "completion": usage.completion_tokens,
                "cached_read": usage.cached_tokens,
                "cache_write": usage.cache_write_tokens,
                "reasoning": usage.reasoning_tokens,
            },
            "cost": usage.cost if usage is not None else None,
            "latency_ms": round(g.latency_ms, 3),
            "ttft_ms": round(g.ttft_ms, 3) if g.ttft_ms is not None else None,
            "streamed": g.streamed,
            "cancelled": g.cancelled,
            "attempts": [
                {
                    "deployment": a.endpoint.label,
                    "status": a.status,
                    "latency_ms": round(a.latency_ms, 3),
                    **({"timeout": True} if a.timeout else {}),
                    **({"error": self._error(a.error)} if a.error else {}),
                }
                for a in g.attempts
            ],
        }

    def _error(self, text: str) -> str:
        raw = text.encode()
        if len(raw) > ERROR_LIMIT:
            text = raw[:ERROR_LIMIT].decode(errors="ignore") + "…"
        return self.redactor.scrub(text)
