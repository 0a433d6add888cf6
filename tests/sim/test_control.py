"""The control endpoint, auth handling, the request log and pacing."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any

import httpx
import openai
import pytest

if TYPE_CHECKING:
    from tests.sim.conftest import Sim, SimFactory

CHAT = "/v1/chat/completions"


def _body(model: str = "m", text: str = "hello", stream: bool = False) -> dict[str, Any]:
    return {"model": model, "messages": [{"role": "user", "content": text}], "stream": stream}


async def test_health(sim: Sim) -> None:
    r = await sim.http.get("/health")
    assert r.status_code == 200
    assert r.json() == {"status": "ok"}


async def test_config_shows_profile_and_resolution(make_sim: SimFactory) -> None:
    sim = await make_sim(
        {"seed": 3, "models": {"*": {"ttft_ms": 10}, "fast": {"tokens_per_second": 0}}}
    )
    config = (await sim.http.get("/_sim/config")).json()
    assert config["seed"] == 3
    assert config["models"]["*"] == {"ttft_ms": 10}
    assert config["resolved"]["fast"]["ttft_ms"] == 10
    assert config["resolved"]["fast"]["hang_ms"] == 600000


async def test_put_model_merges(sim: Sim) -> None:
    first = await sim.put_model("m", {"ttft_ms": 5, "output_tokens": 8})
    assert first["resolved"]["ttft_ms"] == 5
    second = await sim.put_model("m", {"jitter": 0.1})
    assert second["settings"] == {"ttft_ms": 5, "output_tokens": 8, "jitter": 0.1}


async def test_put_model_changes_answers(sim: Sim) -> None:
    await sim.put_model("m", {"output_tokens": 60})
    long = (await sim.http.post(CHAT, json=_body())).json()
    await sim.put_model("m", {"output_tokens": 3})
    short = (await sim.http.post(CHAT, json=_body())).json()
    assert long["usage"]["completion_tokens"] >= 60
    assert short["usage"]["completion_tokens"] <= 4


async def test_put_model_rejects_bad_settings(sim: Sim) -> None:
    for bad in (
        {"faults": {"rate_limit": 2}},
        {"ttft": 1},
        {"faults": {"reset": 0.7, "timeout": 0.7}},
    ):
        r = await sim.http.put("/_sim/models/m", json=bad)
        assert r.status_code == 400, bad
        assert r.json()["error"]


async def test_reset_restores_profile_and_clears(make_sim: SimFactory) -> None:
    sim = await make_sim({"models": {"m": {"ttft_ms": 1}}})
    await sim.put_model("m", {"faults": {"server_error": 1.0}})
    await sim.fail("rate_limit", count=5)
    await sim.http.post(CHAT, json=_body())
    assert (await sim.http.post("/_sim/reset")).status_code == 200
    stats = await sim.stats()
    assert stats["requests"] == 0
    assert stats["forced_pending"] == []
    assert await sim.requests() == []
    config = (await sim.http.get("/_sim/config")).json()
    assert config["models"]["m"] == {"ttft_ms": 1}
    assert (await sim.http.post(CHAT, json=_body())).status_code == 200


async def test_stats_count_models_dialects_and_faults(sim: Sim) -> None:
    await sim.http.post(CHAT, json=_body("a"))
    await sim.http.post(CHAT, json=_body("a"))
    await sim.http.post(
        "/v1/messages",
        json={"model": "b", "max_tokens": 5, "messages": [{"role": "user", "content": "x"}]},
        headers={"x-api-key": "k"},
    )
    await sim.http.post(
        "/v1beta/models/c:generateContent", json={"contents": [{"parts": [{"text": "x"}]}]}
    )
    await sim.fail("server_error", model="a")
    await sim.http.post(CHAT, json=_body("a"))
    stats = await sim.stats()
    assert stats["requests"] == 5
    assert stats["by_model"] == {"a": 3, "b": 1, "c": 1}
    assert stats["by_dialect"] == {"openai": 3, "anthropic": 1, "gemini": 1}
    assert stats["faults"] == {"server_error": 1}
    assert stats["faults_by_model"] == {"a": {"server_error": 1}}
    assert stats["with_key"] == 1
    assert stats["without_key"] == 4
    assert stats["in_flight"] == 0


async def test_in_flight(make_sim: SimFactory) -> None:
    sim = await make_sim({"models": {"*": {"ttft_ms": 400}}})
    task = asyncio.create_task(sim.http.post(CHAT, json=_body()))
    await asyncio.sleep(0.15)
    assert (await sim.stats())["in_flight"] == 1
    await task
    assert (await sim.stats())["in_flight"] == 0


async def test_in_flight_drops_when_a_hung_client_leaves(sim: Sim) -> None:
    await sim.fail("timeout")
    with pytest.raises(httpx.ReadTimeout):
        await sim.http.post(CHAT, json=_body(), timeout=0.2)
    for _ in range(50):
        if (await sim.stats())["in_flight"] == 0:
            break
        await asyncio.sleep(0.05)
    assert (await sim.stats())["in_flight"] == 0


async def test_request_log_masks_secrets(sim: Sim) -> None:
    client = openai.AsyncOpenAI(base_url=sim.url + "/v1", api_key="sk-secret-123", max_retries=0)
    await client.chat.completions.create(
        model="gpt-log", messages=[{"role": "user", "content": "logged"}], temperature=0.5
    )
    await sim.http.post(
        "/v1beta/models/g:generateContent?key=gm-secret",
        json={"contents": [{"parts": [{"text": "x"}]}]},
        headers={"x-goog-api-key": "gm-secret"},
    )
    log = await sim.requests()
    assert [entry["dialect"] for entry in log] == ["openai", "gemini"]
    first = log[0]
    assert first["path"] == "/v1/chat/completions"
    assert first["method"] == "POST"
    assert first["model"] == "gpt-log"
    assert first["key_sent"] is True
    assert first["headers"]["authorization"] == "***"
    assert first["body"] == {
        "model": "gpt-log",
        "messages": [{"role": "user", "content": "logged"}],
        "temperature": 0.5,
    }
    second = log[1]
    assert second["headers"]["x-goog-api-key"] == "***"
    assert second["query"]["key"] == "***"
    assert "gm-secret" not in str(log)
    assert "sk-secret-123" not in str(log)


async def test_request_log_limit(sim: Sim) -> None:
    for i in range(4):
        await sim.http.post(CHAT, json=_body(text=f"n{i}"))
    log = await sim.requests(limit=2)
    assert [e["body"]["messages"][0]["content"] for e in log] == ["n2", "n3"]
    assert (await sim.http.get("/_sim/requests", params={"limit": "x"})).status_code == 400


@pytest.mark.parametrize(
    ("path", "body", "check"),
    [
        (CHAT, _body(), lambda j: j["error"]["message"]),
        (
            "/v1/messages",
            {"model": "m", "max_tokens": 5, "messages": [{"role": "user", "content": "x"}]},
            lambda j: j["error"]["type"] == "authentication_error",
        ),
        (
            "/v1beta/models/m:generateContent",
            {"contents": [{"parts": [{"text": "x"}]}]},
            lambda j: j["error"]["code"] == 401,
        ),
    ],
)
async def test_require_key(
    make_sim: SimFactory, path: str, body: dict[str, Any], check: Any
) -> None:
    sim = await make_sim({"require_key": True})
    r = await sim.http.post(path, json=body)
    assert r.status_code == 401
    assert check(r.json())
    for headers in ({"authorization": "Bearer x"}, {"x-api-key": "x"}, {"x-goog-api-key": "x"}):
        ok = await sim.http.post(path, json=body, headers=headers)
        assert ok.status_code == 200, (headers, ok.text)


async def test_unknown_gemini_method_is_404(sim: Sim) -> None:
    r = await sim.http.post("/v1beta/models/m:explode", json={})
    assert r.status_code == 404
    assert r.json()["error"]["code"] == 404


async def test_gemini_stream_needs_sse(sim: Sim) -> None:
    r = await sim.http.post(
        "/v1beta/models/m:streamGenerateContent", json={"contents": [{"parts": [{"text": "x"}]}]}
    )
    assert r.status_code == 400
    assert "alt=sse" in r.json()["error"]["message"]


async def test_determinism_across_restarts(make_sim: SimFactory) -> None:
    one, two = await make_sim(), await make_sim()
    a = (await one.http.post(CHAT, json=_body(text="stable?"))).json()
    b = (await two.http.post(CHAT, json=_body(text="stable?"))).json()
    assert a["choices"][0]["message"]["content"] == b["choices"][0]["message"]["content"]


async def test_ttft_delays_the_first_byte(make_sim: SimFactory) -> None:
    sim = await make_sim({"models": {"slow": {"ttft_ms": 200}}})
    started = time.monotonic()
    async with sim.http.stream("POST", CHAT, json=_body("slow", stream=True)) as response:
        async for _ in response.aiter_raw():
            first_byte = time.monotonic() - started
            break
    assert first_byte >= 0.19
    started = time.monotonic()
    r = await sim.http.post(CHAT, json=_body("slow"))
    assert r.status_code == 200
    assert time.monotonic() - started >= 0.19


async def test_throughput_paces_the_stream(make_sim: SimFactory) -> None:
    # 40 characters = 10 tokens; at 50 tokens/s chunks hold ceil(50 / 20) = 3 tokens and every
    # chunk after the first waits for its tokens: 7 tokens / 50 per second = 0.14 s
    sim = await make_sim({"models": {"paced": {"tokens_per_second": 50}}})
    text = "echo: " + "abcd" * 10
    started = time.monotonic()
    arrivals = []
    async with sim.http.stream("POST", CHAT, json=_body("paced", text, True)) as response:
        async for _ in response.aiter_raw():
            arrivals.append(time.monotonic() - started)
    assert len(arrivals) > 2
    assert arrivals[-1] >= 0.13


async def test_unlimited_throughput_does_not_sleep(make_sim: SimFactory) -> None:
    sim = await make_sim({"models": {"*": {"tokens_per_second": 0, "ttft_ms": 0}}})
    r = await sim.http.post(CHAT, json=_body(stream=True))
    assert r.status_code == 200
    assert r.text.rstrip().endswith("data: [DONE]")
