"""The model list and a model, in each door's dialect.

* OpenAI (``GET /v1/models``, ``/v1/models/{id}``): ``{"object": "list",
  "data": [Model]}`` and a ``Model`` (``id``, ``object``, ``created``,
  ``owned_by``); each entry also carries OpenRouter's ``Model`` fields
  (pricing, context_length, supported_parameters...).
* Anthropic (the same paths, when the request carries ``anthropic-version``):
  ``ModelInfo`` (``type``, ``id``, ``display_name``, ``created_at``) and a
  page of them with ``has_more``, ``first_id``, ``last_id``, paged by
  ``limit`` (1..1000, default 20), ``after_id`` and ``before_id``.
* OpenRouter (``GET /api/v1/models``, ``/api/v1/model/{id}``):
  ``ModelsListResponse`` (``data``, ``total_count``, ``links.next``), paged
  by ``offset`` and ``limit`` (1..1000; both omitted: every model), and
  ``{"data": Model}``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

from junction.catalog import openrouter_model
from junction.gateway.routes import ModelRoute
from junction.types import GatewayError

__all__ = [
    "anthropic_model",
    "anthropic_page",
    "openai_model",
    "openrouter_page",
    "wants_anthropic",
]

_MAX_PAGE = 1000


def wants_anthropic(headers: dict[str, str]) -> bool:
    """Whether the caller is an Anthropic client (its SDKs send
    ``anthropic-version`` with every request)."""
    return "anthropic-version" in headers


def openai_model(route: ModelRoute) -> dict[str, Any]:
    """OpenAI's ``Model``, with OpenRouter's fields besides."""
    entry = openrouter_model(route.info)
    entry.update(object="model", owned_by=route.owned_by, kind=route.kind)
    return entry


def anthropic_model(route: ModelRoute) -> dict[str, Any]:
    """Anthropic's ``ModelInfo``; ``created_at`` is RFC 3339 (the epoch when
    the catalog does not know the model's release)."""
    created = datetime.fromtimestamp(route.info.created, UTC)
    return {
        "type": "model",
        "id": route.name,
        "display_name": route.info.display_name or route.name,
        "created_at": created.isoformat().replace("+00:00", "Z"),
    }


def _int_param(query: dict[str, list[str]], name: str, low: int, high: int | None) -> int | None:
    """The query's integer ``name`` (None when absent), from ``low`` to ``high``."""
    values = query.get(name)
    if not values:
        return None
    raw = values[0]
    if not raw.isdigit() or int(raw) < low or (high is not None and int(raw) > high):
        bound = f"from {low} to {high}" if high is not None else f"of at least {low}"
        raise GatewayError(
            "invalid_request", f"`{name}` must be an integer {bound}; got {raw!r}.", param=name
        )
    return int(raw)


def _position(ids: list[str], wanted: str, name: str) -> int:
    try:
        return ids.index(wanted)
    except ValueError:
        raise GatewayError(
            "invalid_request", f"`{name}` {wanted!r} is not a model here.", param=name
        ) from None


def anthropic_page(routes: Sequence[ModelRoute], raw_query: str) -> dict[str, Any]:
    """Anthropic's ``GET /v1/models`` page (newest first is Anthropic's
    order; junction keeps its config's order, which is stable)."""
    query = parse_qs(raw_query)
    limit = _int_param(query, "limit", 1, _MAX_PAGE) or 20
    ids = [r.name for r in routes]
    if "before_id" in query:
        # The page just before the cursor; more means more before it.
        stop = _position(ids, query["before_id"][0], "before_id")
        start = max(0, stop - limit)
        has_more = start > 0
    else:
        after = query.get("after_id")
        start = _position(ids, after[0], "after_id") + 1 if after else 0
        stop = min(len(ids), start + limit)
        has_more = stop < len(ids)
    data = [anthropic_model(r) for r in routes[start:stop]]
    return {
        "data": data,
        "has_more": has_more,
        "first_id": data[0]["id"] if data else None,
        "last_id": data[-1]["id"] if data else None,
    }


def openrouter_page(routes: Sequence[ModelRoute], raw_query: str) -> dict[str, Any]:
    """OpenRouter's ``ModelsListResponse``: every model when neither
    ``offset`` nor ``limit`` is given, else one page and the next's link."""
    query = parse_qs(raw_query)
    if "offset" not in query and "limit" not in query:
        chosen, next_link = routes, None
    else:
        offset = _int_param(query, "offset", 0, None) or 0
        limit = _int_param(query, "limit", 1, _MAX_PAGE) or 500
        chosen = routes[offset : offset + limit]
        more = offset + limit < len(routes)
        next_link = f"/api/v1/models?offset={offset + limit}&limit={limit}" if more else None
    return {
        "data": [openrouter_model(r.info) for r in chosen],
        "total_count": len(routes),
        "links": {"next": next_link},
    }
