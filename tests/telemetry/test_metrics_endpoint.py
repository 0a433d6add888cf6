"""/metrics through the real app over a socket, read with prometheus_client's
parser, against requests made with the openai SDK."""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from pathlib import Path

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
    assert total(fams, "junction_requests_total", key="config:alpha", **ok) == 3
    assert total(fams, "junction_requests_total", key="config:beta", **ok) == 1
    assert total(fams, "junction_requests_total", key="config:alpha", door="openai_chat", **ok) == 3
    assert total(fams, "junction_tokens_total", key="config:alpha", kind="prompt", **ok) == prompt
    assert (
        total(fams, "junction_tokens_total", key="config:alpha", kind="completion", **ok)
        == completion
    )
    assert (
        total(fams, "junction_tokens_total", key="config:beta", kind="completion", **ok)
        == streamed_usage.completion_tokens
    )
    broken = samples(fams, "junction_requests_total", model="test/broken", key="config:alpha")
    assert [(s.labels["status"], s.value) for s in broken] == [(str(failed_status), 1.0)]
    assert failed_status >= 500
    # An unknown model never reaches a provider: counted once the stages
    # make every request a record (then with status 404), never as a 200.
    unknown = samples(fams, "junction_requests_total", model="no/such-model")
    assert all(s.labels["status"] == "404" for s in unknown)
    assert total(fams, "junction_request_duration_seconds_count", key="config:alpha", **ok) == 3
    assert total(fams, "junction_time_to_first_token_seconds_count", key="config:beta", **ok) == 1
    assert total(fams, "junction_cost_usd_total", key="config:alpha", **ok) > 0
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


ACCEPTANCE = Path("/work/shared/acceptance/check_gateway.py")


@pytest.mark.skipif(not ACCEPTANCE.exists(), reason="the shared acceptance check is not here")
async def test_the_acceptance_checks_metrics_step_passes() -> None:
    """Runs the whole acceptance script against this gateway: the steps of
    the other helpers may fail here; its "prometheus metrics" step must not."""
    async with gateway() as (_, base):
        client = openai.AsyncOpenAI(base_url=f"{base}/v1", api_key="x", max_retries=0)
        await client.chat.completions.create(
            model="sim/openai", messages=[{"role": "user", "content": "hi"}], max_tokens=8
        )
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            str(ACCEPTANCE),
            base,
            "sk-unused",
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        out, _ = await asyncio.wait_for(proc.communicate(), 120)
    lines = out.decode().splitlines()
    assert lines, "the acceptance script printed nothing"
    assert lines[-1].startswith("gateway-ops:"), lines[-5:]
    assert not [line for line in lines if line.startswith("prometheus metrics")], lines


async def test_json_logs_write_one_line_per_request_through_the_app(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with gateway(telemetry="{json_logs: true}") as (_, base):
        client = openai.AsyncOpenAI(base_url=f"{base}/v1", api_key="x", max_retries=0)
        hello = [{"role": "user", "content": "a-body-marker-1234"}]
        with caplog.at_level(logging.INFO, logger="junction.requests"):
            answer = await client.chat.completions.create(
                model="sim/openai", messages=hello, max_tokens=8
            )
            with pytest.raises(openai.APIStatusError):
                await client.chat.completions.create(model="test/broken", messages=hello)
    lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == "junction.requests"]
    assert [(line["model"], line["status"]) for line in lines] == [
        ("sim/openai", 200),
        ("test/broken", 502),
    ]
    assert lines[0]["id"] == answer.id
    assert answer.usage is not None
    assert lines[0]["tokens"]["completion"] == answer.usage.completion_tokens
    assert lines[1]["error"] == "provider_unavailable"
    assert all("error" in a for a in lines[1]["attempts"])
    assert "a-body-marker" not in json.dumps(lines)  # no bodies
