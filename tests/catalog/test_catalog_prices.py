"""Prices from genai-prices and cost arithmetic, checked on recorded provider usage.

The per-Mtok prices written below were read from genai-prices 0.2.3's data
(``genai_prices/data.py``); the usage numbers from the recorded cassettes.
"""

from __future__ import annotations

import functools
from datetime import UTC, datetime
from typing import Any

import genai_prices
import pytest

from _cassettes import RECORDED, load_yaml
from junction.catalog import Price, PriceTier, cost, genai_provider_id, merge_price, resolve_price
from junction.types import Usage

WHEN = datetime(2026, 9, 15, 12, 0, tzinfo=UTC)


@functools.cache
def _bodies(name: str) -> list[dict[str, Any]]:
    cassette = load_yaml(RECORDED / name)
    return [i["response"]["parsed_body"] for i in cassette["interactions"]]


def _genai(usage: Usage) -> genai_prices.Usage:
    return genai_prices.Usage(
        input_tokens=usage.prompt_tokens,
        cache_read_tokens=usage.cached_tokens,
        cache_write_tokens=usage.cache_write_tokens,
        output_tokens=usage.completion_tokens,
    )


def _calc(usage: Usage, model: str, provider: str, when: datetime = WHEN) -> float:
    calc = genai_prices.calc_price(
        _genai(usage), model, provider_id=provider, genai_request_timestamp=when
    )
    return float(calc.total_price)


# --- Anthropic: cache write and cache read in one response --------------------------


def test_anthropic_cache_write_and_read() -> None:
    body = _bodies("test_anthropic/test_anthropic_cache_real_api.yaml")[1]
    raw = body["usage"]
    assert (raw["input_tokens"], raw["cache_creation_input_tokens"]) == (3, 418)
    assert (raw["cache_read_input_tokens"], raw["output_tokens"]) == (1111, 33)
    usage = Usage(
        prompt_tokens=3 + 418 + 1111,
        completion_tokens=33,
        cached_tokens=1111,
        cache_write_tokens=418,
    )
    price = resolve_price("anthropic", body["model"], None, WHEN)
    assert price is not None
    # claude-sonnet-4-5: $3 input, $15 output, $0.30 cache read, $3.75 cache write per Mtok
    assert (price.input, price.output, price.cache_read, price.cache_write) == (3, 15, 0.3, 3.75)
    expected = (3 * 3.0 + 1111 * 0.30 + 418 * 3.75 + 33 * 15.0) / 1e6
    assert expected == pytest.approx(0.0024048, abs=1e-12)
    assert cost(usage, price) == pytest.approx(expected, abs=1e-9)
    assert cost(usage, price) == pytest.approx(_calc(usage, body["model"], "anthropic"), abs=1e-9)


def test_anthropic_long_context_tier_is_listed() -> None:
    price = resolve_price("anthropic", "claude-sonnet-4-5-20250929", None, WHEN)
    assert price is not None
    assert price.tiers == (
        PriceTier(
            above_prompt_tokens=200_000, input=6.0, output=22.5, cache_read=0.6, cache_write=7.5
        ),
    )


# --- OpenAI: reasoning tokens, then cached tokens ------------------------------------


def test_openai_reasoning_is_billed_as_output() -> None:
    body = _bodies("test_openai_responses/test_openai_responses_thinking_with_tool_calls.yaml")[0]
    raw = body["usage"]
    usage = Usage(
        prompt_tokens=raw["input_tokens"],
        completion_tokens=raw["output_tokens"],
        cached_tokens=raw["input_tokens_details"]["cached_tokens"],
        reasoning_tokens=raw["output_tokens_details"]["reasoning_tokens"],
    )
    assert (usage.prompt_tokens, usage.completion_tokens, usage.reasoning_tokens) == (
        124,
        1926,
        1792,
    )
    price = resolve_price("openai", body["model"], None, WHEN)
    assert price is not None
    # gpt-5: $1.25 input, $10 output, $0.125 cache read per Mtok
    assert (price.input, price.output, price.cache_read) == (1.25, 10.0, 0.125)
    expected = (124 * 1.25 + 1926 * 10.0) / 1e6
    assert cost(usage, price) == pytest.approx(expected, abs=1e-9)
    assert cost(usage, price) == pytest.approx(_calc(usage, body["model"], "openai"), abs=1e-9)


