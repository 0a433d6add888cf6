"""Injected faults, observed by raw HTTP clients and by the official SDKs."""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any

import anthropic
import httpx
import openai
import pytest
from google import genai
from google.genai import errors as genai_errors
from google.genai import types

if TYPE_CHECKING:
    from tests.sim.conftest import Sim, SimFactory

OPENAI_CHAT = "/v1/chat/completions"
ANTHROPIC_MESSAGES = "/v1/messages"
GEMINI_STREAM = "/v1beta/models/m:streamGenerateContent?alt=sse"


def _openai_body(model: str = "m", stream: bool = False, text: str = "hello") -> dict[str, Any]:
    return {"model": model, "messages": [{"role": "user", "content": text}], "stream": stream}


def _anthropic_body(stream: bool = False) -> dict[str, Any]:
    return {
        "model": "m",
        "max_tokens": 100,
        "messages": [{"role": "user", "content": "hello there, a longer prompt"}],
        "stream": stream,
    }


GEMINI_BODY = {"contents": [{"role": "user", "parts": [{"text": "hello"}]}]}


async def _post(sim: Sim, path: str, body: dict[str, Any]) -> httpx.Response:
    return await sim.http.post(path, json=body, headers={"authorization": "Bearer k"})


async def _read_cut_stream(sim: Sim, path: str, body: dict[str, Any]) -> bytes:
    """Read a stream until the connection drops; the drop must happen."""
    got = bytearray()

    async def read() -> None:
        async with sim.http.stream("POST", path, json=body) as response:
            assert response.status_code == 200
            async for chunk in response.aiter_raw():
                got.extend(chunk)

    with pytest.raises(httpx.TransportError):
        await read()
    return bytes(got)


async def test_rate_limit_has_retry_after(make_sim: SimFactory) -> None:
    sim = await make_sim({"models": {"*": {"faults": {"rate_limit": 1.0}, "retry_after_s": 7}}})
    r = await _post(sim, OPENAI_CHAT, _openai_body())
    assert r.status_code == 429
    assert r.headers["retry-after"] == "7"
    error = r.json()["error"]
    assert error["message"]
    assert {"message", "type", "param", "code"} <= set(error)


@pytest.mark.parametrize(("kind", "status"), [("server_error", 500), ("unavailable", 503)])
async def test_error_statuses_in_each_dialect(sim: Sim, kind: str, status: int) -> None:
    await sim.fail(kind, count=3)
    openai_r = await _post(sim, OPENAI_CHAT, _openai_body())
    anthropic_r = await _post(sim, ANTHROPIC_MESSAGES, _anthropic_body())
    gemini_r = await _post(sim, "/v1beta/models/m:generateContent", GEMINI_BODY)
    assert [openai_r.status_code, anthropic_r.status_code, gemini_r.status_code] == [status] * 3
    assert openai_r.json()["error"]["message"]
    assert anthropic_r.json()["type"] == "error"
    assert anthropic_r.json()["error"]["message"]
    assert gemini_r.json()["error"]["code"] == status


async def test_sdks_see_rate_limits(sim: Sim) -> None:
    await sim.fail("rate_limit", count=3)
    oa = openai.AsyncOpenAI(base_url=sim.url + "/v1", api_key="k", max_retries=0)
    with pytest.raises(openai.RateLimitError) as oa_info:
        await oa.chat.completions.create(model="m", messages=[{"role": "user", "content": "x"}])
    assert oa_info.value.response.headers["retry-after"] == "1"
    an = anthropic.AsyncAnthropic(base_url=sim.url, api_key="k", max_retries=0)
    with pytest.raises(anthropic.RateLimitError) as an_info:
        await an.messages.create(
            model="m", max_tokens=10, messages=[{"role": "user", "content": "x"}]
        )
    assert an_info.value.body["error"]["type"] == "rate_limit_error"  # type: ignore[index]
    gm = genai.Client(
        api_key="k",
        http_options=types.HttpOptions(
            base_url=sim.url, retry_options=types.HttpRetryOptions(attempts=1)
        ),
    )
    with pytest.raises(genai_errors.ClientError) as gm_info:
        await gm.aio.models.generate_content(model="m", contents="x")
    assert gm_info.value.code == 429


async def test_reset_raises_a_connection_error(sim: Sim) -> None:
    await sim.fail("reset")
    with pytest.raises((httpx.ReadError, httpx.RemoteProtocolError)):
        await _post(sim, OPENAI_CHAT, _openai_body())
    # the next request is served normally
    assert (await _post(sim, OPENAI_CHAT, _openai_body())).status_code == 200


async def test_timeout_hangs_then_closes(make_sim: SimFactory) -> None:
    sim = await make_sim({"models": {"*": {"hang_ms": 300}}})
    await sim.fail("timeout")
    started = time.monotonic()
    with pytest.raises(httpx.RemoteProtocolError):
        await _post(sim, OPENAI_CHAT, _openai_body())
    assert time.monotonic() - started >= 0.28


async def test_timeout_outlasts_the_client(sim: Sim) -> None:
    await sim.fail("timeout")
    with pytest.raises(httpx.ReadTimeout):
        await sim.http.post(OPENAI_CHAT, json=_openai_body(), timeout=0.3)


