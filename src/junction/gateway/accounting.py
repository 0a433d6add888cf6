"""After a request: endpoint statistics, cost, sticky routes, the generation log.

Runs once per request (at the end of a stream for streams), never per
chunk. Cost uses the serving endpoint's price (genai-prices with config
overrides), cached and cache-write tokens priced as such.
"""

from __future__ import annotations

import itertools
import secrets
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from junction.catalog import cost
from junction.gateway.trace import Attempt, Principal, Trace
from junction.routing import EndpointStats, StickyRoutes
from junction.types import RouterChoice, Usage


@dataclass(slots=True)
class Generation:
    """One request as the generation lookup shows it."""

    id: str
    model: str
    created: float
    streamed: bool
    attempts: list[Attempt]
    usage: Usage | None = None
    provider: str | None = None
    finish_reason: str | None = None
    native_finish_reason: str | None = None
    cancelled: bool = False
    latency_ms: float = 0.0
    ttft_ms: float | None = None
    upstream_model: str | None = None
    upstream_id: str | None = None
    """The id the provider gave its answer (junction's own ``id`` is the key)."""
    owner: Principal | None = None
    """The client key that made the request (None without keys)."""
    router: RouterChoice | None = None
    """The semantic router's decision (gateway/auto.py)."""
    door: str = ""
    """The door the request came through (``openai_chat``, ``anthropic_messages``, ...)."""
    status: int = 200
    """The HTTP status the client got (for a stream: the status it started with)."""
    error: str | None = None
    """The error kind the client got, when it got one."""
    extra: dict[str, Any] = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)
    """The client's ``x-junction-tags``."""
    refused: bool = False
    """Refused at the door (401: no key, or an unknown, revoked or expired
    one): no body was read and nothing was attempted."""
    cache_hit: bool | None = None
    """Answered from the response cache (None: the cache was not consulted)."""
    saved_cost: float | None = None
    """On a cache hit: the cost of the answer it replayed (USD)."""

    def readable_by(self, principal: Principal | None) -> bool:
        """A key reads only its own records; the master key (and no-keys mode) all."""
        if principal is None or principal.admin:
            return True
        return self.owner is not None and self.owner.id == principal.id


class ResponseIds:
    """junction's own response ids, OpenRouter-style: ``gen-<time>-<random><n>``.
    Unique per process (a random prefix drawn once, then a counter), and
    cheap: one string format per request."""

    def __init__(self) -> None:
        self._prefix = f"gen-{int(time.time())}-{secrets.token_hex(8)}"
        self._counter = itertools.count(1)

    def mint(self) -> str:
        return f"{self._prefix}{next(self._counter):06x}"


class Generations:
    """The most recent generations, by id (bounded, oldest dropped first)."""

    def __init__(self, capacity: int = 10_000) -> None:
        self.capacity = capacity
        self._items: OrderedDict[str, Generation] = OrderedDict()

    def add(self, generation: Generation) -> None:
        self._items[generation.id] = generation
        if len(self._items) > self.capacity:
            self._items.popitem(last=False)

    def get(self, generation_id: str) -> Generation | None:
        return self._items.get(generation_id)

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[Generation]:
        """Oldest first."""
        return iter(list(self._items.values()))


