"""SIGTERM under load: in-flight requests drain within the grace period,
new ones get 503, shutdown callbacks run after the last request."""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from aiohttp import web

from _front import Upstream, chat_request, exchange, fake_upstream, models_at, serving, status_of
from _procs import Junction, free_port

SLOW_PROFILE = """\
models:
  "*":
    ttft_ms: {ttft_ms}
    tokens_per_second: 0
    jitter: 0
    output_tokens: 4
    faults: {{}}
"""

CONFIG = """\
server:
  shutdown_grace: {grace}
models:
  test/slow:
    deployments:
      - {{provider: openai, model: slow, base_url: '{sim}/v1', api_key: k}}
"""


@pytest.fixture
def started() -> Iterator[list[Junction]]:
    procs: list[Junction] = []
    yield procs
    for p in procs:
        p.stop()


def stack(tmp_path: Path, started: list[Junction], ttft_ms: int, grace: float) -> Junction:
    """``junction sim`` answering after ``ttft_ms``, and ``junction serve`` in front."""
    profile = tmp_path / "profile.yaml"
    profile.write_text(SLOW_PROFILE.format(ttft_ms=ttft_ms))
    sim_port, gw_port = free_port(), free_port()
    sim = Junction("sim", "--port", str(sim_port), "--profile", str(profile), port=sim_port)
    started.append(sim)
    sim.wait_ready()
    config = tmp_path / "junction.yaml"
    config.write_text(CONFIG.format(grace=grace, sim=sim.url))
    gw = Junction("serve", "--config", str(config), "--port", str(gw_port), port=gw_port)
    started.append(gw)
    gw.wait_ready()
    return gw


async def chat(url: str) -> httpx.Response:
    body = {"model": "test/slow", "messages": [{"role": "user", "content": "echo: done"}]}
    async with httpx.AsyncClient(timeout=30) as client:
        return await client.post(url + "/v1/chat/completions", json=body)


async def test_sigterm_drains_in_flight_requests_and_refuses_new_ones(
    tmp_path: Path, started: list[Junction]
) -> None:
    gw = stack(tmp_path, started, ttft_ms=1500, grace=10)
    in_flight = [asyncio.ensure_future(chat(gw.url)) for _ in range(4)]
    await asyncio.sleep(0.6)  # all four are waiting on the simulator
    gw.proc.send_signal(signal.SIGTERM)
    signalled = time.monotonic()
    await asyncio.sleep(0.2)
    refused = await chat(gw.url)
    assert refused.status_code == 503
    assert "shutting down" in refused.json()["error"]["message"]
    answers = await asyncio.gather(*in_flight)
    assert [a.status_code for a in answers] == [200] * 4
    assert all(a.json()["choices"][0]["message"]["content"] == "done" for a in answers)
    # Exits once drained: the re-raised SIGTERM, as uvicorn does after a graceful stop.
    code = await asyncio.to_thread(gw.proc.wait, 10)
    assert code in (0, -signal.SIGTERM)
    assert time.monotonic() - signalled < 8  # drained: not the 10 s grace
    out = gw.output()
    assert "Traceback" not in out


async def test_sigterm_gives_up_on_requests_after_the_grace_period(
    tmp_path: Path, started: list[Junction]
) -> None:
    gw = stack(tmp_path, started, ttft_ms=30_000, grace=1)
    in_flight = [asyncio.ensure_future(chat(gw.url)) for _ in range(2)]
    await asyncio.sleep(0.6)
    gw.proc.send_signal(signal.SIGTERM)
    signalled = time.monotonic()
    code = await asyncio.to_thread(gw.proc.wait, 15)
    assert code in (0, -signal.SIGTERM)
    assert time.monotonic() - signalled < 8  # 1 s grace, not the 30 s answers
    out = gw.output()
    assert "cancelling 2 request(s) still running after the grace period" in out
    assert "Traceback" not in out
    for cut in await asyncio.gather(*in_flight):
        assert cut.status_code == 503
        assert "shutting down" in cut.json()["error"]["message"]


async def answer_in_a_second(request: web.Request, state: Upstream) -> web.StreamResponse:
    await asyncio.sleep(1.0)
    message = {"role": "assistant", "content": "drained"}
    return web.json_response(
        {
            "id": "c1",
            "object": "chat.completion",
            "created": 1,
            "model": "m",
            "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
        }
    )


async def test_shutdown_callbacks_run_after_the_last_request() -> None:
    """The hook a request log flushes through: it runs once, after the
    in-flight request was answered (no request task left)."""
    seen: list[int] = []
    async with (
        fake_upstream(answer_in_a_second) as upstream,
        serving(models_at(upstream.url), shutdown_grace=10) as front,
    ):

        async def flush() -> None:
            seen.append(front.in_flight)

        front.app.on_shutdown.append(flush)
        request = asyncio.ensure_future(exchange(front.port, chat_request()))
        await upstream.received.wait()
        front.server.should_exit = True  # what SIGTERM does
        await asyncio.sleep(0.3)
        late = await exchange(front.port, chat_request())
        assert status_of(late) == 503
        answer = await request
        assert status_of(answer) == 200
        assert b"drained" in answer
        await asyncio.wait_for(front.task, 10)
    assert seen == [0]
