"""What the config becomes at start-up: per model, ready-to-use endpoints.

Everything a request needs is resolved here once: the codec, the target
(URL, key, quirks), the timeouts, the parameter support set, the price
(genai-prices with the config's overrides) and the routing defaults. The
hot path only looks things up.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from junction import providers
from junction.catalog import EndpointInfo, ModelInfo, Price, resolve_price
from junction.codecs.base import ChatCodec, Target
from junction.codecs.sse import StreamLimits
from junction.config import Config, Deployment, Model, Secret, Timeouts, UpstreamLimits, redactor
from junction.config import Price as PriceConfig
from junction.providers.quirks import supported_params
from junction.redact import Redactor
from junction.routing import ProviderPreferences, parse_preferences
from junction.transport import Limits


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One deployment of a model, ready to be called."""

    label: str
    dialect: str
    codec: ChatCodec
    target: Target
    limits: Limits
    supported: frozenset[str]
    deployment: Deployment
    info: EndpointInfo
    redactor: Redactor
    """Scrubs this config's secrets from what the provider sends back on failure."""


@dataclass(frozen=True, slots=True)
class ModelRoute:
    name: str
    kind: str
    endpoints: tuple[Endpoint, ...]
    drop_params: bool
    info: ModelInfo
    preferences: ProviderPreferences | None
    by_id: dict[str, Endpoint]
    description: str | None = None
    owned_by: str = "junction"

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(e.label for e in self.endpoints)

    @property
    def unpriced(self) -> bool:
        """Some endpoint has no known price: balancing by price is off."""
        return any(e.info.price is None for e in self.endpoints)


def build_routes(config: Config, scrubber: Redactor | None = None) -> dict[str, ModelRoute]:
    created = int(time.time())
    defaults = _Defaults(
        config.timeouts, config.limits, config.server.drop_params, scrubber or redactor(config)
    )
    return {name: _route(name, model, defaults, created) for name, model in config.models.items()}


@dataclass(frozen=True, slots=True)
class _Defaults:
    """What every endpoint takes from the config's top level."""

    timeouts: Timeouts
    limits: UpstreamLimits
    drop: bool
    redactor: Redactor


def global_preferences(config: Config) -> ProviderPreferences | None:
    raw = config.routing.provider
    return parse_preferences(raw) if raw is not None else None


def _route(name: str, model: Model, defaults: _Defaults, created: int) -> ModelRoute:
    endpoints = tuple(_endpoint(name, dep, defaults) for dep in model.deployments)
    drop = defaults.drop
    info = ModelInfo(
        name=name,
        endpoints=tuple(e.info for e in endpoints),
        description=model.description or "",
        created=created,
    )
    return ModelRoute(
        name=name,
        kind=model.kind,
        endpoints=endpoints,
        drop_params=drop if model.drop_params is None else model.drop_params,
        info=info,
        preferences=parse_preferences(model.provider) if model.provider is not None else None,
        by_id={e.info.id: e for e in endpoints},
        description=model.description,
        owned_by=model.deployments[0].provider,
    )


def _price(dep: Deployment) -> Price | None:
    override: PriceConfig | None = dep.price
    wanted = (
        Price(
            input=override.input,
            output=override.output,
            cache_read=override.cache_read,
            cache_write=override.cache_write,
            request=override.request,
        )
        if override is not None
        else None
    )
    return resolve_price(dep.provider, dep.model, wanted)


def _endpoint(model: str, dep: Deployment, defaults: _Defaults) -> Endpoint:
    vendor = providers.vendor(dep.provider)
    if vendor is None:  # config validation already refused this
        raise ValueError(f"unknown provider {dep.provider!r}")
    key = dep.api_key.reveal() if isinstance(dep.api_key, Secret) else dep.api_key
    caps = dep.limits or defaults.limits
    target = Target(
        provider=dep.label,
        base_url=dep.base_url or vendor.base_url or "",
        model=dep.model,
        api_key=key or None,
        headers=dict(dep.headers),
        quirks=vendor.quirks,
        api_version=dep.api_version or vendor.api_version,
        stream_limits=StreamLimits(caps.max_line_bytes, caps.max_event_bytes),
    )
    t = dep.timeouts or defaults.timeouts
    if dep.supported_parameters is not None:
        supported = frozenset(dep.supported_parameters)
    else:
        supported = supported_params(vendor)
    info = EndpointInfo(
        id=f"{model}@{dep.label}",
        model=model,
        provider=dep.label,
        upstream_model=dep.model,
        context_length=dep.context_window,
        max_output_tokens=dep.max_output_tokens,
        supported_parameters=supported | _markers(supported),
        input_modalities=tuple(dep.input_modalities),
        output_modalities=tuple(dep.output_modalities),
        quantization=dep.quantization,
        data_collection=dep.data_collection,
        zdr=dep.zdr,
        price=_price(dep),
    )
    codec = providers.codec(vendor.dialect)
    prepare = getattr(codec, "prepare", None)  # optional (ChatCodec's docstring)
    if prepare is not None:
        prepare(target)
    return Endpoint(
        label=dep.label,
        dialect=vendor.dialect,
        codec=codec,
        target=target,
        limits=Limits(t.connect, t.first_token, t.total, idle=t.idle, max_body=caps.max_body_bytes),
        supported=supported,
        deployment=dep,
        info=info,
        redactor=defaults.redactor,
    )


def _markers(supported: frozenset[str]) -> frozenset[str]:
    """Capability markers the selector knows: JSON-schema output."""
    return frozenset({"structured_outputs"}) if "response_format" in supported else frozenset()
