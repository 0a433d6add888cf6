"""junction.catalog: models, endpoints, prices and their OpenRouter shapes.

Pure data and arithmetic; imports nothing of junction but ``junction.types``.
"""

from junction.catalog.catalog import QUANTIZATIONS, Catalog, DataCollection, EndpointInfo, ModelInfo
from junction.catalog.live import CircuitState, LiveStats, Percentiles
from junction.catalog.openrouter import (
    OPENROUTER_PARAMETERS,
    openrouter_model,
    openrouter_parameters,
    openrouter_pricing,
    provider_display_name,
    public_endpoint,
)
from junction.catalog.prices import (
    Price,
    PriceTier,
    cost,
    genai_provider_id,
    merge_price,
    resolve_price,
)

__all__ = [
    "OPENROUTER_PARAMETERS",
    "QUANTIZATIONS",
    "Catalog",
    "CircuitState",
    "DataCollection",
    "EndpointInfo",
    "LiveStats",
    "ModelInfo",
    "Percentiles",
    "Price",
    "PriceTier",
    "cost",
    "genai_provider_id",
    "merge_price",
    "openrouter_model",
    "openrouter_parameters",
    "openrouter_pricing",
    "provider_display_name",
    "public_endpoint",
    "resolve_price",
]
