"""Catalog lookups and the OpenRouter shapes, validated against OpenRouter's OpenAPI spec."""

from __future__ import annotations

import pytest

from _openrouter_schema import errors
from junction.catalog import (
    Catalog,
    EndpointInfo,
    LiveStats,
    ModelInfo,
    Percentiles,
    Price,
    PriceTier,
    openrouter_model,
    openrouter_parameters,
    public_endpoint,
)

GROQ = EndpointInfo(
    id="llama-3.3-70b@groq",
    model="llama-3.3-70b",
    provider="groq",
    upstream_model="llama-3.3-70b-versatile",
    context_length=131_072,
    max_output_tokens=32_768,
    supported_parameters=frozenset({"max_tokens", "temperature", "tools", "tool_choice", "n"}),
    quantization="fp16",
    price=Price(input=0.59, output=0.79),
)
TOGETHER = EndpointInfo(
    id="llama-3.3-70b@together",
    model="llama-3.3-70b",
    provider="together",
    upstream_model="meta-llama/Llama-3.3-70B-Instruct-Turbo",
    context_length=200_000,
    supported_parameters=frozenset({"max_tokens", "reasoning", "response_format", "user"}),
    quantization="fp8",
    data_collection="deny",
    price=Price(input=0.88, output=0.88, cache_read=0.2, cache_write=1.1),
)
LLAMA = ModelInfo(
    name="llama-3.3-70b",
    endpoints=(TOGETHER, GROQ),
    description="Meta's Llama 3.3 70B",
    created=1733443200,
    display_name="Llama 3.3 70B",
    tokenizer="Llama3",
)


def test_catalog_lookups() -> None:
    catalog = Catalog([LLAMA])
    assert catalog.model("llama-3.3-70b") is LLAMA
    assert catalog.endpoints("llama-3.3-70b") == (TOGETHER, GROQ)
    assert catalog.endpoints("nope") == ()
    assert catalog.endpoint("llama-3.3-70b@groq") is GROQ
    assert "llama-3.3-70b" in catalog
    assert len(catalog) == 1
    assert [m.name for m in catalog] == ["llama-3.3-70b"]


def test_catalog_refuses_duplicates_and_misfiled_endpoints() -> None:
    with pytest.raises(ValueError, match="used twice"):
        Catalog([ModelInfo(name="llama-3.3-70b", endpoints=(GROQ, GROQ))])
    with pytest.raises(ValueError, match="listed under"):
        Catalog([ModelInfo(name="other", endpoints=(GROQ,))])
    with pytest.raises(ValueError, match="defined twice"):
        Catalog([LLAMA, LLAMA])


def test_unknown_quantization_is_refused() -> None:
    with pytest.raises(ValueError, match="quantization"):
        EndpointInfo(id="x", model="m", provider="p", upstream_model="m", quantization="q3")


def test_model_entry_matches_the_spec() -> None:
    entry = openrouter_model(LLAMA)
    assert errors("Model", entry) == []
    # the cheapest endpoint (groq: 0.59 + 0.79 < 0.88 + 0.88) gives pricing and top_provider
    assert entry["pricing"] == {
        "prompt": "0.00000059",
        "completion": "0.00000079",
        "request": "0",
        "image": "0",
    }
    assert entry["top_provider"] == {
        "context_length": 131_072,
        "max_completion_tokens": 32_768,
        "is_moderated": False,
    }
    assert entry["context_length"] == 200_000
    assert entry["name"] == "Llama 3.3 70B"
    assert entry["architecture"]["modality"] == "text->text"
    assert entry["architecture"]["tokenizer"] == "Llama3"
    # union over endpoints, OpenRouter names, spec order; n and user have no OpenRouter name
    assert entry["supported_parameters"] == [
        "temperature",
        "max_tokens",
        "response_format",
        "tools",
        "tool_choice",
        "include_reasoning",
        "reasoning",
    ]


