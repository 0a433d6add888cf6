"""The ``provider`` object: every field's spec shape parses; wrong shapes are refused by name."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "catalog"))

from _openrouter_schema import errors, schema
from junction.routing import (
    MaxPrice,
    PercentileCutoffs,
    ProviderPreferences,
    Sort,
    merge,
    parse_preferences,
    split_variant,
    variant_preferences,
)
from junction.types import GatewayError

# One sample per field of the spec's ProviderPreferences, in each shape it allows,
# with what junction makes of it.
SAMPLES: list[tuple[dict[str, Any], ProviderPreferences]] = [
    ({"order": ["groq", "together"]}, ProviderPreferences(order=("groq", "together"))),
    ({"allow_fallbacks": False}, ProviderPreferences(allow_fallbacks=False)),
    ({"require_parameters": True}, ProviderPreferences(require_parameters=True)),
    ({"data_collection": "deny"}, ProviderPreferences(data_collection="deny")),
    ({"data_collection": "allow"}, ProviderPreferences(data_collection="allow")),
    ({"zdr": True}, ProviderPreferences(zdr=True)),
    ({"enforce_distillable_text": True}, ProviderPreferences(enforce_distillable_text=True)),
    ({"only": ["google-vertex"]}, ProviderPreferences(only=("google-vertex",))),
    ({"ignore": ["deepinfra/turbo"]}, ProviderPreferences(ignore=("deepinfra/turbo",))),
    ({"quantizations": ["fp8", "bf16"]}, ProviderPreferences(quantizations=("fp8", "bf16"))),
    ({"sort": "price"}, ProviderPreferences(sort=Sort(by="price"))),
    ({"sort": "exacto"}, ProviderPreferences(sort=Sort(by="exacto"))),
    (
        {"sort": {"by": "throughput", "partition": "none"}},
        ProviderPreferences(sort=Sort(by="throughput", partition="none")),
    ),
    (
        {"preferred_min_throughput": 100},
        ProviderPreferences(preferred_min_throughput=PercentileCutoffs(p50=100.0)),
    ),
    (
        {"preferred_min_throughput": {"p90": 50, "p99": 20.5}},
        ProviderPreferences(preferred_min_throughput=PercentileCutoffs(p90=50.0, p99=20.5)),
    ),
    (
        {"preferred_max_latency": 1.5},
        ProviderPreferences(preferred_max_latency=PercentileCutoffs(p50=1.5)),
    ),
    (
        {"preferred_max_latency": {"p50": 1, "p75": 2, "p90": 3, "p99": 5}},
        ProviderPreferences(
            preferred_max_latency=PercentileCutoffs(p50=1.0, p75=2.0, p90=3.0, p99=5.0)
        ),
    ),
    (
        {"max_price": {"prompt": "1.5", "completion": "3", "request": "0.01", "image": "0.02"}},
        ProviderPreferences(
            max_price=MaxPrice(prompt=1.5, completion=3.0, request=0.01, image=0.02)
        ),
    ),
    ({"sort": None, "order": None}, ProviderPreferences()),
]


def test_samples_cover_every_spec_field() -> None:
    covered = {name for sample, _ in SAMPLES for name in sample}
    assert covered == set(schema("ProviderPreferences")["properties"])


@pytest.mark.parametrize(("sample", "expected"), SAMPLES)
def test_spec_shaped_samples_parse(sample: dict[str, Any], expected: ProviderPreferences) -> None:
    assert errors("ProviderPreferences", sample) == []
    assert parse_preferences(sample) == expected


def test_numbers_are_accepted_for_max_price() -> None:
    # OpenRouter's docs write numbers; the spec says strings. Both mean USD per million tokens.
    parsed = parse_preferences({"max_price": {"prompt": 1, "completion": 2.5}})
    assert parsed.max_price == MaxPrice(prompt=1.0, completion=2.5)


WRONG: list[tuple[dict[str, Any], str]] = [
    ({"order": "groq"}, "provider.order"),
    ({"order": ["groq", 3]}, "provider.order[1]"),
    ({"allow_fallbacks": "no"}, "provider.allow_fallbacks"),
    ({"require_parameters": 1}, "provider.require_parameters"),
    ({"data_collection": "never"}, "provider.data_collection"),
    ({"zdr": "true"}, "provider.zdr"),
    ({"enforce_distillable_text": []}, "provider.enforce_distillable_text"),
    ({"only": {"groq": True}}, "provider.only"),
    ({"ignore": [None]}, "provider.ignore[0]"),
    ({"quantizations": ["fp9"]}, "provider.quantizations[0]"),
    ({"sort": "fastest"}, "provider.sort"),
    ({"sort": {"by": "speed"}}, "provider.sort.by"),
    ({"preferred_min_throughput": "fast"}, "provider.preferred_min_throughput"),
    ({"preferred_max_latency": {"p95": 1}}, "provider.preferred_max_latency.p95"),
    ({"preferred_max_latency": -1}, "provider.preferred_max_latency"),
    ({"max_price": {"prompt": "cheap"}}, "provider.max_price.prompt"),
    ({"max_price": {"completion": -2}}, "provider.max_price.completion"),
    ({"max_price": 5}, "provider.max_price"),
    ({"providers": ["groq"]}, "provider.providers"),
]


@pytest.mark.parametrize(("sample", "param"), WRONG)
def test_wrong_shapes_are_refused_naming_the_field(sample: dict[str, Any], param: str) -> None:
    with pytest.raises(GatewayError) as caught:
        parse_preferences(sample)
    err = caught.value
    assert err.kind == "invalid_request"
    assert err.status == 400
    assert err.param == param
    assert param in err.message


# junction's own checks, stricter than the spec: negative numbers, non-numeric price
# strings, and unknown percentile keys (a typo such as p95 would silently do nothing).
STRICTER_THAN_SPEC = {
    "provider.preferred_max_latency",
    "provider.preferred_max_latency.p95",
    "provider.max_price.prompt",
}


def test_wrong_samples_are_wrong_by_the_spec_too() -> None:
    for sample, param in WRONG:
        if param not in STRICTER_THAN_SPEC:
            assert errors("ProviderPreferences", sample) != [], sample


def test_provider_must_be_an_object() -> None:
    with pytest.raises(GatewayError) as caught:
        parse_preferences(["groq"])
    assert caught.value.param == "provider"
    assert parse_preferences(None) == ProviderPreferences()


def test_defaults() -> None:
    prefs = ProviderPreferences()
    assert prefs.fallbacks_allowed is True
    assert ProviderPreferences(allow_fallbacks=False).fallbacks_allowed is False
    assert prefs.sort_by is None


def test_merge_later_layers_win_field_by_field() -> None:
    global_ = ProviderPreferences(sort=Sort(by="price"), data_collection="allow", ignore=("a",))
    model = ProviderPreferences(max_price=MaxPrice(prompt=5.0))
    key = ProviderPreferences(data_collection="deny", ignore=("b",))
    request = ProviderPreferences(sort=Sort(by="latency"), order=("x",))
    merged = merge(global_, model, None, key, request)
    assert merged.sort == Sort(by="latency")
    assert merged.data_collection == "deny"
    assert merged.max_price == MaxPrice(prompt=5.0)
    assert merged.order == ("x",)
    assert merged.ignore == ("a", "b")  # ignore lists are united
    assert merge() == ProviderPreferences()
    assert merge(request).ignore is None


def test_variants() -> None:
    assert split_variant("llama-3.3-70b:nitro") == ("llama-3.3-70b", "nitro")
    assert split_variant("llama-3.3-70b:floor") == ("llama-3.3-70b", "floor")
    assert split_variant("llama3:8b") == ("llama3:8b", None)
    assert split_variant("plain") == ("plain", None)
    assert split_variant(":nitro") == (":nitro", None)
    floor = variant_preferences("floor")
    nitro = variant_preferences("nitro")
    assert floor is not None
    assert floor.sort_by == "price"
    assert nitro is not None
    assert nitro.sort_by == "throughput"
    assert variant_preferences(None) is None
    # the request's own sort still wins over the variant's
    assert merge(nitro, ProviderPreferences(sort=Sort(by="latency"))).sort_by == "latency"
