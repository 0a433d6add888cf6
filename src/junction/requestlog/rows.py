"""One request as the log keeps it: a row built from a settled ``Generation``."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import msgspec

from junction.gateway.accounting import Generation

COLUMNS: tuple[str, ...] = (
    "id",
    "time",
    "key_id",
    "key_name",
    "team",
    "user_id",
    "door",
    "model_asked",
    "model_used",
    "provider",
    "endpoint",
    "attempts",
    "prompt_tokens",
    "completion_tokens",
    "cached_tokens",
    "cache_write_tokens",
    "reasoning_tokens",
    "cost",
    "latency_ms",
    "ttft_ms",
    "status",
    "error",
    "cache_hit",
    "streamed",
    "cancelled",
    "router",
    "request_user",
    "metadata",
    "tags",
    "upstream_id",
    "finish_reason",
    "body",
    "saved_cost",
)
"""The request_log columns, in the order a row tuple holds them."""

JSON_COLUMNS = frozenset({"attempts", "router", "metadata", "tags"})
BOOL_COLUMNS = frozenset({"cache_hit", "streamed", "cancelled"})


@dataclass(frozen=True, slots=True)
class Redaction:
    """What to scrub from a stored body: regexes, and the values of JSON keys."""

    patterns: tuple[re.Pattern[str], ...] = ()
    keys: frozenset[str] = frozenset()

    @classmethod
    def of(cls, patterns: Sequence[str], keys: Sequence[str]) -> Redaction:
        return cls(tuple(re.compile(p) for p in patterns), frozenset(k.lower() for k in keys))

    def apply(self, body: bytes) -> str:
        try:
            doc: Any = msgspec.json.decode(body)
        except msgspec.DecodeError:
            text = body.decode("utf-8", "replace")
        else:
            text = msgspec.json.encode(self._scrub(doc)).decode()
        for pattern in self.patterns:
            text = pattern.sub("[REDACTED]", text)
        return text

    def _scrub(self, doc: Any) -> Any:
        if isinstance(doc, dict):
            return {
                k: "[REDACTED]" if k.lower() in self.keys else self._scrub(v)
                for k, v in doc.items()
            }
        if isinstance(doc, list):
            return [self._scrub(v) for v in doc]
        return doc


MAX_TAGS = 32
MAX_TAG_LENGTH = 128


def parse_tags(header: str | None) -> list[str]:
    """``x-junction-tags: a, b,c`` → ``["a", "b", "c"]`` (bounded, deduplicated)."""
    if not header:
        return []
    seen: dict[str, None] = {}
    for part in header.split(","):
        tag = part.strip()[:MAX_TAG_LENGTH]
        if tag:
            seen[tag] = None
    return list(seen)[:MAX_TAGS]


def _json(value: Any) -> str | None:
    return None if value is None else msgspec.json.encode(value).decode()


def principal_id(principal: Any) -> str:
    """A principal's id (its ``id`` once keys are records; its name until then)."""
    if principal is None:
        return ""
    return str(getattr(principal, "id", None) or getattr(principal, "name", "") or "")


def _record_name(record: Any) -> str:
    """A team or user field of a principal: a record (its id) or a plain id."""
    if record is None:
        return ""
    if isinstance(record, str):
        return record
    return str(getattr(record, "id", None) or getattr(record, "name", "") or "")


