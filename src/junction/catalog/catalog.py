"""Models and the endpoints that serve them.

A *model* is what a client names (``"llama-3.3-70b"``); an *endpoint* is one
provider serving it (``"llama-3.3-70b@groq"``), with its own upstream model
name, limits, capabilities, data policy and price. Provider selection
(junction.routing) picks among a model's endpoints.

The catalog is built once at start-up and read without locks afterwards.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Literal

import msgspec

from junction.catalog.prices import Price

__all__ = [
    "QUANTIZATIONS",
    "Catalog",
    "DataCollection",
    "EndpointInfo",
    "ModelInfo",
]

DataCollection = Literal["allow", "deny"]

# OpenRouter's quantization vocabulary (spec schema ``Quantization``).
QUANTIZATIONS = frozenset(
    {
        "int4",
        "int8",
        "fp4",
        "mxfp4",
        "nvfp4",
        "fp6",
        "fp8",
        "mxfp8",
        "fp16",
        "bf16",
        "fp32",
        "unknown",
    }
)


class EndpointInfo(msgspec.Struct, frozen=True, kw_only=True):
    """One provider serving one model.

    ``provider`` is the provider slug matched by ``provider.only / ignore /
    order`` (case-insensitively; ``"google-vertex"`` also matches
    ``"google-vertex/us-east5"``). ``supported_parameters`` holds canonical
    parameter names (``ChatRequest.given()`` vocabulary, plus the capability
    marker ``"structured_outputs"`` for JSON-schema output).
    ``data_collection="allow"`` means the provider may store or train on
    prompts. ``tier`` names a service tier (``"priority"`` / ``"flex"``) that
    must be asked for explicitly; ``None`` for the standard endpoint.
    """

    id: str
    model: str
    provider: str
    upstream_model: str
    context_length: int | None = None
    max_output_tokens: int | None = None
    supported_parameters: frozenset[str] = frozenset()
    input_modalities: tuple[str, ...] = ("text",)
    output_modalities: tuple[str, ...] = ("text",)
    quantization: str | None = None
    data_collection: DataCollection = "allow"
    zdr: bool = False
    price: Price | None = None
    tier: str | None = None
    provider_name: str | None = None
    """Display name (OpenRouter's ``provider_name``); derived from the slug when unset."""
    supports_implicit_caching: bool = False

    def __post_init__(self) -> None:
        if self.quantization is not None and self.quantization not in QUANTIZATIONS:
            known = ", ".join(sorted(QUANTIZATIONS))
            raise ValueError(
                f"endpoint {self.id}: quantization {self.quantization!r} is not one of {known}"
            )


class ModelInfo(msgspec.Struct, frozen=True, kw_only=True):
    """A model as clients see it, with the endpoints that serve it (in config order)."""

    name: str
    endpoints: tuple[EndpointInfo, ...] = ()
    description: str = ""
    created: int = 0
    display_name: str | None = None
    tokenizer: str = "Other"
    """OpenRouter's tokenizer group (``GPT``, ``Claude``, ``Llama3``, ... or ``Other``)."""


class Catalog:
    """Every model and endpoint, with O(1) lookups by model name and endpoint id."""

    __slots__ = ("_by_endpoint", "_by_model")

    def __init__(self, models: Iterable[ModelInfo]) -> None:
        self._by_model: dict[str, ModelInfo] = {}
        self._by_endpoint: dict[str, EndpointInfo] = {}
        for model in models:
            if model.name in self._by_model:
                raise ValueError(f"model {model.name!r} is defined twice")
            for endpoint in model.endpoints:
                if endpoint.model != model.name:
                    raise ValueError(
                        f"endpoint {endpoint.id!r} says model {endpoint.model!r} "
                        f"but is listed under {model.name!r}"
                    )
                if endpoint.id in self._by_endpoint:
                    raise ValueError(f"endpoint id {endpoint.id!r} is used twice")
                self._by_endpoint[endpoint.id] = endpoint
            self._by_model[model.name] = model

    def model(self, name: str) -> ModelInfo | None:
        return self._by_model.get(name)

    def endpoints(self, model: str) -> tuple[EndpointInfo, ...]:
        """The endpoints of ``model`` (empty for an unknown model)."""
        info = self._by_model.get(model)
        return info.endpoints if info is not None else ()

    def endpoint(self, endpoint_id: str) -> EndpointInfo | None:
        return self._by_endpoint.get(endpoint_id)

    def models(self) -> tuple[ModelInfo, ...]:
        return tuple(self._by_model.values())

    def __contains__(self, name: object) -> bool:
        return name in self._by_model

    def __iter__(self) -> Iterator[ModelInfo]:
        return iter(self._by_model.values())

    def __len__(self) -> int:
        return len(self._by_model)
