"""Token prices: looked up once from genai-prices, applied per request by plain arithmetic.

All token prices are **USD per million tokens**; ``request`` is USD per request.
:func:`resolve_price` runs at start-up (one genai-prices lookup per endpoint);
:func:`cost` runs once per request and is a handful of multiplications.

Conventions (the canonical :class:`~junction.types.Usage`):

* ``prompt_tokens`` is the whole input, cache reads (``cached_tokens``) and
  cache writes (``cache_write_tokens``) included, so the uncached input is
  ``prompt - cached - cache_write``;
* ``completion_tokens`` includes ``reasoning_tokens``: reasoning is billed as
  output unless the model has its own reasoning price.

A missing cache-read / cache-write / reasoning price bills those tokens at the
input / output price, as genai-prices does.

Context-length tiers (Gemini 2.5 Pro, Claude Sonnet 4.5 above 200k) become
:class:`PriceTier` rows: a tier applies to the whole request when
``prompt_tokens`` is strictly greater than ``above_prompt_tokens`` (the
"cliff" model used by genai-prices and OpenRouter's ``min_prompt_tokens``).

Not covered: audio / image / video token prices, web-search and other per-unit
fees, 1-hour cache writes, batch and service-tier variants, and time-of-day
prices (a price is resolved for one instant: the ``when`` argument).
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import msgspec

from junction.types import Usage

__all__ = [
    "Price",
    "PriceTier",
    "cost",
    "genai_provider_id",
    "merge_price",
    "resolve_price",
]


class PriceTier(msgspec.Struct, frozen=True, omit_defaults=True):
    """Prices that replace the base ones when ``prompt_tokens > above_prompt_tokens``.

    A field left ``None`` inherits the base price.
    """

    above_prompt_tokens: int
    input: float | None = None
    output: float | None = None
    cache_read: float | None = None
    cache_write: float | None = None


class Price(msgspec.Struct, frozen=True, omit_defaults=True):
    """An endpoint's price. ``None`` means "not set" (used when merging overrides).

    Token prices in USD per million tokens, ``request`` in USD per request.
    ``tiers`` are sorted by ``above_prompt_tokens``.
    """

    input: float | None = None
    output: float | None = None
    cache_read: float | None = None
    cache_write: float | None = None
    reasoning: float | None = None
    request: float | None = None
    tiers: tuple[PriceTier, ...] | None = None

    def rates(self, prompt_tokens: int) -> tuple[float, float, float, float]:
        """(input, output, cache_read, cache_write) in USD per Mtok for a prompt size.

        Unset cache prices fall back to the input price.
        """
        inp = self.input or 0.0
        out = self.output or 0.0
        read = self.cache_read
        write = self.cache_write
        if self.tiers:
            for tier in reversed(self.tiers):
                if prompt_tokens > tier.above_prompt_tokens:
                    inp = tier.input if tier.input is not None else inp
                    out = tier.output if tier.output is not None else out
                    read = tier.cache_read if tier.cache_read is not None else read
                    write = tier.cache_write if tier.cache_write is not None else write
                    break
        return inp, out, inp if read is None else read, inp if write is None else write


_TOKEN_FIELDS = ("input", "output", "cache_read", "cache_write", "reasoning")


def cost(usage: Usage, price: Price) -> float:
    """What ``usage`` costs at ``price``, in USD."""
    prompt = usage.prompt_tokens
    inp, out, read, write = price.rates(prompt)
    cached = usage.cached_tokens
    written = usage.cache_write_tokens
    uncached = prompt - cached - written
    if uncached < 0:
        uncached = 0
    completion = usage.completion_tokens
    total = uncached * inp + cached * read + written * write
    if price.reasoning is not None and usage.reasoning_tokens:
        reasoning = min(usage.reasoning_tokens, completion)
        total += (completion - reasoning) * out + reasoning * price.reasoning
    else:
        total += completion * out
    return total / 1e6 + (price.request or 0.0)


def merge_price(base: Price, override: Price) -> Price:
    """``override`` wins field by field (``None`` = keep ``base``).

    Tiers belong to the base prices they were published with: when the override
    sets a token price and no tiers of its own, the base tiers are dropped.
    """
    values: dict[str, Any] = {}
    for name in (*_TOKEN_FIELDS, "request"):
        mine = getattr(override, name)
        values[name] = mine if mine is not None else getattr(base, name)
    if override.tiers is not None:
        values["tiers"] = override.tiers
    elif any(getattr(override, name) is not None for name in _TOKEN_FIELDS):
        values["tiers"] = None
    else:
        values["tiers"] = base.tiers
    return Price(**values)


# junction vendor names (and OpenRouter-style slugs) → genai-prices provider ids.
# Names not listed are tried as they are (genai-prices also matches by its own
# ``provider_match`` rules, e.g. "azure", "together-ai", "cerebras").
_PROVIDER_IDS: dict[str, str] = {
    "gemini": "google",
    "google-ai-studio": "google",
    "google-vertex": "google",
    "vertex": "google",
    "vertex_ai": "google",
    "xai": "x-ai",
    "grok": "x-ai",
    "bedrock": "aws",
    "amazon-bedrock": "aws",
    "together_ai": "together",
    "together-ai": "together",
    "moonshot": "moonshotai",
    "z-ai": "zai",
}

# Local servers have no list price: never let genai-prices guess one.
_UNPRICED = frozenset({"vllm", "ollama", "llamacpp", "lmstudio"})


def genai_provider_id(provider_id: str) -> str:
    """The genai-prices provider id for a junction vendor name."""
    slug = provider_id.lower().split("/", 1)[0]
    return _PROVIDER_IDS.get(slug, slug)


def resolve_price(
    provider_id: str, model: str, override: Price | None, when: datetime | None = None
) -> Price | None:
    """The price of ``model`` at ``provider_id``, with ``override`` winning field by field.

    ``None`` when neither genai-prices nor the override knows a price. Call it
    once per endpoint at start-up, not per request (a lookup scans the catalog).
    """
    listed = _listed_price(provider_id, model, when or datetime.now(tz=UTC))
    if override is None:
        return listed
    if listed is None:
        return override
    return merge_price(listed, override)


def _listed_price(provider_id: str, model: str, when: datetime) -> Price | None:
    if provider_id.lower() in _UNPRICED:
        return None
    from genai_prices import data_snapshot

    snapshot = data_snapshot.get_snapshot()
    provider = data_snapshot.find_provider_by_id(snapshot.providers, genai_provider_id(provider_id))
    if provider is None:
        return None
    info = provider.find_model(model, all_providers=snapshot.providers)
    if info is None:
        return None
    return _from_model_price(info.get_prices(when))


def _from_model_price(mp: Any) -> Price:
    fields = {
        "input": "input_mtok",
        "output": "output_mtok",
        "cache_read": "cache_read_mtok",
        "cache_write": "cache_write_mtok",
        "reasoning": "output_reasoning_mtok",
    }
    values: dict[str, float | None] = {}
    tiered: dict[str, Any] = {}
    for name, key in fields.items():
        raw = getattr(mp, key, None)
        if raw is None:
            values[name] = None
        elif isinstance(raw, Decimal):
            values[name] = float(raw)
        else:  # genai_prices.types.TieredPrices
            values[name] = float(raw.base)
            tiered[name] = raw
    requests = getattr(mp, "requests_kcount", None)
    request = float(requests) / 1000 if isinstance(requests, Decimal) else None
    return Price(
        input=values["input"],
        output=values["output"],
        cache_read=values["cache_read"],
        cache_write=values["cache_write"],
        reasoning=values["reasoning"],
        request=request,
        tiers=_tiers(tiered) or None,
    )


def _tiers(tiered: dict[str, Any]) -> tuple[PriceTier, ...]:
    """genai-prices keeps tiers per price key; junction keeps them per prompt size."""
    starts = sorted({tier.start for prices in tiered.values() for tier in prices.tiers})
    rows: list[PriceTier] = []
    for start in starts:
        row: dict[str, float] = {}
        for name, prices in tiered.items():
            applicable = [t for t in prices.tiers if t.start <= start]
            if applicable:
                row[name] = float(applicable[-1].price)
        row.pop("reasoning", None)  # reasoning tiers are not modelled; keep the base
        rows.append(PriceTier(above_prompt_tokens=start, **row))
    return tuple(rows)
