"""The catalog in OpenRouter's public shapes: ``/models`` entries and ``PublicEndpoint``.

Choices (OpenRouter does not publish them for a self-hosted router):

* A model's ``pricing`` and ``top_provider`` come from its *cheapest* priced
  standard endpoint (input + output price, 1:1); with no priced endpoint, from
  the first one, and an unpriced model shows ``"0"`` prices.
* ``context_length`` of a model is the largest of its endpoints'.
* ``supported_parameters`` of a model is the union over its endpoints, in
  OpenRouter's names: canonical names map one to one, ``reasoning`` also adds
  ``include_reasoning``; canonical names OpenRouter has no word for (``n``,
  ``user``, ``metadata``, ``service_tier``) are left out.
* Cache prices appear only when known; context-length tiers become
  ``pricing.overrides`` entries with ``min_prompt_tokens``.
* ``status`` is 0 while the endpoint serves and -1 while its circuit breaker
  is open. Uptimes are percentages, latency (time to first token) is in
  milliseconds, throughput in tokens per second.
* ``provider_name`` uses OpenRouter's display names for known providers; a
  provider OpenRouter does not know (e.g. ``sim-fast``) shows its slug.
* An endpoint's ``supports_tool_choice`` (required by ``@openrouter/sdk``,
  absent from the OpenAPI document): ``auto`` and ``none`` when it takes
  ``tools``; ``function`` and ``required`` when it also takes ``tool_choice``.
* A model with no description shows ``""`` (the SDK reads a string).
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from junction.catalog.catalog import EndpointInfo, ModelInfo
from junction.catalog.live import LiveStats, Percentiles
from junction.catalog.prices import Price, PriceTier

__all__ = [
    "OPENROUTER_PARAMETERS",
    "openrouter_model",
    "openrouter_parameters",
    "openrouter_pricing",
    "provider_display_name",
    "public_endpoint",
    "tool_choice_support",
]

# OpenRouter's ``Parameter`` enum, in the spec's order.
OPENROUTER_PARAMETERS: tuple[str, ...] = (
    "temperature",
    "top_p",
    "top_k",
    "min_p",
    "top_a",
    "frequency_penalty",
    "presence_penalty",
    "repetition_penalty",
    "max_tokens",
    "max_completion_tokens",
    "logit_bias",
    "logprobs",
    "top_logprobs",
    "prediction",
    "seed",
    "response_format",
    "structured_outputs",
    "stop",
    "tools",
    "tool_choice",
    "parallel_tool_calls",
    "include_reasoning",
    "reasoning",
    "reasoning_effort",
    "web_search_options",
    "verbosity",
)
_RANK = {name: i for i, name in enumerate(OPENROUTER_PARAMETERS)}
_EXTRA_NAMES: dict[str, tuple[str, ...]] = {"reasoning": ("reasoning", "include_reasoning")}

_DISPLAY_NAMES: dict[str, str] = {
    "openai": "OpenAI",
    "anthropic": "Anthropic",
    "gemini": "Google AI Studio",
    "google-ai-studio": "Google AI Studio",
    "google-vertex": "Google",
    "google": "Google",
    "groq": "Groq",
    "mistral": "Mistral",
    "deepseek": "DeepSeek",
    "xai": "xAI",
    "x-ai": "xAI",
    "together": "Together",
    "fireworks": "Fireworks",
    "cerebras": "Cerebras",
    "azure": "Azure",
    "bedrock": "Amazon Bedrock",
    "amazon-bedrock": "Amazon Bedrock",
    "deepinfra": "DeepInfra",
    "novita": "Novita",
    "cohere": "Cohere",
    "perplexity": "Perplexity",
    "moonshotai": "Moonshot AI",
    "nebius": "Nebius",
    "sambanova": "SambaNova",
    "parasail": "Parasail",
    "cloudflare": "Cloudflare",
    "databricks": "Databricks",
    "baseten": "BaseTen",
    "minimax": "Minimax",
    "z-ai": "Z.AI",
}


def provider_display_name(slug: str) -> str:
    """OpenRouter's ``provider_name`` for a slug (``google-vertex/us-east5`` → ``Google``)."""
    return _DISPLAY_NAMES.get(slug.lower().split("/", 1)[0], slug)


def openrouter_parameters(canonical: Iterable[str]) -> list[str]:
    """Canonical parameter names as OpenRouter's ``supported_parameters``, in spec order."""
    names: set[str] = set()
    for name in canonical:
        for mapped in _EXTRA_NAMES.get(name, (name,)):
            if mapped in _RANK:
                names.add(mapped)
    return sorted(names, key=_RANK.__getitem__)


def _per_token(per_mtok: float) -> str:
    value = (Decimal(repr(per_mtok)) / Decimal(1_000_000)).normalize()
    return format(value, "f")


def openrouter_pricing(price: Price | None) -> dict[str, Any]:
    """OpenRouter's ``pricing`` object: strings in USD per token (per request / image)."""
    if price is None:
        return {"prompt": "0", "completion": "0", "request": "0", "image": "0"}
    out: dict[str, Any] = {
        "prompt": _per_token(price.input or 0.0),
        "completion": _per_token(price.output or 0.0),
        "request": format(Decimal(repr(price.request or 0.0)).normalize(), "f"),
        "image": "0",
    }
    if price.cache_read is not None:
        out["input_cache_read"] = _per_token(price.cache_read)
    if price.cache_write is not None:
        out["input_cache_write"] = _per_token(price.cache_write)
    if price.reasoning is not None:
        out["internal_reasoning"] = _per_token(price.reasoning)
    if price.tiers:
        out["overrides"] = [_override(tier) for tier in price.tiers]
    return out


