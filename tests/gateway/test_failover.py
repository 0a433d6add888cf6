"""Failover under faults, through real sockets: last resorts, retry-after
cooldowns, probes, retries with backoff, the request deadline, and the log
line of a failed attempt."""

from __future__ import annotations

import dataclasses
import json
import logging
import time
from typing import Any

import anthropic
import openai
import pytest

from conftest import Stack
from junction.config import Retry
from junction.gateway.failover import worth_retrying
from junction.types import UpstreamError, upstream_error

HI = [{"role": "user", "content": "echo: hi"}]


def client(gw: Stack) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(base_url=f"{gw.url}/v1", api_key="k", max_retries=0)


def endpoint_id(gw: Stack, model: str, index: int) -> str:
    found: str = gw.gateway.routes[model].endpoints[index].info.id
    return found


def policy(gw: Stack, **changes: object) -> None:
    """This test's failover policy (the ``gw`` fixture restores the config's)."""
    gw.gateway.failover = dataclasses.replace(gw.gateway.failover, **changes)


def break_circuit(gw: Stack, ep_id: str, age_s: float = 0.0) -> None:
    """Open an endpoint's circuit as ``age_s`` seconds ago (threshold: 5 failures)."""
    now = gw.gateway.clock() - age_s
    for _ in range(5):
        gw.gateway.stats.record(
            ep_id,
            ok=False,
            timeout=False,
            status=500,
            ttft_ms=None,
            latency_ms=1.0,
            output_tokens=0,
            now=now,
        )


async def served_by(gw: Stack, model: str, **extra: object) -> str:
    raw = await client(gw).chat.completions.with_raw_response.create(
        model=model, messages=HI, **extra
    )
    provider: str = json.loads(raw.text)["provider"]
    return provider


async def generation(gw: Stack, response_id: str) -> dict[str, object]:
    r = await gw.http.get("/api/v1/generation", params={"id": response_id})
    assert r.status_code == 200, r.text
    data: dict[str, object] = r.json()["data"]
    return data


async def test_an_open_circuit_stays_as_the_last_resort(gw: Stack) -> None:
    break_circuit(gw, endpoint_id(gw, "test/pair-openai", 1))  # the backup
    await gw.sim_model("primary-openai", {"faults": {"server_error": 1.0}})
    assert await served_by(gw, "test/pair-openai") == "openai-backup"


async def test_an_open_circuit_goes_behind_a_healthy_endpoint(gw: Stack) -> None:
    break_circuit(gw, endpoint_id(gw, "test/pair-openai", 0))  # the primary, first by config
    for _ in range(3):
        assert await served_by(gw, "test/pair-openai") == "openai-backup"
    assert (await gw.sim_stats())["by_model"].get("primary-openai", 0) == 0


async def test_retry_after_is_a_cooldown_for_that_deployment(gw: Stack) -> None:
    await gw.sim_model("primary-openai", {"retry_after_s": 30})
    await gw.sim_fail("primary-openai", "rate_limit", 1)
    # The 429 fails over at once; the primary then rests for its 30 s.
    assert [await served_by(gw, "test/pair-openai") for _ in range(7)] == ["openai-backup"] * 7
    assert (await gw.sim_stats())["by_model"]["primary-openai"] == 1


async def test_a_fallback_model_that_is_never_called_takes_no_probe(gw: Stack) -> None:
    unused = endpoint_id(gw, "test/pair-anthropic", 0)  # first in its model's plan
    break_circuit(gw, unused, age_s=40.0)  # opened 40 s ago, cool-down 30 s: half-open
    stats = gw.gateway.stats
    assert stats.circuit_state(unused, now=gw.gateway.clock()) == "half_open"
    # A stream plans every model of the list before its first byte.
    stream = await client(gw).chat.completions.create(
        model="test/single-openai",
        messages=HI,
        stream=True,
        extra_body={"models": ["test/pair-anthropic"]},
    )
    text = "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])
    assert text == "hi"
    assert stats.circuit_state(unused, now=gw.gateway.clock()) == "half_open"


async def test_the_probe_is_given_back_when_its_attempt_fails(gw: Stack) -> None:
    probed = endpoint_id(gw, "test/pair-openai", 0)
    break_circuit(gw, probed, age_s=40.0)
    await gw.sim_fail("primary-openai", "server_error", 1)
    # Half-open, first by config: this request probes it, fails, fails over.
    assert await served_by(gw, "test/pair-openai") == "openai-backup"
    stats = gw.gateway.stats
    assert stats.circuit_state(probed, now=gw.gateway.clock()) == "open"  # a full cool-down
    assert stats.circuit_state(probed, now=gw.gateway.clock() + 30.0) == "half_open"


async def test_a_lone_endpoint_is_retried_after_a_jittered_backoff(gw: Stack) -> None:
    policy(gw, retry=Retry(attempts=1, backoff=0.4, max_backoff=2.0))
    await gw.sim_fail("single-openai", "server_error", 1)
    started = time.perf_counter()
    completion = await client(gw).chat.completions.create(model="test/single-openai", messages=HI)
    elapsed = time.perf_counter() - started
    assert completion.choices[0].message.content == "hi"
    assert elapsed >= 0.2  # backoff 0.4 s times a jitter of 0.5-1
    data = await generation(gw, completion.id)
    statuses = [a["status"] for a in data["provider_responses"]]  # type: ignore[attr-defined]
    assert statuses == [502, 200]


async def test_no_retry_when_the_policy_says_none(gw: Stack) -> None:
    policy(gw, retry=Retry(attempts=0))
    await gw.sim_fail("single-openai", "server_error", 1)
    with pytest.raises(openai.InternalServerError):
        await client(gw).chat.completions.create(model="test/single-openai", messages=HI)


