"""Provider selection for one request: which endpoints, in which order.

Preferences merge global < model < variant (``:floor`` / ``:nitro``) <
request (``provider`` in the body, OpenRouter's shape). The selector in
``routing`` applies them with live endpoint statistics; sticky routing then
puts the endpoint that holds the conversation's prompt cache first.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass

import msgspec

from junction.gateway.routes import Endpoint, ModelRoute
from junction.gateway.tokens import estimate_prompt_tokens
from junction.routing import (
    ProviderPreferences,
    StatsStore,
    StickyRoutes,
    conversation_key,
    merge,
    parse_preferences,
    select,
    split_variant,
    variant_preferences,
)
from junction.types import ChatRequest, GatewayError, TextPart

_SOFT_NEEDS = frozenset({"tools", "response_format"})
_TIERS = {"nitro": ("priority",), "floor": ("flex",)}


@dataclass(frozen=True, slots=True)
class Plan:
    route: ModelRoute
    endpoints: list[Endpoint]
    sticky_key: str | None
    mode: str


class Planner:
    def __init__(
        self,
        routes: dict[str, ModelRoute],
        defaults: ProviderPreferences | None,
        stats: StatsStore,
        sticky: StickyRoutes | None,
        seed: int | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.clock = clock
        self.routes = routes
        self.defaults = defaults
        self.stats = stats
        self.sticky = sticky
        self.rng = random.Random(seed)

    def route(self, model: str, kind: str | None = "chat") -> tuple[ModelRoute, str | None]:
        """The model's route and its variant suffix; ``kind`` None accepts any kind."""
        base, variant = split_variant(model)
        found = self.routes.get(base) or self.routes.get(model)
        if found is None:
            raise GatewayError(
                "not_found",
                f"The model {model!r} does not exist here. "
                "GET /v1/models lists the models this gateway serves.",
                param="model",
                code="model_not_found",
            )
        if kind is not None and found.kind != kind:
            raise GatewayError(
                "invalid_request",
                f"The model {model!r} is a {found.kind} model; it cannot serve {kind} requests.",
                param="model",
            )
        return found, (variant if found.name == base else None)

    def plan(
        self, request: ChatRequest, model: str, key: ProviderPreferences | None = None
    ) -> Plan:
        route, variant = self.route(model)
        asked = request.extra.get("provider")
        simple = asked is None and variant is None and route.preferences is None and key is None
        if simple and self.defaults is None and len(route.endpoints) == 1:
            return Plan(route, list(route.endpoints), None, "single")
        prefs = merge(
            self.defaults,
            route.preferences,
            key,
            variant_preferences(variant),
            parse_preferences(asked) if asked is not None else None,
        )
        if prefs.order is None and prefs.sort is None and route.unpriced:
            # Without prices there is nothing to balance on: the config's
            # order is the failover order (open circuits still skipped).
            prefs = msgspec.structs.replace(prefs, order=route.labels)
        given = request.given()
        now = self.clock()
        selection = select(
            route.info.endpoints,
            prefs,
            params=given,
            needs=given & _SOFT_NEEDS,
            prompt_tokens_estimate=estimate_prompt_tokens(request),
            stats=self.stats,
            rng=self.rng,
            now=now,
            model=route.name,
            admit_tiers=_TIERS.get(variant or "", ()),
        )
        sticky_key = None
        if self.sticky is not None and not prefs.order:
            sticky_key = _conversation(request, route.name)
            stuck = self.sticky.lookup(sticky_key, now)
            if stuck is not None:
                selection = selection.promote(stuck)
        ordered = [route.by_id[e.id] for e in selection.ordered]
        if not prefs.fallbacks_allowed and not prefs.order:
            ordered = ordered[:1]
        return Plan(route, ordered, sticky_key, selection.mode)


def _conversation(request: ChatRequest, model: str) -> str | None:
    session = request.extra.get("session_id") or request.prompt_cache_key
    first_system = first_user = None
    for message in request.messages:
        text = "".join(p.text for p in message.content if isinstance(p, TextPart))
        if message.role in ("system", "developer"):
            first_system = first_system if first_system is not None else text
        elif first_user is None:
            first_user = text
        if first_system is not None and first_user is not None:
            break
    return conversation_key(
        model=model,
        session_id=session if isinstance(session, str) else None,
        first_system=first_system,
        first_user=first_user,
    )
