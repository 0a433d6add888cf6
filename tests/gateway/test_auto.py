"""Semantic routers in the gateway, through real sockets: ``junction/auto`` picks between a
cheap model (the simulator's OpenAI side) and a strong one (its Anthropic side), with an
artifact trained here on data where prompts about proofs, integrals and theorems need the
strong model (tests/semantic/_synthetic.py)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
from tests.gateway.conftest import serve
from tests.semantic._synthetic import two_models

from junction.config import ConfigError, parse_config
from junction.gateway import Gateway
from junction.semantic import artifact
from junction.server.app import create_app
from junction.sim import Profile, start
from junction.transport import Transport

HARD = "please prove the theorem about this integral and the series"
EASY = "a coffee recipe for my birthday and some music please"


def _config(sim: str, folder: Path, shadow: bool) -> str:
    text = f"""
models:
  cheap:
    deployments:
      - {{provider: openai, model: gpt-4o-mini, base_url: '{sim}/v1', api_key: k}}
  strong:
    deployments:
      - {{provider: anthropic, model: claude-sonnet-4-5, base_url: '{sim}', api_key: k}}
routers:
  auto:
    artifact: {folder}
    candidates: {{big: strong, small: cheap}}
"""
    if shadow:
        text += f"""  watch:
    artifact: {folder}
    candidates: {{big: strong, small: cheap}}
    shadow: true
    default: cheap
