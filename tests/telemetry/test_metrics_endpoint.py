"""/metrics through the real app over a socket, read with prometheus_client's
parser, against requests made with the openai SDK."""

from __future__ import annotations

import httpx
import openai
import pytest

from _telemetry_app import KEYS, gateway, samples, scrape, total


async def test_requests_tokens_and_statuses_match_what_the_client_saw() -> None:
    async with gateway(keys=KEYS) as (_app, base):
        alpha = openai.AsyncOpenAI(base_url=f"{base}/v1", api_key=KEYS["alpha"], max_retries=0)
        beta = openai.AsyncOpenAI(base_url=f"{base}/v1", api_key=KEYS["beta"], max_retries=0)
        hello = [{"role": "user", "content": "hi"}]
        prompt = completion = 0
        for _ in range(3):
            r = await alpha.chat.completions.create(
                model="sim/openai", messages=hello, max_tokens=8
            )
            assert r.usage is not None
            prompt += r.usage.prompt_tokens
            completion += r.usage.completion_tokens
        stream = await beta.chat.completions.create(
            model="sim/openai",
            messages=hello,
            max_tokens=8,
            stream=True,
            stream_options={"include_usage": True},
        )
        streamed_usage = None
        async for chunk in stream:
            streamed_usage = chunk.usage or streamed_usage
        assert streamed_usage is not None
        with pytest.raises(openai.APIStatusError) as failed:
            await alpha.chat.completions.create(model="test/broken", messages=hello)
        failed_status = failed.value.status_code
        with pytest.raises(openai.NotFoundError):
            await alpha.chat.completions.create(model="no/such-model", messages=hello)

        fams = await scrape(base)

    ok = {"model": "sim/openai", "deployment": "sim-openai", "status": "200"}
    assert total(fams, "junction_requests_total", key="alpha", **ok) == 3
    assert total(fams, "junction_requests_total", key="beta", **ok) == 1
    assert total(fams, "junction_requests_total", key="alpha", door="openai_chat", **ok) == 3
    assert total(fams, "junction_tokens_total", key="alpha", kind="prompt", **ok) == prompt
    assert total(fams, "junction_tokens_total", key="alpha", kind="completion", **ok) == completion
    assert (
        total(fams, "junction_tokens_total", key="beta", kind="completion", **ok)
        == streamed_usage.completion_tokens
    )
    broken = samples(fams, "junction_requests_total", model="test/broken", key="alpha")
    assert [(s.labels["status"], s.value) for s in broken] == [(str(failed_status), 1.0)]
    assert failed_status >= 500
    # An unknown model never reaches a provider: counted once the stages
    # make every request a record (then with status 404), never as a 200.
    unknown = samples(fams, "junction_requests_total", model="no/such-model")
    assert all(s.labels["status"] == "404" for s in unknown)
    assert total(fams, "junction_request_duration_seconds_count", key="alpha", **ok) == 3
    assert total(fams, "junction_time_to_first_token_seconds_count", key="beta", **ok) == 1
    assert total(fams, "junction_cost_usd_total", key="alpha", **ok) > 0
    assert total(fams, "junction_in_flight_requests") == 0
    circuit = samples(fams, "junction_circuit_state")
    assert {s.labels["deployment"] for s in circuit} == {"sim-openai", "broken"}
    assert {s.labels["result"] for s in samples(fams, "junction_cache_hits_total")} == {
        "hit",
        "miss",
    }
    assert "junction_store_errors" in fams
    assert "junction_limit_rejections" in fams
    # key ids, never secrets
    text = "".join(str(s) for f in fams.values() for s in f.samples)
    assert all(secret not in text for secret in KEYS.values())


async def test_metrics_off_is_a_404_in_the_openai_shape() -> None:
    async with gateway(telemetry="{metrics: false}") as (_, base), httpx.AsyncClient() as client:
        reply = await client.get(f"{base}/metrics")
    assert reply.status_code == 404
    assert "telemetry.metrics" in reply.json()["error"]["message"]
