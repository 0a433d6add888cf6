"""Failure basics through real sockets: timeouts, resets, cut streams,
client disconnects, connection failures, unsupported parameters."""

from __future__ import annotations

import asyncio
import json

import openai
import pytest

from _openapi import validator
from conftest import DIALECTS, Stack


def client(gw: Stack) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(base_url=f"{gw.url}/v1", api_key="k", max_retries=0)


def frames(raw: str) -> list[str]:
    return [line[6:] for line in raw.splitlines() if line.startswith("data: ")]


@pytest.mark.parametrize("dialect", DIALECTS)
async def test_first_token_timeout_is_504(gw: Stack, dialect: str) -> None:
    await gw.sim_model(f"quick-{dialect}", {"ttft_ms": 3000})
    with pytest.raises(openai.APIStatusError) as caught:
        await client(gw).chat.completions.create(
            model=f"test/quick-{dialect}", messages=[{"role": "user", "content": "hi"}]
        )
    assert caught.value.status_code == 504
    assert "first-token timeout" in caught.value.message
    assert f"{dialect}-quick" in caught.value.message


async def test_total_timeout_ends_a_stream_with_an_error_chunk(gw: Stack) -> None:
    # 2 tokens/s for 24 tokens: far longer than the 1.5 s total timeout.
    await gw.sim_model("quick-openai", {"tokens_per_second": 2})
    async with gw.http.stream(
        "POST",
        "/v1/chat/completions",
        json={
            "model": "test/quick-openai",
            "stream": True,
            "messages": [{"role": "user", "content": "x"}],
        },
    ) as r:
        assert r.status_code == 200
        body = (await r.aread()).decode()
    data = frames(body)
    # OpenAI's own behaviour: the error chunk ends the stream, no [DONE]
    # after it (a client waiting for [DONE] must not read it as complete).
    assert "[DONE]" not in data
    last = json.loads(data[-1])
    assert last["choices"][0]["finish_reason"] == "error"
    assert "total timeout" in last["error"]["message"]


async def test_stream_cut_mid_way_reaches_the_client_as_an_error(gw: Stack) -> None:
    await gw.sim_fail("single-anthropic", "stream_cut", 1)
    stream = await client(gw).chat.completions.create(
        model="test/single-anthropic",
        messages=[{"role": "user", "content": "a long answer please"}],
        stream=True,
    )
    got: list[object] = []

    async def drain() -> None:
        async for chunk in stream:
            got.append(chunk)

    with pytest.raises(openai.APIError) as caught:
        await drain()
    assert got, "content before the cut was relayed"
    assert "anthropic-single" in str(caught.value)


async def test_stream_fails_over_before_the_first_byte(gw: Stack) -> None:
    await gw.sim_fail("primary-gemini", "reset", 1)
    stream = await client(gw).chat.completions.create(
        model="test/pair-gemini", messages=[{"role": "user", "content": "echo: fine"}], stream=True
    )
    text = "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])
    assert text == "fine"


async def test_connection_refused_fails_over(gw: Stack) -> None:
    raw = await client(gw).chat.completions.with_raw_response.create(
        model="test/dead-then-alive", messages=[{"role": "user", "content": "echo: alive"}]
    )
    assert json.loads(raw.text)["provider"] == "alive"


async def test_all_endpoints_failing_names_each(gw: Stack) -> None:
    await gw.sim_model("primary-openai", {"faults": {"unavailable": 1.0}})
    await gw.sim_model("backup-openai", {"faults": {"unavailable": 1.0}})
    with pytest.raises(openai.APIStatusError) as caught:
        await client(gw).chat.completions.create(
            model="test/pair-openai", messages=[{"role": "user", "content": "hi"}]
        )
    assert caught.value.status_code == 503
    assert "openai-primary" in caught.value.message
    assert "openai-backup" in caught.value.message


async def test_client_disconnect_cancels_the_upstream_call(gw: Stack) -> None:
    await gw.sim_model("single-openai", {"tokens_per_second": 5, "output_tokens": 200})
    async with gw.http.stream(
        "POST",
        "/v1/chat/completions",
        json={
            "model": "test/single-openai",
            "stream": True,
            "messages": [{"role": "user", "content": "long"}],
        },
    ) as r:
        async for _ in r.aiter_bytes():
            break
        assert (await gw.sim_stats())["in_flight"] == 1
    # The client has gone; the gateway must close its upstream call promptly
    # (the simulated answer would otherwise run for 40 s).
    for _ in range(100):
        if (await gw.sim_stats())["in_flight"] == 0:
            break
        await asyncio.sleep(0.05)
    assert (await gw.sim_stats())["in_flight"] == 0


async def test_unsupported_parameter_is_dropped_with_a_warning(gw: Stack) -> None:
    r = await gw.http.post(
        "/v1/chat/completions",
        json={
            "model": "sim/anthropic",
            "messages": [{"role": "user", "content": "hi"}],
            "logprobs": True,
            "seed": 7,
        },
    )
    assert r.status_code == 200
    warnings = r.json()["warnings"]
    assert any("logprobs" in w for w in warnings)
    assert any("seed" in w for w in warnings)
    sent = (await gw.sim_requests(1))[-1]["body"]
    assert "logprobs" not in sent
    assert "seed" not in sent


async def test_unsupported_parameter_is_refused_when_drop_params_is_off(gw: Stack) -> None:
    r = await gw.http.post(
        "/v1/chat/completions",
        json={
            "model": "test/strict-params",
            "messages": [{"role": "user", "content": "hi"}],
            "seed": 1,
        },
    )
    assert r.status_code == 400
    err = r.json()["error"]
    assert err["param"] == "seed"
    assert "drop_params" in err["message"]
    # ... and the request's own drop_params wins over the model's.
    r = await gw.http.post(
        "/v1/chat/completions",
        json={
            "model": "test/strict-params",
            "messages": [{"role": "user", "content": "hi"}],
            "seed": 1,
            "drop_params": True,
        },
    )
    assert r.status_code == 200


async def test_embeddings_float_and_base64(gw: Stack) -> None:
    c = client(gw)
    raw = await c.embeddings.with_raw_response.create(
        model="sim/embedding",
        input=["a router", "a gateway"],
        dimensions=8,
        encoding_format="float",
    )
    validator("CreateEmbeddingResponse").validate(json.loads(raw.text))
    floats = raw.parse()
    assert [len(d.embedding) for d in floats.data] == [8, 8]
    # The SDK asks for base64 by default and decodes it itself.
    b64 = await c.embeddings.create(
        model="sim/embedding", input=["a router", "a gateway"], dimensions=8
    )
    for packed, plain in zip(b64.data, floats.data, strict=True):
        assert packed.embedding == pytest.approx(plain.embedding, rel=1e-6)


async def test_embedding_model_refuses_chat(gw: Stack) -> None:
    r = await gw.http.post(
        "/v1/chat/completions",
        json={"model": "sim/embedding", "messages": [{"role": "user", "content": "hi"}]},
    )
    assert r.status_code == 400
    assert "embedding model" in r.json()["error"]["message"]


async def test_models_lists_the_config(gw: Stack) -> None:
    page = await client(gw).models.list()
    ids = {m.id for m in page.data}
    assert {"sim/openai", "sim/anthropic", "sim/gemini", "sim/embedding"} <= ids
    raw = await gw.http.get("/v1/models")
    validator("ListModelsResponse").validate(raw.json())


async def test_health(gw: Stack) -> None:
    r = await gw.http.get("/health")
    assert r.status_code == 200
    assert r.json()["status"] == "ok"