def to_row(g: Generation) -> tuple[Any, ...]:
    """The log row of one settled request (no I/O: called on the event loop)."""
    usage = g.usage
    owner = g.owner
    extra = g.extra
    last = g.attempts[-1] if g.attempts else None
    served = last if last is not None and last.ok else None
    attempts = [
        {
            "endpoint": a.endpoint.info.id,
            "provider": a.endpoint.label,
            "status": a.status,
            "error": a.error,
            "timeout": a.timeout,
            "latency_ms": round(a.latency_ms, 3),
            "ttft_ms": None if a.ttft_ms is None else round(a.ttft_ms, 3),
        }
        for a in g.attempts
    ]
    status, error = g.status, g.error
    if status < 400 and served is None and last is not None and not g.cancelled:
        # Nothing answered, but the trace has no failure status yet (until the
        # gateway sets one on every failure): the last attempt's is what the client got.
        status, error = last.status or 502, error or last.error
    router = None
    if g.router is not None:
        router = {
            "name": g.router.name,
            "model": g.router.model,
            "score": g.router.score,
            "shadow": g.router.shadow,
        }
    return (
        g.id,
        g.created,
        principal_id(owner),
        str(getattr(owner, "name", "") or ""),
        _record_name(getattr(owner, "team", None)),
        _record_name(getattr(owner, "user", None)),
        g.door,
        str(extra.get("model_asked") or g.model),
        g.model,
        g.provider or "",
        served.endpoint.info.id if served is not None else "",
        _json(attempts),
        usage.prompt_tokens if usage else 0,
        usage.completion_tokens if usage else 0,
        usage.cached_tokens if usage else 0,
        usage.cache_write_tokens if usage else 0,
        usage.reasoning_tokens if usage else 0,
        usage.cost if usage else None,
        round(g.latency_ms, 3),
        None if g.ttft_ms is None else round(g.ttft_ms, 3),
        status,
        error,
        bool(g.cache_hit),
        g.streamed,
        g.cancelled,
        _json(router),
        extra.get("user"),
        _json(extra.get("metadata")),
        _json(list(getattr(g, "tags", ()) or ())),
        g.upstream_id,
        g.finish_reason,
        extra.get("body"),
        g.saved_cost if g.cache_hit else None,
    )


def row_dict(row: Sequence[Any]) -> dict[str, Any]:
    """A stored row as the admin API shows it (JSON columns decoded)."""
    out: dict[str, Any] = {}
    for name, value in zip(COLUMNS, row, strict=True):
        if name in JSON_COLUMNS and isinstance(value, str):
            value = msgspec.json.decode(value)
        elif name in BOOL_COLUMNS:
            value = bool(value)
        out[name] = value
    out["time"] = datetime.fromtimestamp(float(out["time"]), tz=UTC).isoformat()
    if out["tags"] is None:
        out["tags"] = []
    return out


def generation_from_row(row: dict[str, Any]) -> dict[str, Any]:
    """OpenRouter's ``GET /generation`` ``data`` object from a logged row
    (the fields the log keeps; see ``generation_view`` for the live form)."""
    cost = row["cost"]
    ttft = row["ttft_ms"]
    latency = row["latency_ms"]
    return {
        "id": row["id"],
        "upstream_id": row["upstream_id"],
        "total_cost": cost if cost is not None else 0.0,
        "cache_discount": None,
        "upstream_inference_cost": cost,
        "created_at": row["time"],
        "model": row["model_used"],
        "streamed": row["streamed"],
        "cancelled": row["cancelled"],
        "provider_name": row["provider"] or None,
        "latency": latency,
        "generation_time": round(latency - ttft, 3) if ttft else None,
        "finish_reason": row["finish_reason"],
        "tokens_prompt": row["prompt_tokens"],
        "tokens_completion": row["completion_tokens"],
        "native_tokens_prompt": row["prompt_tokens"],
        "native_tokens_completion": row["completion_tokens"],
        "native_tokens_reasoning": row["reasoning_tokens"],
        "native_tokens_cached": row["cached_tokens"],
        "usage": cost if cost is not None else 0.0,
        "is_byok": True,
        "external_user": row["request_user"],
        "router": row["router"]["name"] if row["router"] else None,
        "provider_responses": [
            {
                "provider_name": a["provider"],
                "endpoint_id": a["endpoint"],
                "status": a["status"],
                "latency": a["latency_ms"],
                "is_byok": True,
                **({"error": a["error"]} if a["error"] else {}),
            }
            for a in row["attempts"]
        ],
        "data_region": "global",
    }
