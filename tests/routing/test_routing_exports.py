"""The public surface of junction.catalog / junction.routing, and their import rule."""

from __future__ import annotations

import ast
from pathlib import Path

import junction.catalog
import junction.routing

SRC = Path(junction.catalog.__file__).resolve().parents[1]


def test_catalog_exports() -> None:
    assert set(junction.catalog.__all__) == {
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
    }
    for name in junction.catalog.__all__:
        assert hasattr(junction.catalog, name), name


def test_routing_exports() -> None:
    assert set(junction.routing.__all__) == {
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
        "VARIANTS",
        "cache_pays",
        "conversation_key",
        "matches_slug",
        "merge",
        "parse_preferences",
        "select",
        "split_variant",
        "variant_preferences",
    }
    for name in junction.routing.__all__:
        assert hasattr(junction.routing, name), name


def _junction_imports(package: str) -> set[str]:
    found: set[str] = set()
    for path in (SRC / package).glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            found.update(n.split(".")[1] for n in names if n.startswith("junction."))
    return found


def test_catalog_imports_only_types() -> None:
    assert _junction_imports("catalog") <= {"types", "catalog"}


def test_routing_imports_only_types_and_catalog() -> None:
    assert _junction_imports("routing") <= {"types", "catalog", "routing"}