async def test_stream_cut_openai(sim: Sim) -> None:
    await sim.fail("stream_cut")
    got = await _read_cut_stream(sim, OPENAI_CHAT, _openai_body(stream=True))
    assert b"data: {" in got
    assert b"[DONE]" not in got
    assert b'"finish_reason":"stop"' not in got


async def test_stream_cut_anthropic(sim: Sim) -> None:
    await sim.fail("stream_cut")
    got = await _read_cut_stream(sim, ANTHROPIC_MESSAGES, _anthropic_body(stream=True))
    assert b"event: message_start" in got
    assert b"message_stop" not in got


async def test_stream_cut_gemini(sim: Sim) -> None:
    await sim.fail("stream_cut")
    got = await _read_cut_stream(sim, GEMINI_STREAM, GEMINI_BODY)
    assert b"data: {" in got
    assert b"finishReason" not in got


async def test_stream_cut_after_setting(make_sim: SimFactory) -> None:
    sim = await make_sim({"models": {"*": {"stream_cut_after": 0}}})
    await sim.fail("stream_cut")
    got = await _read_cut_stream(sim, OPENAI_CHAT, _openai_body(stream=True, text="echo: abc"))
    assert b"abc" not in got


async def test_stream_cut_plain_response_is_truncated(sim: Sim) -> None:
    await sim.fail("stream_cut")
    with pytest.raises((httpx.ReadError, httpx.RemoteProtocolError)):
        await _post(sim, OPENAI_CHAT, _openai_body())


async def test_malformed_plain_body(sim: Sim) -> None:
    await sim.fail("malformed", count=2)
    r = await _post(sim, OPENAI_CHAT, _openai_body())
    assert r.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        json.loads(r.text)
    embed = await _post(sim, "/v1/embeddings", {"model": "m", "input": "x"})
    assert embed.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        json.loads(embed.text)


async def test_malformed_stream_has_a_garbage_frame(sim: Sim) -> None:
    await sim.fail("malformed")
    r = await _post(sim, OPENAI_CHAT, _openai_body(stream=True))
    assert r.status_code == 200
    bad = 0
    for line in r.text.splitlines():
        if line.startswith("data: ") and line != "data: [DONE]":
            try:
                json.loads(line[6:])
            except json.JSONDecodeError:
                bad += 1
    assert bad == 1


async def test_malformed_stream_breaks_the_sdk(sim: Sim) -> None:
    await sim.fail("malformed")
    client = openai.AsyncOpenAI(base_url=sim.url + "/v1", api_key="k", max_retries=0)
    stream = await client.chat.completions.create(
        model="m", messages=[{"role": "user", "content": "x"}], stream=True
    )
    with pytest.raises(json.JSONDecodeError):
        async for _ in stream:
            pass


async def test_fail_count_semantics(sim: Sim) -> None:
    await sim.fail("server_error", model="a", count=2)
    statuses = [(await _post(sim, OPENAI_CHAT, _openai_body("a"))).status_code for _ in range(3)]
    assert statuses == [500, 500, 200]


async def test_fail_targets_one_model(sim: Sim) -> None:
    await sim.fail("rate_limit", model="a", count=1)
    assert (await _post(sim, OPENAI_CHAT, _openai_body("b"))).status_code == 200
    assert (await _post(sim, OPENAI_CHAT, _openai_body("a"))).status_code == 429
    assert (await _post(sim, OPENAI_CHAT, _openai_body("a"))).status_code == 200


async def test_fail_applies_to_embeddings(sim: Sim) -> None:
    await sim.fail("unavailable", model="emb")
    r = await _post(sim, "/v1/embeddings", {"model": "emb", "input": "x"})
    assert r.status_code == 503
    gemini = await sim.http.post(
        "/v1beta/models/emb:batchEmbedContents",
        json={"requests": [{"model": "models/emb", "content": {"parts": [{"text": "x"}]}}]},
    )
    assert gemini.status_code == 200


async def test_put_then_recover(sim: Sim) -> None:
    await sim.put_model("flaky", {"faults": {"server_error": 1.0}})
    assert (await _post(sim, OPENAI_CHAT, _openai_body("flaky"))).status_code == 500
    assert (await _post(sim, OPENAI_CHAT, _openai_body("flaky"))).status_code == 500
    assert (await _post(sim, OPENAI_CHAT, _openai_body("steady"))).status_code == 200
    await sim.put_model("flaky", {"faults": {}})
    assert (await _post(sim, OPENAI_CHAT, _openai_body("flaky"))).status_code == 200


async def test_fault_rates_are_reproducible(make_sim: SimFactory) -> None:
    sim = await make_sim({"seed": 7, "models": {"*": {"faults": {"server_error": 0.5}}}})

    async def run() -> list[int]:
        return [(await _post(sim, OPENAI_CHAT, _openai_body())).status_code for _ in range(20)]

    first = await run()
    assert set(first) == {200, 500}
    assert (await sim.http.post("/_sim/reset")).status_code == 200
    assert await run() == first


async def test_bad_fail_order_is_400(sim: Sim) -> None:
    r = await sim.http.post("/_sim/fail", json={"kind": "explode"})
    assert r.status_code == 400
    assert "explode" in r.json()["error"] or "kind" in r.json()["error"]
    r = await sim.http.post("/_sim/fail", json={"kind": "reset", "count": 0})
    assert r.status_code == 400
