"""What the config becomes at start-up: per model, ready-to-use endpoints.

Everything a request needs is resolved here once: the codec, the target
(URL, key, quirks), the timeouts and the parameter support set. The hot
path only looks things up.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from junction import providers
from junction.codecs.base import ChatCodec, Target
from junction.config import Config, Deployment, Model, Secret, Timeouts
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


@dataclass(frozen=True, slots=True)
class ModelRoute:
    name: str
    kind: str
    endpoints: tuple[Endpoint, ...]
    drop_params: bool
    description: str | None = None
    owned_by: str = field(default="junction")


def build_routes(config: Config) -> dict[str, ModelRoute]:
    return {
        name: _route(name, model, config.timeouts, config.server.drop_params)
        for name, model in config.models.items()
    }


def _route(name: str, model: Model, timeouts: Timeouts, drop_default: bool) -> ModelRoute:
    endpoints = tuple(_endpoint(dep, timeouts) for dep in model.deployments)
    drop = drop_default if model.drop_params is None else model.drop_params
    owner = model.deployments[0].provider
    return ModelRoute(name, model.kind, endpoints, drop, model.description, owner)


def _endpoint(dep: Deployment, defaults: Timeouts) -> Endpoint:
    vendor = providers.vendor(dep.provider)
    if vendor is None:  # config validation already refused this
        raise ValueError(f"unknown provider {dep.provider!r}")
    key = dep.api_key.reveal() if isinstance(dep.api_key, Secret) else dep.api_key
    base_url = dep.base_url or vendor.base_url or ""
    target = Target(
        provider=dep.label,
        base_url=base_url,
        model=dep.model,
        api_key=key or None,
        headers=dict(dep.headers),
        quirks=vendor.quirks,
        api_version=dep.api_version or vendor.api_version,
    )
    t = dep.timeouts or defaults
    supported = frozenset(providers.params(vendor.dialect)) - vendor.quirks.unsupported
    return Endpoint(
        label=dep.label,
        dialect=vendor.dialect,
        codec=providers.codec(vendor.dialect),
        target=target,
        limits=Limits(t.connect, t.first_token, t.total),
        supported=supported,
        deployment=dep,
    )
