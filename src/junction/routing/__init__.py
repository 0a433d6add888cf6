"""junction.routing: provider selection (preferences, live stats, load balancing, stickiness).

Pure and synchronous; imports only ``junction.types`` and ``junction.catalog``.
"""

from junction.routing.preferences import (
    VARIANTS,
    MaxPrice,
    PercentileCutoffs,
    ProviderPreferences,
    Sort,
    SortBy,
    merge,
    parse_preferences,
    split_variant,
    variant_preferences,
)
from junction.routing.select import Selection, matches_slug, select
from junction.routing.stats import BreakerConfig, EndpointStats, StatsConfig, StatsStore
from junction.routing.sticky import StickyRoutes, cache_pays, conversation_key

__all__ = [
    "VARIANTS",
    "BreakerConfig",
    "EndpointStats",
    "MaxPrice",
    "PercentileCutoffs",
    "ProviderPreferences",
    "Selection",
    "Sort",
    "SortBy",
    "StatsConfig",
    "StatsStore",
    "StickyRoutes",
    "cache_pays",
    "conversation_key",
    "matches_slug",
    "merge",
    "parse_preferences",
    "select",
    "split_variant",
    "variant_preferences",
]