def test_openai_cached_tokens_at_cache_read_price() -> None:
    body = _bodies("test_openai_responses/test_openai_responses_thinking_with_tool_calls.yaml")[1]
    raw = body["usage"]
    usage = Usage(
        prompt_tokens=raw["input_tokens"],
        completion_tokens=raw["output_tokens"],
        cached_tokens=raw["input_tokens_details"]["cached_tokens"],
    )
    assert (usage.prompt_tokens, usage.cached_tokens, usage.completion_tokens) == (2087, 2048, 124)
    price = resolve_price("openai", body["model"], None, WHEN)
    assert price is not None
    expected = ((2087 - 2048) * 1.25 + 2048 * 0.125 + 124 * 10.0) / 1e6
    assert cost(usage, price) == pytest.approx(expected, abs=1e-9)
    assert cost(usage, price) == pytest.approx(_calc(usage, body["model"], "openai"), abs=1e-9)


# --- Gemini: thoughtsTokenCount is output ---------------------------------------------


def test_gemini_thoughts_are_output() -> None:
    body = _bodies("test_google/test_google_model.yaml")[0]
    meta = body["usageMetadata"]
    usage = Usage(
        prompt_tokens=meta["promptTokenCount"],
        completion_tokens=meta["candidatesTokenCount"] + meta["thoughtsTokenCount"],
        reasoning_tokens=meta["thoughtsTokenCount"],
    )
    assert (usage.prompt_tokens, usage.completion_tokens) == (9, 43)
    price = resolve_price("gemini", body["modelVersion"], None, WHEN)
    assert price is not None
    # gemini-2.5-flash: $0.30 input, $2.50 output per Mtok
    assert (price.input, price.output) == (0.3, 2.5)
    expected = (9 * 0.3 + 43 * 2.5) / 1e6
    assert cost(usage, price) == pytest.approx(expected, abs=1e-9)
    assert cost(usage, price) == pytest.approx(_calc(usage, "gemini-2.5-flash", "google"), abs=1e-9)


# --- DeepSeek: dated and time-of-day prices are resolved for an instant -----------------


@pytest.mark.parametrize(
    ("when", "rates"),
    [
        # from 2026-09-10: $0.15 input, $0.003 cache read, $0.60 output
        (datetime(2026, 9, 15, 12, 0, tzinfo=UTC), (0.15, 0.003, 0.6)),
        # 06:00-10:00 UTC window: $0.30 / $0.006 / $1.20
        (datetime(2026, 9, 15, 7, 0, tzinfo=UTC), (0.3, 0.006, 1.2)),
        # before 2026-08-17: $0.14 / $0.0028 / $0.28
        (datetime(2026, 8, 1, 12, 0, tzinfo=UTC), (0.14, 0.0028, 0.28)),
    ],
)
def test_deepseek_price_depends_on_when(when: datetime, rates: tuple[float, float, float]) -> None:
    body = _bodies("test_deepseek/test_deepseek_deferred_capability_with_thinking.yaml")[0]
    raw = body["usage"]
    usage = Usage(
        prompt_tokens=raw["prompt_tokens"],
        completion_tokens=raw["completion_tokens"],
        cached_tokens=raw["prompt_tokens_details"]["cached_tokens"],
        reasoning_tokens=raw["completion_tokens_details"]["reasoning_tokens"],
    )
    assert (usage.prompt_tokens, usage.cached_tokens, usage.completion_tokens) == (563, 512, 116)
    price = resolve_price("deepseek", body["model"], None, when)
    assert price is not None
    inp, read, out = rates
    assert (price.input, price.cache_read, price.output) == rates
    expected = ((563 - 512) * inp + 512 * read + 116 * out) / 1e6
    assert cost(usage, price) == pytest.approx(expected, abs=1e-9)
    assert cost(usage, price) == pytest.approx(
        _calc(usage, body["model"], "deepseek", when), abs=1e-9
    )


# --- tiers --------------------------------------------------------------------------


