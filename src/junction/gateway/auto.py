"""Semantic routers as models: ``junction/auto`` (or a router's name) picks a candidate.

The routers in the config's ``routers:`` are loaded once, when the gateway is built (the
artifact folder ``junction router train`` wrote: numbers and settings, no training code).
For a request naming one, the router reads the prompt's user turns, predicts each
candidate's quality and chooses a configured model; the request then takes the normal path
(planner, attempts, failover) under that model's name. A shadow router records its choice
and serves its ``default`` model.

A request may carry ``route: {strong_share | quality_target | max_cost, candidates}`` to
decide differently this once; a bad one is a 400 naming the field.

Where the decision runs: with an encoder that is quick (``lexical``: well under a
millisecond) inline on the event loop; with one that declares itself ``blocking`` (``e5``:
tens of milliseconds of CPU) in the router's own worker thread, so the loop serves other
requests meanwhile; with the ``embeddings`` encoder (gateway/embed_encoder.py) the prompt's
vector is awaited from the configured embedding model through this gateway's embed path.
bench/semantic/gateway_overhead.py prints the figures (docs/benchmarks.md).

A config without routers loads nothing of semantic routing (numpy, the encoders): the
routers themselves live in gateway/semantic_router.py, imported when the first is built.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from junction.config import Config
from junction.types import ChatRequest, RouterChoice, TextPart

if TYPE_CHECKING:
    from junction.gateway.embed_encoder import Embed
    from junction.gateway.semantic_router import AutoRouter

AUTO = "junction/auto"
"""The name that asks for the only configured router."""


class AutoRouters:
    """Every configured router, by the names a request may use."""

    def __init__(self, routers: Mapping[str, AutoRouter]) -> None:
        self.by_name = dict(routers)
        if len(self.by_name) == 1:
            self.by_name.setdefault(AUTO, next(iter(routers.values())))

    @classmethod
    def from_config(cls, config: Config, embed: Embed | None = None) -> AutoRouters:
        """``embed`` is the gateway's embed path, for routers on the embeddings encoder."""
        if not config.routers:
            return cls({})
        from junction.gateway.semantic_router import load_router

        return cls({n: load_router(n, spec, config, embed) for n, spec in config.routers.items()})

    async def apply(self, request: ChatRequest) -> RouterChoice | None:
        """Route a request naming a router: set its model to the served one."""
        router = self.by_name.get(request.model)
        if router is None:
            return None
        choice = await router.choose(request)
        request.model = router.default if router.shadow and router.default else choice.model
        return choice

    def close(self) -> None:
        for router in set(self.by_name.values()):
            router.close()


def prompt_text(request: ChatRequest) -> str:
    """What a router reads: the user turns' text, joined with newlines (as in the dataset)."""
    return "\n".join(
        part.text
        for message in request.messages
        if message.role == "user"
        for part in message.content
        if isinstance(part, TextPart)
    )


def router_header(choice: RouterChoice) -> tuple[str, str]:
    """``x-junction-router: NAME; model=MODEL; score=S`` (and ``; shadow``)."""
    value = f"{choice.name}; model={choice.model}; score={choice.score:.4f}"
    return "x-junction-router", value + ("; shadow" if choice.shadow else "")
