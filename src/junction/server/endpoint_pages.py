"""OpenRouter's ``GET /models/{author}/{slug}/endpoints``: a model's endpoints
with their recent uptime, latency and throughput.

Who asks decides whose requests the numbers describe: the master key (and
every caller when no keys are configured) sees the gateway's shared live
statistics (routing/stats.py; shared by every process on Redis); any other
key sees its own requests only, read from the request log
(requestlog/endpoints.py), so they survive restarts and are the same from
every process. Without a request log a key's numbers are empty (null): it
has no record of its own. The circuit breaker's state (``status``) is the
gateway's in both views: it is where the caller's next request will go.
"""

from __future__ import annotations

from typing import Any

import msgspec

from junction.catalog import openrouter_model, public_endpoint
from junction.catalog.live import LiveStats
from junction.gateway import Gateway
from junction.gateway.routes import ModelRoute
from junction.requestlog import RequestLog
from junction.requestlog.rows import principal_id


async def endpoint_stats(
    gateway: Gateway, request_log: RequestLog | None, principal: Any, route: ModelRoute
) -> dict[str, LiveStats]:
    """Each endpoint's statistics as ``principal`` may see them."""
    now = gateway.clock()
    ids = [e.info.id for e in route.endpoints]
    stats = gateway.stats
    if principal is None or getattr(principal, "admin", False):
        return {i: stats.snapshot(i, now=now) for i in ids}
    own: dict[str, LiveStats] = {}
    if request_log is not None:
        own = await request_log.store.key_endpoint_stats(
            principal_id(principal), ids, gateway.wall_clock()
        )
    return {
        i: msgspec.structs.replace(own.get(i, LiveStats()), circuit=stats.circuit_state(i, now=now))
        for i in ids
    }


async def endpoints_page(
    gateway: Gateway, request_log: RequestLog | None, principal: Any, model: str
) -> dict[str, Any]:
    route = gateway.route(model, kind=None)
    stats = await endpoint_stats(gateway, request_log, principal, route)
    info = openrouter_model(route.info)
    return {
        "data": {
            "id": route.name,
            "name": info["name"],
            "created": info["created"],
            "description": info["description"],
            "architecture": info["architecture"],
            "endpoints": [public_endpoint(e.info, stats[e.info.id]) for e in route.endpoints],
        }
    }