class Accountant:
    def __init__(
        self,
        stats: EndpointStats,
        sticky: StickyRoutes | None,
        generations: Generations,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.clock = clock
        self.stats = stats
        self.sticky = sticky
        self.generations = generations
        self.listeners: list[Callable[[Generation], None]] = []
        """Called with each settled request's record, in order (the request log,
        metrics, traces). Each must be quick and must not raise: I/O goes to a
        background writer."""

    def price(self, trace: Trace, usage: Usage | None) -> None:
        """Set ``usage.cost`` from the serving endpoint's price (None if unpriced)."""
        served = trace.served
        if usage is None or served is None or served.info.price is None:
            return
        usage.cost = cost(usage, served.info.price)

    def settle(
        self,
        trace: Trace,
        *,
        usage: Usage | None,
        streamed: bool,
        sticky_key: str | None,
        finish: tuple[str | None, str | None] = (None, None),
        cancelled: bool = False,
        upstream_id: str | None = None,
    ) -> None:
        now = self.clock()
        served = trace.served
        for attempt in trace.attempts:
            if attempt.recorded:
                continue
            output = usage.completion_tokens if usage is not None and attempt.ok else 0
            self.stats.record(
                attempt.endpoint.info.id,
                ok=attempt.ok,
                timeout=attempt.timeout,
                status=attempt.status,
                ttft_ms=attempt.ttft_ms,
                latency_ms=attempt.latency_ms,
                output_tokens=output,
                now=now,
            )
            attempt.recorded = True
        if self.sticky is not None and sticky_key and served is not None and usage is not None:
            self.sticky.remember(
                sticky_key,
                served.info.id,
                now,
                cached_tokens=usage.cached_tokens,
                price=served.info.price,
            )
        last = trace.attempts[-1] if trace.attempts else None
        generation = Generation(
            id=trace.id,
            model=trace.model or "",
            created=trace.started,
            streamed=streamed,
            attempts=list(trace.attempts),
            usage=usage,
            provider=served.label if served is not None else None,
            finish_reason=finish[0],
            native_finish_reason=finish[1],
            cancelled=cancelled,
            latency_ms=(time.time() - trace.started) * 1000,
            ttft_ms=last.ttft_ms if last is not None else None,
            upstream_model=served.target.model if served is not None else None,
            upstream_id=upstream_id or None,
            owner=trace.key,
            router=trace.router,
            door=trace.door,
            status=trace.status,
            error=trace.error,
            extra=dict(trace.extra),
            tags=list(trace.tags),
            cache_hit=trace.cache_hit,
            saved_cost=trace.saved_cost,
        )
        self.generations.add(generation)
        for listener in self.listeners:
            listener(generation)

    def refused(self, generation_id: str, door: str, owner: Principal | None) -> None:
        """A 401 at the door, for the listeners (request log, metrics). Not kept
        in ``generations``: a client spraying bad keys must not push real
        generations out of it."""
        generation = Generation(
            id=generation_id,
            model="",
            created=time.time(),
            streamed=False,
            attempts=[],
            owner=owner,
            door=door,
            status=401,
            error="authentication",
            refused=True,
        )
        for listener in self.listeners:
            listener(generation)


def _router_view(choice: RouterChoice | None) -> dict[str, Any] | None:
    """junction's own: what the semantic router chose (also when in shadow)."""
    if choice is None:
        return None
    return {
        "name": choice.name,
        "model": choice.model,
        "score": choice.score,
        "shadow": choice.shadow,
        "decision_ms": round(choice.decision_ms, 4),
    }


def generation_view(g: Generation) -> dict[str, Any]:
    """OpenRouter's ``GET /generation`` ``data`` object."""
    usage = g.usage or Usage()
    total = usage.cost
    return {
        "id": g.id,
        "upstream_id": g.upstream_id,
        "total_cost": total if total is not None else 0.0,
        "cache_discount": None,
        "upstream_inference_cost": total,
        "created_at": datetime.fromtimestamp(g.created, tz=UTC).isoformat(),
        "model": g.model,
        "app_id": None,
        "streamed": g.streamed,
        "cancelled": g.cancelled,
        "provider_name": g.provider,
        "latency": round(g.latency_ms, 3),
        "moderation_latency": None,
        "generation_time": round(g.latency_ms - (g.ttft_ms or 0.0), 3) if g.ttft_ms else None,
        "finish_reason": g.finish_reason,
        "native_finish_reason": g.native_finish_reason,
        "service_tier": None,
        "tokens_prompt": usage.prompt_tokens,
        "tokens_completion": usage.completion_tokens,
        "native_tokens_prompt": usage.prompt_tokens,
        "native_tokens_completion": usage.completion_tokens,
        "native_tokens_completion_images": 0,
        "native_tokens_reasoning": usage.reasoning_tokens,
        "native_tokens_cached": usage.cached_tokens,
        "num_media_prompt": None,
        "num_input_audio_prompt": None,
        "num_media_completion": None,
        "num_search_results": None,
        "num_fetches": None,
        "web_search_engine": None,
        "origin": "",
        "usage": total if total is not None else 0.0,
        "is_byok": True,
        "external_user": None,
        "api_type": "completions",
        "preset_id": None,
        "router": g.router.name if g.router is not None else None,
        "router_choice": _router_view(g.router),
        "provider_responses": [
            {
                "provider_name": a.endpoint.label,
                "endpoint_id": a.endpoint.info.id,
                "model_permaslug": a.endpoint.target.model,
                "status": a.status,
                "latency": round(a.latency_ms, 3),
                "is_byok": True,
                **({"error": a.error} if a.error else {}),
            }
            for a in g.attempts
        ],
        "user_agent": None,
        "http_referer": None,
        "data_region": "global",
        "workspace_id": None,
    }