async def test_a_short_retry_after_is_waited_for_a_long_one_is_not(gw: Stack) -> None:
    await gw.sim_model("single-openai", {"retry_after_s": 0.6})
    await gw.sim_fail("single-openai", "rate_limit", 1)
    started = time.perf_counter()
    completion = await client(gw).chat.completions.create(model="test/single-openai", messages=HI)
    assert completion.choices[0].message.content == "hi"
    assert time.perf_counter() - started >= 0.6
    await gw.sim_model("single-openai", {"retry_after_s": 30})
    await gw.sim_fail("single-openai", "rate_limit", 1)
    started = time.perf_counter()
    with pytest.raises(openai.RateLimitError) as caught:
        await client(gw).chat.completions.create(model="test/single-openai", messages=HI)
    assert time.perf_counter() - started < 5.0  # not 30 s
    assert caught.value.response.headers["retry-after"] == "30"


async def test_a_timeout_is_not_retried(gw: Stack) -> None:
    await gw.sim_model("quick-openai", {"ttft_ms": 3000})
    with pytest.raises(openai.APIStatusError) as caught:
        await client(gw).chat.completions.create(model="test/quick-openai", messages=HI)
    assert caught.value.status_code == 504
    assert (await gw.sim_stats())["by_model"]["quick-openai"] == 1


async def test_no_request_outlives_its_deadline(gw: Stack) -> None:
    policy(gw, request_timeout=0.8)
    for name in ("primary-openai", "backup-openai"):
        await gw.sim_model(name, {"faults": {"timeout": 1.0}, "hang_ms": 20_000})
    started = time.perf_counter()
    with pytest.raises(openai.APIStatusError) as caught:
        await client(gw).chat.completions.create(model="test/pair-openai", messages=HI)
    elapsed = time.perf_counter() - started
    assert caught.value.status_code == 504
    assert "deadline of 0.8 s (timeouts.request)" in caught.value.message
    assert caught.value.code == "request_deadline"
    assert 0.8 <= elapsed < 1.3
    # The Anthropic door: the same 504, in its own shape.
    ant = anthropic.AsyncAnthropic(base_url=gw.url, api_key="k", max_retries=0)
    with pytest.raises(anthropic.APIStatusError) as refused:
        await ant.messages.create(model="test/pair-openai", max_tokens=16, messages=HI)  # type: ignore[arg-type]
    assert refused.value.status_code == 504
    body = refused.value.response.json()
    assert body["type"] == "error"
    assert "timeouts.request" in body["error"]["message"]


async def test_a_stream_ends_at_the_deadline_with_an_error_chunk(gw: Stack) -> None:
    policy(gw, request_timeout=1.0)
    await gw.sim_model("single-openai", {"tokens_per_second": 5, "output_tokens": 100})
    started = time.perf_counter()
    async with gw.http.stream(
        "POST",
        "/v1/chat/completions",
        json={
            "model": "test/single-openai",
            "stream": True,
            "messages": [{"role": "user", "content": "a long answer please"}],
        },
    ) as r:
        assert r.status_code == 200
        body = (await r.aread()).decode()
    elapsed = time.perf_counter() - started
    data = [line[6:] for line in body.splitlines() if line.startswith("data: ")]
    assert "[DONE]" not in data  # the error chunk ends the stream, as OpenAI's does
    last = json.loads(data[-1])
    assert last["choices"][0]["finish_reason"] == "error"
    assert "deadline of 1 s (timeouts.request)" in last["error"]["message"]
    assert 1.0 <= elapsed < 1.5


async def test_each_failed_attempt_is_logged_once(
    gw: Stack, caplog: pytest.LogCaptureFixture
) -> None:
    await gw.sim_fail("primary-openai", "server_error", 1)
    with caplog.at_level(logging.INFO, logger="junction.gateway"):
        completion = await client(gw).chat.completions.create(
            model="test/pair-openai",
            messages=[{"role": "user", "content": "a long answer please"}],
            stream=True,
        )
        chunks = [c async for c in completion]
        await client(gw).chat.completions.create(model="test/pair-openai", messages=HI)
    assert len(chunks) > 2
    lines = [r for r in caplog.records if r.name == "junction.gateway"]
    assert len(lines) == 1  # nothing for the chunks, nothing for the answered request
    (line,) = lines
    assert line.levelno == logging.WARNING
    text = line.getMessage()
    assert f"request={chunks[0].id}" in text
    for field in ("endpoint=openai-primary", "kind=server", "status=502", "upstream_status=500"):
        assert field in text
    assert "latency_ms=" in text
    assert "simulated" not in text.lower()  # the provider's own message is not logged


def test_which_failures_are_worth_retrying_the_same_endpoint() -> None:
    def failure(status: int | None, **extra: Any) -> UpstreamError:
        if status is None:  # no answer at all (refused, reset, unreadable)
            return UpstreamError("provider_unavailable", "x", provider="p", retryable=True)
        return upstream_error("p", status, "x", **extra)

    assert worth_retrying(failure(500), 2.0)
    assert worth_retrying(failure(503), 2.0)
    assert worth_retrying(failure(429), 2.0)
    assert worth_retrying(failure(429, retry_after=1.5), 2.0)
    assert not worth_retrying(failure(429, retry_after=30), 2.0)  # longer than max_backoff
    assert worth_retrying(failure(None), 2.0)
    assert not worth_retrying(failure(409), 2.0)  # fails over, but no same-endpoint retry
    assert not worth_retrying(failure(400), 2.0)
    assert not worth_retrying(failure(504), 2.0)  # a timeout
    timeout = UpstreamError("timeout", "x", provider="p", status=504, retryable=True)
    assert not worth_retrying(timeout, 2.0)