def _override(tier: PriceTier) -> dict[str, Any]:
    entry: dict[str, Any] = {"min_prompt_tokens": tier.above_prompt_tokens}
    for field, key in (
        ("input", "prompt"),
        ("output", "completion"),
        ("cache_read", "input_cache_read"),
        ("cache_write", "input_cache_write"),
    ):
        value = getattr(tier, field)
        if value is not None:
            entry[key] = _per_token(value)
    return entry


def _top_endpoint(model: ModelInfo) -> EndpointInfo | None:
    standard = [e for e in model.endpoints if e.tier is None] or list(model.endpoints)
    priced = [e for e in standard if e.price is not None]
    if priced:
        return min(priced, key=lambda e: _price_sum(e.price))
    return standard[0] if standard else None


def _price_sum(price: Price | None) -> float:
    if price is None:
        return 0.0
    return (price.input or 0.0) + (price.output or 0.0)


def _union(parts: Iterable[Iterable[str]], default: str) -> list[str]:
    seen: dict[str, None] = {}
    for part in parts:
        for item in part:
            seen.setdefault(item, None)
    return list(seen) or [default]


def openrouter_model(model: ModelInfo) -> dict[str, Any]:
    """``model`` as an entry of OpenRouter's ``GET /api/v1/models`` (schema ``Model``)."""
    top = _top_endpoint(model)
    contexts = [e.context_length for e in model.endpoints if e.context_length is not None]
    inputs = _union((e.input_modalities for e in model.endpoints), "text")
    outputs = _union((e.output_modalities for e in model.endpoints), "text")
    params: set[str] = set()
    for endpoint in model.endpoints:
        params.update(endpoint.supported_parameters)
    return {
        "id": model.name,
        "canonical_slug": model.name,
        "name": model.display_name or model.name,
        "created": model.created,
        "description": model.description or "",
        "context_length": max(contexts) if contexts else None,
        "architecture": {
            "modality": f"{'+'.join(inputs)}->{'+'.join(outputs)}",
            "input_modalities": inputs,
            "output_modalities": outputs,
            "tokenizer": model.tokenizer,
            "instruct_type": None,
        },
        "pricing": openrouter_pricing(top.price if top is not None else None),
        "top_provider": {
            "context_length": top.context_length if top is not None else None,
            "max_completion_tokens": top.max_output_tokens if top is not None else None,
            "is_moderated": False,
        },
        "per_request_limits": None,
        "supported_parameters": openrouter_parameters(params),
        "default_parameters": None,
        "supported_voices": None,
        "links": {"details": f"/api/v1/models/{model.name}/endpoints"},
    }


def _percent(fraction: float | None) -> float | None:
    return None if fraction is None else round(fraction * 100.0, 4)


def _percentiles(p: Percentiles | None, scale: float = 1.0) -> dict[str, float] | None:
    if p is None:
        return None
    return {
        "p50": round(p.p50 * scale, 6),
        "p75": round(p.p75 * scale, 6),
        "p90": round(p.p90 * scale, 6),
        "p99": round(p.p99 * scale, 6),
    }


def public_endpoint(
    info: EndpointInfo, stats: LiveStats | None, *, model_name: str | None = None
) -> dict[str, Any]:
    """``info`` as OpenRouter's ``PublicEndpoint`` (``GET /models/{id}/endpoints``).

    ``model_name`` is the model's display name (defaults to its id). An unknown
    context length is shown as 0 (the schema requires an integer).
    """
    live = stats if stats is not None else LiveStats()
    display = info.provider_name or provider_display_name(info.provider)
    shown_model = model_name or info.model
    return {
        "name": f"{display}: {shown_model}",
        "model_id": info.model,
        "model_name": shown_model,
        "context_length": info.context_length or 0,
        "pricing": openrouter_pricing(info.price),
        "provider_name": display,
        "tag": info.provider,
        "quantization": info.quantization,
        "max_completion_tokens": info.max_output_tokens,
        "max_prompt_tokens": info.context_length,
        "supported_parameters": openrouter_parameters(info.supported_parameters),
        "status": -1 if live.circuit == "open" else 0,
        "uptime_last_5m": _percent(live.uptime_5m),
        "uptime_last_30m": _percent(live.uptime_30m),
        "uptime_last_1d": _percent(live.uptime_1d),
        # OpenRouter reports latency in seconds (its example: p50 0.25).
        "latency_last_30m": _percentiles(live.latency_30m, 0.001),
        "throughput_last_30m": _percentiles(live.throughput_30m),
        "supports_implicit_caching": info.supports_implicit_caching,
        "supports_tool_choice": tool_choice_support(info.supported_parameters),
    }


def tool_choice_support(canonical: Iterable[str]) -> dict[str, bool]:
    """OpenRouter's ``ToolChoiceSupport``: which ``tool_choice`` values an
    endpoint with these canonical parameters honours."""
    params = set(canonical)
    tools = "tools" in params
    forced = tools and "tool_choice" in params
    return {"auto": tools, "function": forced, "none": tools, "required": forced}