def test_tiered_prices_become_overrides() -> None:
    price = Price(
        input=1.25,
        output=10.0,
        cache_read=0.125,
        tiers=(PriceTier(above_prompt_tokens=200_000, input=2.5, output=15.0, cache_read=0.25),),
    )
    endpoint = EndpointInfo(
        id="gemini-2.5-pro@gemini",
        model="gemini-2.5-pro",
        provider="gemini",
        upstream_model="gemini-2.5-pro",
        input_modalities=("text", "image"),
        price=price,
    )
    entry = openrouter_model(ModelInfo(name="gemini-2.5-pro", endpoints=(endpoint,)))
    assert errors("Model", entry) == []
    assert entry["pricing"]["prompt"] == "0.00000125"
    assert entry["pricing"]["input_cache_read"] == "0.000000125"
    assert entry["pricing"]["overrides"] == [
        {
            "min_prompt_tokens": 200_000,
            "prompt": "0.0000025",
            "completion": "0.000015",
            "input_cache_read": "0.00000025",
        }
    ]
    assert entry["architecture"]["modality"] == "text+image->text"


def test_unpriced_model_shows_zero_prices() -> None:
    endpoint = EndpointInfo(id="m@local", model="m", provider="vllm", upstream_model="m")
    entry = openrouter_model(ModelInfo(name="m", endpoints=(endpoint,)))
    assert errors("Model", entry) == []
    assert (entry["pricing"]["prompt"], entry["pricing"]["completion"]) == ("0", "0")
    assert entry["context_length"] is None


def test_public_endpoint_with_stats_matches_the_spec() -> None:
    stats = LiveStats(
        uptime_5m=1.0,
        uptime_30m=0.995,
        uptime_1d=0.998,
        latency_30m=Percentiles(p50=250.0, p75=350.0, p90=480.0, p99=850.0),
        throughput_30m=Percentiles(p50=45.2, p75=50.0, p90=60.0, p99=70.0),
    )
    shown = public_endpoint(TOGETHER, stats, model_name="Llama 3.3 70B")
    assert errors("PublicEndpoint", shown) == []
    assert shown["name"] == "Together: Llama 3.3 70B"
    assert shown["provider_name"] == "Together"
    assert shown["tag"] == "together"
    assert shown["quantization"] == "fp8"
    assert shown["status"] == 0
    assert (shown["uptime_last_5m"], shown["uptime_last_30m"]) == (100.0, 99.5)
    assert shown["uptime_last_1d"] == pytest.approx(99.8)
    # Milliseconds in, seconds out: OpenRouter's own example shows p50 0.25.
    assert shown["latency_last_30m"] == {"p50": 0.25, "p75": 0.35, "p90": 0.48, "p99": 0.85}
    assert shown["throughput_last_30m"]["p50"] == 45.2
    assert shown["pricing"]["input_cache_read"] == "0.0000002"
    assert shown["pricing"]["input_cache_write"] == "0.0000011"
    assert shown["max_prompt_tokens"] == 200_000
    assert shown["supported_parameters"] == [
        "max_tokens",
        "response_format",
        "include_reasoning",
        "reasoning",
    ]


def test_public_endpoint_without_traffic_and_with_open_breaker() -> None:
    quiet = public_endpoint(GROQ, None)
    assert errors("PublicEndpoint", quiet) == []
    assert quiet["uptime_last_5m"] is None
    assert quiet["latency_last_30m"] is None
    assert quiet["throughput_last_30m"] is None
    broken = public_endpoint(GROQ, LiveStats(circuit="open", uptime_5m=0.0))
    assert errors("PublicEndpoint", broken) == []
    assert broken["status"] == -1
    assert broken["uptime_last_5m"] == 0.0


def test_unlisted_provider_only_breaks_the_closed_provider_name_enum() -> None:
    sim = EndpointInfo(id="m@sim-fast", model="m", provider="sim-fast", upstream_model="m")
    shown = public_endpoint(sim, None)
    assert shown["provider_name"] == "sim-fast"
    assert errors("PublicEndpoint", shown, any_provider_name=True) == []
    problems = errors("PublicEndpoint", shown)
    assert len(problems) == 1
    assert problems[0].startswith("provider_name:")


def test_the_validator_does_catch_wrong_shapes() -> None:
    entry = openrouter_model(LLAMA)
    entry["pricing"]["prompt"] = 0.00000059
    assert errors("Model", entry) != []


def test_parameter_names() -> None:
    assert openrouter_parameters({"seed", "stop", "n", "metadata", "service_tier"}) == [
        "seed",
        "stop",
    ]
    assert openrouter_parameters({"structured_outputs"}) == ["structured_outputs"]
