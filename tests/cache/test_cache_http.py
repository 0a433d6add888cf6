"""The response cache through the real app over sockets, with the official
SDKs: a hit answers without calling upstream (the simulator's request
counter proves it), in the calling door's dialect, replayed as a stream
when asked; the controls, the limits and the request log around it."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anthropic
import httpx
import openai
import pytest
from google import genai
from google.genai import types
from prometheus_client.parser import text_string_to_metric_families

from _cache_stack import Stack, cache_config, gateway, simulator

HI = [{"role": "user", "content": "echo: cached words travel far"}]


@pytest.fixture
async def stack(tmp_path: Path) -> AsyncIterator[Stack]:
    async with (
        simulator() as (_, sim_url),
        gateway(cache_config(sim_url, tmp_path / "junction.db"), sim_url) as s,
    ):
        yield s


async def ask(
    client: openai.AsyncOpenAI, headers: dict[str, str] | None = None, **body: Any
) -> tuple[Any, httpx.Headers]:
    raw = await client.chat.completions.with_raw_response.create(
        **{"model": "sim/openai", "messages": HI, "max_tokens": 32, **body},
        extra_headers=headers or {},
    )
    return raw.parse(), raw.headers


async def test_a_hit_is_answered_without_calling_upstream(stack: Stack) -> None:
    async with stack.openai() as client:
        first, h1 = await ask(client)
        calls = await stack.upstream_calls()
        second, h2 = await ask(client)
        assert await stack.upstream_calls() == calls
    assert (h1["x-junction-cache"], h2["x-junction-cache"]) == ("miss", "hit")
    assert second.choices[0].message.content == first.choices[0].message.content
    assert second.choices[0].finish_reason == first.choices[0].finish_reason
    assert second.usage.prompt_tokens == first.usage.prompt_tokens
    assert second.usage.completion_tokens == first.usage.completion_tokens
    assert second.id != first.id  # the hit is a request of its own


async def test_a_cached_answer_is_replayed_as_a_stream(stack: Stack) -> None:
    async with stack.openai() as client:
        first, _ = await ask(client)
        calls = await stack.upstream_calls()
        raw = await client.chat.completions.with_raw_response.create(
            model="sim/openai",
            messages=HI,  # type: ignore[arg-type]
            max_tokens=32,
            stream=True,
            stream_options={"include_usage": True},
        )
        chunks = [c async for c in raw.parse()]
        assert await stack.upstream_calls() == calls
    assert raw.headers["x-junction-cache"] == "hit"
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == first.choices[0].message.content
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices]
    assert finishes[-1] == "stop"
    usage = chunks[-1].usage
    assert usage is not None
    assert usage.completion_tokens == first.usage.completion_tokens


async def test_a_stream_asking_for_logprobs_is_never_cached(stack: Stack) -> None:
    """The canonical stream has no logprob event: such a stream is neither
    served from the cache (its logprobs would be dropped) nor kept (what it
    collects has none for a plain request with the same key)."""

    async def stream_once(client: openai.AsyncOpenAI) -> str:
        raw = await client.chat.completions.with_raw_response.create(
            model="sim/openai",
            messages=HI,  # type: ignore[arg-type]
            max_tokens=32,
            logprobs=True,
            stream=True,
        )
        _ = [c async for c in raw.parse()]
        header: str = raw.headers["x-junction-cache"]
        return header

    async with stack.openai() as client:
        calls = await stack.upstream_calls()
        assert [await stream_once(client), await stream_once(client)] == ["bypass", "bypass"]
        assert await stack.upstream_calls() == calls + 2
        _, plain = await ask(client, logprobs=True)
        assert plain["x-junction-cache"] == "miss"  # the streams kept nothing
        _, again = await ask(client, logprobs=True)
        assert again["x-junction-cache"] == "hit"  # a plain answer is kept as usual
        assert await stack.upstream_calls() == calls + 3


async def test_a_streamed_answer_is_kept_and_served_plain(stack: Stack) -> None:
    async with stack.openai() as client:
        stream = await client.chat.completions.create(
            model="sim/openai",
            messages=HI,
            max_tokens=32,
            stream=True,  # type: ignore[arg-type]
        )
        text = "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])
        await stack.kept()  # the entry is written after the stream ends
        calls = await stack.upstream_calls()
        again, headers = await ask(client)
        assert await stack.upstream_calls() == calls
    assert headers["x-junction-cache"] == "hit"
    assert again.choices[0].message.content == text


async def test_every_door_answers_a_hit_in_its_dialect(stack: Stack) -> None:
    """One answer, kept once, read back through OpenAI chat, Responses,
    Anthropic and Gemini (plain and streamed): no door calls upstream."""
    prompt = "echo: one answer four doors"
    async with stack.openai() as client:
        await ask(client, messages=[{"role": "user", "content": prompt}])
    calls = await stack.upstream_calls()

    async with stack.anthropic() as claude:
        raw = await claude.messages.with_raw_response.create(
            model="sim/openai", max_tokens=32, messages=[{"role": "user", "content": prompt}]
        )
        message = await raw.parse()
        assert raw.headers["x-junction-cache"] == "hit"
        assert message.content[0].type == "text"
        assert message.content[0].text == "one answer four doors"
        async with claude.messages.stream(
            model="sim/openai", max_tokens=32, messages=[{"role": "user", "content": prompt}]
        ) as stream:
            streamed = await stream.get_final_message()
        assert stream.response.headers["x-junction-cache"] == "hit"
        assert [b.text for b in streamed.content if b.type == "text"] == ["one answer four doors"]
        assert streamed.stop_reason == "end_turn"
        assert streamed.usage.output_tokens == message.usage.output_tokens

    async with stack.openai() as client:
        raw_r = await client.responses.with_raw_response.create(
            model="sim/openai", input=prompt, max_output_tokens=32
        )
        assert raw_r.headers["x-junction-cache"] == "hit"
        assert raw_r.parse().output_text == "one answer four doors"
        events = [
            e
            async for e in await client.responses.create(
                model="sim/openai", input=prompt, max_output_tokens=32, stream=True
            )
        ]
        done = [e for e in events if e.type == "response.completed"]
        assert done
        assert done[0].response.output_text == "one answer four doors"

    gemini = genai.Client(
        api_key="sk-master-cache-0001",
        http_options=types.HttpOptions(base_url=stack.url, api_version="v1beta"),
    )
    config = types.GenerateContentConfig(max_output_tokens=32)
    answer = await gemini.aio.models.generate_content(
        model="sim/openai", contents=prompt, config=config
    )
    assert answer.text == "one answer four doors"
    chunks = [
        c
        async for c in await gemini.aio.models.generate_content_stream(
            model="sim/openai", contents=prompt, config=config
        )
    ]
    assert "".join(c.text or "" for c in chunks) == "one answer four doors"
    assert await stack.upstream_calls() == calls


async def test_tool_calls_are_replayed(stack: Stack) -> None:
    weather = {
        "name": "get_weather",
        "description": "weather of a city",
        "input_schema": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    }
    body: dict[str, Any] = {
        "model": "sim/anthropic",
        "max_tokens": 256,
        "tools": [weather],
        "tool_choice": {"type": "tool", "name": "get_weather"},
        "messages": [{"role": "user", "content": "Weather in Lima?"}],
    }
    async with stack.anthropic() as claude:
        first = await claude.messages.create(**body)
        calls = await stack.upstream_calls()
        async with claude.messages.stream(**body) as stream:
            again = await stream.get_final_message()
        assert await stack.upstream_calls() == calls
    assert again.stop_reason == first.stop_reason == "tool_use"
    uses = [(b.name, b.input) for b in again.content if b.type == "tool_use"]
    assert uses == [(b.name, b.input) for b in first.content if b.type == "tool_use"]


async def test_controls_no_cache_no_store_and_ttl(stack: Stack) -> None:
    async with stack.openai() as client:
        await ask(client)
        calls = await stack.upstream_calls()
        _, bypass = await ask(client, {"cache-control": "no-cache"})
        assert bypass["x-junction-cache"] == "bypass"
        assert await stack.upstream_calls() == calls + 1

        other = [{"role": "user", "content": "echo: not to be kept"}]
        _, h = await ask(client, {"cache-control": "no-store"}, messages=other)
        assert h["x-junction-cache"] == "miss"
        _, h = await ask(client, {"x-junction-cache-ttl": "0"}, messages=other)
        assert h["x-junction-cache"] == "miss"
        _, h = await ask(client, messages=other)
        assert h["x-junction-cache"] == "miss"  # neither no-store nor ttl 0 kept it
        await stack.kept()
        _, h = await ask(client, messages=other)
        assert h["x-junction-cache"] == "hit"

        _, h = await ask(client, {"x-junction-cache-namespace": "team-a"})
        assert h["x-junction-cache"] == "miss"  # namespaces share nothing

        for junk in ("soon", "-5", "7200"):  # 7200 > cache.max_ttl (3600)
            with pytest.raises(openai.BadRequestError) as caught:
                await ask(client, {"x-junction-cache-ttl": junk})
            assert "x-junction-cache-ttl" in caught.value.message
    async with stack.anthropic() as claude:
        with pytest.raises(anthropic.BadRequestError) as bad:
            await claude.messages.create(
                model="sim/openai",
                max_tokens=32,
                messages=HI,  # type: ignore[arg-type]
                extra_headers={"x-junction-cache-ttl": "forever"},
            )
    body = bad.value.body
    assert isinstance(body, dict)
    assert body["type"] == "error"
    assert "x-junction-cache-ttl" in json.dumps(body)


async def test_expired_entries_are_misses(stack: Stack) -> None:
    async with stack.openai() as client:
        await ask(client, {"x-junction-cache-ttl": "0.2"})
        await stack.kept()
        await asyncio.sleep(0.3)
        _, h = await ask(client)
    assert h["x-junction-cache"] == "miss"


async def test_errors_and_cut_or_cancelled_streams_are_never_kept(stack: Stack) -> None:
    async with stack.openai() as client:
        await stack.sim_fail("gpt-4o-mini", "bad_request")
        with pytest.raises(openai.BadRequestError):
            await ask(client)
        _, h = await ask(client)
        assert h["x-junction-cache"] == "miss"  # the error was not kept

        cut = [{"role": "user", "content": "echo: " + " ".join(f"w{i}" for i in range(40))}]
        await stack.sim_fail("gpt-4o-mini", "stream_cut")
        stream = await client.chat.completions.create(
            model="sim/openai",
            messages=cut,
            max_tokens=64,
            stream=True,  # type: ignore[arg-type]
        )
        with pytest.raises(openai.APIError):
            async for _ in stream:
                pass
        await stack.kept()
        _, h = await ask(client, messages=cut, max_tokens=64)
        assert h["x-junction-cache"] == "miss"  # the cut stream was not kept

        slow = [{"role": "user", "content": "echo: " + " ".join(f"s{i}" for i in range(60))}]
        await stack.sim_model("gpt-4o-mini", {"tokens_per_second": 40})
        stream = await client.chat.completions.create(
            model="sim/openai",
            messages=slow,
            max_tokens=128,
            stream=True,  # type: ignore[arg-type]
        )
        async for _ in stream:
            break  # the client goes away after the first chunk
        await stream.close()
        await stack.sim_model("gpt-4o-mini", {"tokens_per_second": 0})
        await asyncio.sleep(0.1)  # the gateway sees the client go
        await stack.kept()
        _, h = await ask(client, messages=slow, max_tokens=128)
        assert h["x-junction-cache"] == "miss"  # the cancelled stream was not kept


async def test_limits_apply_to_a_hit_which_costs_nothing_and_is_logged(stack: Stack) -> None:
    key = await stack.key(rpm=3, budget_usd=1.0)
    async with stack.openai(key) as client:
        first, _ = await ask(client)
        hit, h = await ask(client)
        assert h["x-junction-cache"] == "hit"
        assert h["x-ratelimit-remaining-requests"] == "1"  # the hit counted as a request
        await ask(client)
        with pytest.raises(openai.RateLimitError):
            await ask(client)  # the answer is cached, the key's rpm still holds

    miss_row, hit_row = await stack.row(first.id), await stack.row(hit.id)
    assert (miss_row["cache_hit"], hit_row["cache_hit"]) == (False, True)
    assert miss_row["cost"] > 0
    assert hit_row["cost"] == 0
    assert hit_row["saved_cost"] == pytest.approx(miss_row["cost"])
    assert miss_row["saved_cost"] is None
    assert hit_row["prompt_tokens"] == miss_row["prompt_tokens"]
    assert hit_row["provider"] == ""  # no provider served it
    assert hit_row["status"] == 200

    r = await stack.admin.get("/admin/spend", params={"by": "key"})
    assert r.status_code == 200, r.text
    mine = [g for g in r.json()["data"] if g["key"] == hit_row["key_id"]]
    assert sum(g["cache_hits"] for g in mine) == 2
    assert sum(g["cache_savings"] for g in mine) == pytest.approx(2 * miss_row["cost"])
    assert sum(g["cost"] for g in mine) == pytest.approx(miss_row["cost"])

    # The key's budget was charged for the one answer from upstream, not the hits.
    assert await stack.spent(hit_row["key_id"]) == pytest.approx(miss_row["cost"])


async def test_the_master_key_and_keyless_gateways_are_cached_too(tmp_path: Path) -> None:
    async with simulator() as (_, sim_url):
        config = cache_config(sim_url, tmp_path / "junction.db")
        config.server.master_key = None
        config.stores.database_url = "memory://"
        async with gateway(config, sim_url) as s, s.openai("anything") as client:
            await ask(client)
            calls = await s.upstream_calls()
            _, h = await ask(client)
            assert h["x-junction-cache"] == "hit"
            assert await s.upstream_calls() == calls


async def test_no_header_when_the_cache_is_off(tmp_path: Path) -> None:
    async with simulator() as (_, sim_url):
        config = cache_config(sim_url, tmp_path / "junction.db")
        config.cache.enabled = False
        async with gateway(config, sim_url) as s, s.openai() as client:
            await ask(client)
            calls = await s.upstream_calls()
            _, h = await ask(client, {"x-junction-cache-ttl": "junk, ignored"})
            assert "x-junction-cache" not in h
            assert await s.upstream_calls() == calls + 1


async def test_hits_and_misses_are_counted_in_the_metrics(stack: Stack) -> None:
    async with stack.openai() as client:
        await ask(client)
        await ask(client)
        await ask(client)
        await ask(client, {"cache-control": "no-cache"})  # bypassed: neither
    r = await stack.admin.get("/metrics")
    assert r.status_code == 200
    counted = {
        s.labels["result"]: s.value
        for family in text_string_to_metric_families(r.text)
        if family.name == "junction_cache_hits"
        for s in family.samples
        if s.name == "junction_cache_hits_total"
    }
    assert counted == {"hit": 2, "miss": 1}