def test_gemini_pro_tier_applies_above_200k_prompt_tokens() -> None:
    price = resolve_price("google", "gemini-2.5-pro", None, WHEN)
    assert price is not None
    # base $1.25 / $10 / $0.125; above 200k: $2.50 / $15 / $0.25
    big = Usage(prompt_tokens=250_000, completion_tokens=1_000, cached_tokens=50_000)
    expected = (200_000 * 2.5 + 50_000 * 0.25 + 1_000 * 15.0) / 1e6
    assert cost(big, price) == pytest.approx(expected, abs=1e-9)
    assert cost(big, price) == pytest.approx(_calc(big, "gemini-2.5-pro", "google"), abs=1e-9)
    edge = Usage(prompt_tokens=200_000, completion_tokens=1_000)
    assert cost(edge, price) == pytest.approx((200_000 * 1.25 + 1_000 * 10.0) / 1e6, abs=1e-9)
    assert cost(edge, price) == pytest.approx(_calc(edge, "gemini-2.5-pro", "google"), abs=1e-9)


def test_tier_fields_left_unset_inherit_the_base() -> None:
    price = Price(
        input=1.0,
        output=2.0,
        cache_read=0.1,
        tiers=(PriceTier(above_prompt_tokens=100, input=5.0),),
    )
    usage = Usage(prompt_tokens=1_000, completion_tokens=10, cached_tokens=400)
    assert cost(usage, price) == pytest.approx((600 * 5.0 + 400 * 0.1 + 10 * 2.0) / 1e6, abs=1e-12)


# --- pure arithmetic -----------------------------------------------------------------


def test_request_fee_and_missing_cache_prices() -> None:
    price = Price(input=2.0, output=8.0, request=0.004)
    usage = Usage(
        prompt_tokens=1_000, completion_tokens=500, cached_tokens=300, cache_write_tokens=200
    )
    # no cache prices: cache reads and writes are billed as input
    assert cost(usage, price) == pytest.approx((1_000 * 2.0 + 500 * 8.0) / 1e6 + 0.004, abs=1e-12)


def test_own_reasoning_price() -> None:
    price = Price(input=1.0, output=10.0, reasoning=20.0)
    usage = Usage(prompt_tokens=100, completion_tokens=100, reasoning_tokens=40)
    assert cost(usage, price) == pytest.approx((100 * 1.0 + 60 * 10.0 + 40 * 20.0) / 1e6, abs=1e-12)


def test_empty_price_costs_nothing() -> None:
    assert cost(Usage(prompt_tokens=10, completion_tokens=10), Price()) == 0.0


# --- resolution -----------------------------------------------------------------------


def test_vendor_names_map_to_genai_prices_ids() -> None:
    assert genai_provider_id("gemini") == "google"
    assert genai_provider_id("xai") == "x-ai"
    assert genai_provider_id("bedrock") == "aws"
    assert genai_provider_id("google-vertex/us-east5") == "google"
    assert genai_provider_id("groq") == "groq"
    grok = resolve_price("xai", "grok-3", None, WHEN)
    assert grok is not None
    assert (grok.input, grok.output, grok.cache_read) == (3.0, 15.0, 0.75)
    haiku = resolve_price("bedrock", "anthropic.claude-3-haiku-20240307-v1:0", None, WHEN)
    assert haiku is not None
    assert (haiku.input, haiku.output) == (0.25, 1.25)


def test_override_wins_field_by_field() -> None:
    price = resolve_price("groq", "llama-3.3-70b-versatile", Price(output=1.0), WHEN)
    # genai-prices: $0.59 input, $0.79 output
    assert price == Price(input=0.59, output=1.0)


def test_override_of_a_token_price_drops_listed_tiers() -> None:
    price = resolve_price("google", "gemini-2.5-pro", Price(input=1.0), WHEN)
    assert price is not None
    assert (price.input, price.output, price.tiers) == (1.0, 10.0, None)
    fee_only = resolve_price("google", "gemini-2.5-pro", Price(request=0.01), WHEN)
    assert fee_only is not None
    assert fee_only.tiers is not None
    assert fee_only.request == 0.01


def test_unknown_models_and_local_servers_have_no_price() -> None:
    assert resolve_price("sim-fast", "sim-model", None, WHEN) is None
    assert resolve_price("openai", "no-such-model-xyz", None, WHEN) is None
    assert resolve_price("ollama", "llama3", None, WHEN) is None
    assert resolve_price("sim-fast", "m", Price(input=1.0), WHEN) == Price(input=1.0)


def test_merge_price_keeps_base_where_override_is_unset() -> None:
    base = Price(input=1.0, output=2.0, cache_read=0.5, request=0.1)
    assert merge_price(base, Price(cache_read=0.2)) == Price(
        input=1.0, output=2.0, cache_read=0.2, request=0.1
    )
