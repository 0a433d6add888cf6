"""One semantic router of the config as a model (gateway/auto.py has the overview).

Imported only when a config has routers: it brings numpy and the encoders.
"""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from junction.config import Config, ConfigError, RouteTarget, SemanticRouter
from junction.gateway.auto import prompt_text
from junction.gateway.embed_encoder import NAME as EMBEDDINGS
from junction.gateway.embed_encoder import Embed, EmbeddingsEncoder
from junction.semantic import load
from junction.semantic.artifact import ArtifactError, read_manifest
from junction.semantic.decide import Decider, Decision, DecisionError, Target
from junction.semantic.encoders import EncoderError
from junction.types import ChatRequest, GatewayError, RouterChoice

_TARGETS = {"strong_share": "share", "quality_target": "quality", "max_cost": "max-cost"}
_ROUTE_FIELDS = (*_TARGETS, "candidates")


class AutoRouter:
    """One configured router: its decider and the map to configured models."""

    def __init__(self, name: str, decider: Decider, spec: SemanticRouter) -> None:
        self.name = name
        self.decider = decider
        names = spec.candidates or {m: m for m in decider.models}
        self.to_model = {m: names.get(m, m) for m in decider.models}
        """The artifact's model names -> configured models."""
        self.to_artifact = {v: k for k, v in self.to_model.items()}
        self.shadow = spec.shadow
        self.default = spec.default
        encoder = decider.trained.encoder
        self.remote = encoder if isinstance(encoder, EmbeddingsEncoder) else None
        self.worker = None
        if getattr(encoder, "blocking", False):
            self.worker = ThreadPoolExecutor(1, thread_name_prefix=f"junction-router-{name}")
            """One thread per router: the encoder's own kernels use the cores."""

    async def choose(self, request: ChatRequest) -> RouterChoice:
        target, allowed = self._route(request.extra.pop("route", None))
        text = prompt_text(request)
        started = time.perf_counter()
        decision = await self._decide(text, target, allowed)
        elapsed = (time.perf_counter() - started) * 1000
        return RouterChoice(
            name=self.name,
            model=self.to_model[decision.model],
            score=decision.score,
            shadow=self.shadow,
            decision_ms=elapsed,
        )

    async def _decide(
        self, text: str, target: Target | None, allowed: list[str] | None
    ) -> Decision:
        if self.remote is not None:
            vectors = await self.remote.encode_async([text])
            predicted = self.decider.trained.predict_vectors(vectors, [text])[0]
            return self.decider.decide_predicted(predicted, target, allowed)
        if self.worker is not None:
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(
                self.worker, self.decider.decide, text, target, allowed
            )
        return self.decider.decide(text, target, allowed)

    def close(self) -> None:
        if self.worker is not None:
            self.worker.shutdown(wait=False)

    def _route(self, raw: Any) -> tuple[Target | None, list[str] | None]:
        """The request's ``route`` object, validated against this router."""
        if raw is None:
            return None, None
        if not isinstance(raw, dict):
            raise _bad("route", 'must be an object such as {"strong_share": 0.3}')
        for key in raw:
            if key not in _ROUTE_FIELDS:
                raise _bad(f"route.{key}", f"is not a route field (use {', '.join(_ROUTE_FIELDS)})")
        given = [k for k in _TARGETS if k in raw]
        if len(given) > 1:
            raise _bad(f"route.{given[1]}", f"give one of {' or '.join(given)}, not both")
        target = None
        if given:
            target = self._target(given[0], raw[given[0]])
        allowed = self._candidates(raw["candidates"]) if "candidates" in raw else None
        return target, allowed

    def _target(self, field: str, value: Any) -> Target:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _bad(f"route.{field}", f"must be a number (got {type(value).__name__})")
        if field == "strong_share" and not 0 <= value <= 1:
            raise _bad(f"route.{field}", f"must be between 0 and 1 (got {value})")
        if field == "max_cost" and value < 0:
            raise _bad(f"route.{field}", f"must not be negative (got {value})")
        target = Target(_TARGETS[field], float(value))  # type: ignore[arg-type]
        try:
            self.decider.check(target)
        except DecisionError as exc:
            raise _bad(f"route.{field}", f"router {self.name!r}: {exc}") from None
        return target

    def _candidates(self, value: Any) -> list[str]:
        ok = isinstance(value, list) and value and all(isinstance(m, str) for m in value)
        if not ok:
            raise _bad("route.candidates", "must be a non-empty list of model names")
        unknown = [m for m in value if m not in self.to_artifact]
        if unknown:
            have = ", ".join(self.to_artifact)
            raise _bad(
                "route.candidates", f"{unknown[0]!r} is not a candidate of {self.name!r} ({have})"
            )
        return [self.to_artifact[m] for m in value]


def load_router(name: str, spec: SemanticRouter, config: Config, embed: Embed | None) -> AutoRouter:
    """Router ``name`` of ``config``, its artifact loaded; a ConfigError naming what is wrong."""
    where = f"{config.source}: routers.{name}"
    base = Path(config.source).parent if not config.source.startswith("<") else Path()
    folder = Path(spec.artifact)
    folder = folder if folder.is_absolute() else base / folder
    try:
        encoder = _encoder(spec, folder, config, embed)
        decider = Decider(load(folder, encoder), _config_target(spec.target))
    except (ArtifactError, DecisionError, EncoderError) as exc:
        raise ConfigError(f"{where}: {exc}") from None
    router = AutoRouter(name, decider, spec)
    missing = [m for m in (spec.candidates or {}) if m not in decider.models]
    if missing:
        raise ConfigError(
            f"{where}.candidates: {missing[0]!r} is not a model of the artifact "
            f"({', '.join(decider.models)})"
        )
    return router


def _encoder(
    spec: SemanticRouter, folder: Path, config: Config, embed: Embed | None
) -> EmbeddingsEncoder | None:
    """For an artifact on the embeddings encoder: one that calls this gateway."""
    manifest = read_manifest(folder)
    if manifest.encoder.name != EMBEDDINGS:
        return None
    if embed is None:
        raise EncoderError("the embeddings encoder needs a gateway to call")
    settings = manifest.encoder.settings
    model = spec.embedding_model or str(settings.get("model", ""))
    found = config.models.get(model)
    if found is None or found.kind != "embedding":
        raise EncoderError(
            f"the artifact embeds with {model!r}, which is not an embedding model of this "
            "config (set embedding_model to one that is)"
        )
    return EmbeddingsEncoder(model, embed, batch=int(settings.get("batch", 1)))


def _config_target(target: RouteTarget | None) -> Target | None:
    if target is None:
        return None
    for field, kind in _TARGETS.items():
        value = getattr(target, field)
        if value is not None:
            return Target(kind, float(value))  # type: ignore[arg-type]
    return None


def _bad(param: str, what: str) -> GatewayError:
    return GatewayError("invalid_request", f"`{param}` {what}.", param=param)