"""
    return text


@dataclass
class Gateways:
    single: httpx.AsyncClient
    """One router: answers to ``junction/auto``."""
    both: httpx.AsyncClient
    """``auto`` and the shadow router ``watch``."""
    folder: Path
    sim: str


@pytest.fixture(scope="module")
async def gws(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Gateways]:
    folder = tmp_path_factory.mktemp("router") / "auto"
    trained = artifact.train(two_models(n=300), "linear", "lexical", calibrate_to=("share", 0.5))
    artifact.save(trained, folder)
    runner, sim_url = await start(Profile())
    servers = []
    clients = []
    for shadow in (False, True):
        app = create_app(parse_config(_config(sim_url, folder, shadow), {}))
        server, task, url = await serve(app)
        servers.append((server, task))
        clients.append(httpx.AsyncClient(base_url=url, timeout=30))
    try:
        yield Gateways(clients[0], clients[1], folder, sim_url)
    finally:
        for client in clients:
            await client.aclose()
        for server, task in servers:
            server.should_exit = True
            await task
        await runner.cleanup()


def _chat(model: str, prompt: str, **extra: Any) -> dict[str, Any]:
    return {"model": model, "messages": [{"role": "user", "content": prompt}], **extra}


def _header(r: httpx.Response) -> dict[str, str]:
    name, *fields = [p.strip() for p in r.headers["x-junction-router"].split(";")]
    out = {"name": name}
    for f in fields:
        key, _, value = f.partition("=")
        out[key] = value or "true"
    return out


async def test_auto_sends_the_hard_prompt_to_the_strong_model(gws: Gateways) -> None:
    r = await gws.single.post("/v1/chat/completions", json=_chat("junction/auto", HARD))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["model"] == "strong"
    assert body["provider"] == "anthropic"
    assert body["router"]["name"] == "auto"
    assert body["router"]["model"] == "strong"
    assert body["router"]["score"] > 0.2
    header = _header(r)
    assert header["name"] == "auto"
    assert header["model"] == "strong"
    assert float(header["score"]) == pytest.approx(body["router"]["score"], abs=1e-4)
    assert "shadow" not in header


async def test_auto_sends_the_easy_prompt_to_the_cheap_model(gws: Gateways) -> None:
    r = await gws.single.post("/v1/chat/completions", json=_chat("junction/auto", EASY))
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["model"], body["provider"]) == ("cheap", "openai")
    assert body["router"]["model"] == "cheap"
    assert body["router"]["score"] < 0.2
    assert _header(r)["model"] == "cheap"


async def test_the_openai_sdk_sees_the_choice(gws: Gateways) -> None:
    client = openai.AsyncOpenAI(
        base_url=str(gws.single.base_url).rstrip("/") + "/v1", api_key="unused"
    )
    try:
        raw = await client.chat.completions.with_raw_response.create(
            model="junction/auto", messages=[{"role": "user", "content": HARD}]
        )
    finally:
        await client.close()
    completion = raw.parse()
    assert completion.model == "strong"
    assert raw.headers["x-junction-router"].startswith("auto; model=strong; score=")
    extra = completion.model_extra or {}
    assert extra["router"]["model"] == "strong"
    assert extra["provider"] == "anthropic"


async def test_a_plain_model_has_no_router_fields(gws: Gateways) -> None:
    r = await gws.single.post("/v1/chat/completions", json=_chat("strong", HARD))
    assert r.status_code == 200, r.text
    assert "router" not in r.json()
    assert "x-junction-router" not in r.headers


async def test_with_two_routers_junction_auto_is_not_a_model(gws: Gateways) -> None:
    r = await gws.both.post("/v1/chat/completions", json=_chat("junction/auto", HARD))
    assert r.status_code == 404
    r = await gws.both.post("/v1/chat/completions", json=_chat("auto", HARD))
    assert r.status_code == 200, r.text
    assert r.json()["model"] == "strong"


async def test_the_stream_carries_the_choice_on_its_first_chunk(gws: Gateways) -> None:
    chunks = []
    body = _chat("junction/auto", HARD, stream=True)
    async with gws.single.stream("POST", "/v1/chat/completions", json=body) as r:
        assert r.status_code == 200
        header = _header(r)
        async for line in r.aiter_lines():
            if line.startswith("data: {"):
                chunks.append(json.loads(line[6:]))
    assert header["model"] == "strong"
    assert len(chunks) > 2
    assert chunks[0]["router"]["model"] == "strong"
    assert chunks[0]["model"] == "strong"
    assert all("router" not in c for c in chunks[1:])


async def test_the_generation_record_keeps_the_choice(gws: Gateways) -> None:
    r = await gws.single.post("/v1/chat/completions", json=_chat("junction/auto", EASY))
    record = (await gws.single.get("/api/v1/generation", params={"id": r.json()["id"]})).json()
    data = record["data"]
    assert data["router"] == "auto"
    assert data["router_choice"]["model"] == "cheap"
    assert data["router_choice"]["shadow"] is False
    assert data["router_choice"]["score"] == pytest.approx(r.json()["router"]["score"])
    assert data["router_choice"]["decision_ms"] > 0


async def test_shadow_records_the_choice_and_serves_the_default(gws: Gateways) -> None:
    r = await gws.both.post("/v1/chat/completions", json=_chat("watch", HARD))
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["model"], body["provider"]) == ("cheap", "openai")
    assert body["router"] == {
        "name": "watch",
        "model": "strong",
        "score": body["router"]["score"],
        "shadow": True,
    }
    header = _header(r)
    assert (header["model"], header["shadow"]) == ("strong", "true")
    record = (await gws.both.get("/api/v1/generation", params={"id": body["id"]})).json()
    assert record["data"]["model"] == "cheap"
    assert record["data"]["router_choice"]["model"] == "strong"
    assert record["data"]["router_choice"]["shadow"] is True


@pytest.mark.parametrize(
    ("prompt", "route", "served"),
    [
        (EASY, {"strong_share": 1.0}, "strong"),
        (HARD, {"strong_share": 0.0}, "cheap"),
        (HARD, {"quality_target": 0.0}, "cheap"),
        (EASY, {"quality_target": 2.0}, "strong"),
        (HARD, {"candidates": ["cheap"]}, "cheap"),
        (EASY, {"candidates": ["strong"]}, "strong"),
        (HARD, {"candidates": ["cheap", "strong"]}, "strong"),
    ],
)
async def test_the_route_object_overrides_the_decision(
    gws: Gateways, prompt: str, route: dict[str, Any], served: str
) -> None:
    r = await gws.single.post(
        "/v1/chat/completions", json=_chat("junction/auto", prompt, route=route)
    )
    assert r.status_code == 200, r.text
    assert r.json()["model"] == served
    assert r.json()["router"]["model"] == served


@pytest.mark.parametrize(
    ("route", "param", "says"),
    [
        ("strong", "route", "must be an object"),
        ({"strong_share": 2}, "route.strong_share", "between 0 and 1"),
        ({"strong_share": "half"}, "route.strong_share", "must be a number"),
        ({"strong_share": True}, "route.strong_share", "must be a number"),
        ({"strong_share": 0.2, "max_cost": 1}, "route.max_cost", "give one of"),
        ({"max_cost": 0.001}, "route.max_cost", "costs"),
        ({"max_cost": -1}, "route.max_cost", "negative"),
        ({"candidates": ["gpt-5"]}, "route.candidates", "not a candidate"),
        ({"candidates": []}, "route.candidates", "non-empty list"),
        ({"budget": 3}, "route.budget", "not a route field"),
    ],
)
async def test_a_bad_route_is_a_400_naming_the_field(
    gws: Gateways, route: Any, param: str, says: str
) -> None:
    r = await gws.single.post(
        "/v1/chat/completions", json=_chat("junction/auto", HARD, route=route)
    )
    assert r.status_code == 400, r.text
    error = r.json()["error"]
    assert error["param"] == param
    assert says in error["message"]


async def test_the_anthropic_door_routes_and_refuses_in_its_own_shape(gws: Gateways) -> None:
    body = {
        "model": "junction/auto",
        "max_tokens": 50,
        "messages": [{"role": "user", "content": HARD}],
    }
    r = await gws.single.post("/v1/messages", json=body)
    assert r.status_code == 200, r.text
    assert r.json()["model"] == "strong"
    assert _header(r)["model"] == "strong"
    r = await gws.single.post("/v1/messages", json={**body, "route": {"strong_share": -1}})
    assert r.status_code == 400
    assert r.json()["type"] == "error"
    assert "route.strong_share" in r.json()["error"]["message"]


async def test_the_responses_door_routes_with_the_header(gws: Gateways) -> None:
    r = await gws.single.post("/v1/responses", json={"model": "junction/auto", "input": EASY})
    assert r.status_code == 200, r.text
    assert r.json()["model"] == "cheap"
    assert _header(r)["model"] == "cheap"


def test_a_router_naming_an_unknown_model_is_refused(tmp_path: Path) -> None:
    text = _config("http://127.0.0.1:9", tmp_path, shadow=False).replace(
        "small: cheap", "small: tiny"
    )
    with pytest.raises(ConfigError, match="'tiny' is not a configured chat model"):
        parse_config(text, {})


def test_a_shadow_router_needs_a_default(tmp_path: Path) -> None:
    text = _config("http://127.0.0.1:9", tmp_path, shadow=True).replace("    default: cheap\n", "")
    with pytest.raises(ConfigError, match="shadow router needs `default`"):
        parse_config(text, {})


async def test_a_missing_artifact_stops_the_gateway_at_start(tmp_path: Path) -> None:
    config = parse_config(_config("http://127.0.0.1:9", tmp_path / "nowhere", False), {})
    with pytest.raises(ConfigError, match=r"routers\.auto: .*cannot read"):
        Gateway(config, Transport())


async def test_an_artifact_model_missing_from_candidates_is_refused(gws: Gateways) -> None:
    text = _config(gws.sim, gws.folder, False).replace("big: strong", "large: strong")
    with pytest.raises(ConfigError, match="'large' is not a model of the artifact"):
        Gateway(parse_config(text, {}), Transport())
