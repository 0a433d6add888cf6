"""Routers on the two encoders that are not lexical, in a gateway behind a real socket:

- ``embeddings``: trained by ``junction router train --encoder embeddings`` through a gateway
  built from the config, served by a gateway that embeds each prompt through its own embed
  path (the simulator's embeddings, which share direction for shared words);
- ``e5`` (the ``embed`` extra): the decision runs in the router's worker thread, and the
  event loop keeps serving while it does.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.semantic._synthetic import two_models

from _serving import serve_on_loopback
from junction.cli import main
from junction.config import ConfigError, Server, load_config
from junction.gateway import Gateway
from junction.semantic import artifact, e5
from junction.semantic.dataset import RoutingRow, write_rows
from junction.semantic.decide import Decision
from junction.server.app import create_app
from junction.server.serving import build_server
from junction.sim import Profile, start
from junction.transport import Transport
from junction.types import ChatRequest, Message, TextPart

HARD = "please prove the theorem about this integral and the series"
EASY = "a coffee recipe for my birthday and some music please"

MODELS = """
models:
  cheap:
    deployments: [{{provider: openai, model: gpt-4o-mini, base_url: '{sim}/v1', api_key: k}}]
  strong:
    deployments: [{{provider: anthropic, model: claude-sonnet-4-5, base_url: '{sim}', api_key: k}}]
  embed:
    kind: embedding
    deployments:
      - {{provider: openai, model: text-embedding-3-small, base_url: '{sim}/v1', api_key: k}}
"""
ROUTER = """
routers:
  auto:
    artifact: {artifact}
    candidates: {{big: strong, small: cheap}}
"""


@pytest.fixture
async def sim() -> AsyncIterator[str]:
    runner, url = await start(Profile())
    try:
        yield url
    finally:
        await runner.cleanup()


def user(text: str) -> Message:
    return Message(role="user", content=[TextPart(text)])


async def _routed(url: str, prompt: str) -> tuple[int, str]:
    async with httpx.AsyncClient(base_url=url, timeout=30) as http:
        r = await http.post(
            "/v1/chat/completions",
            json={"model": "junction/auto", "messages": [{"role": "user", "content": prompt}]},
        )
    return r.status_code, r.headers.get("x-junction-router", "")


async def test_embeddings_encoder_trains_and_routes_through_the_gateway(
    sim: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data_file = tmp_path / "data.jsonl"
    data = two_models(n=200)
    write_rows(
        data_file,
        [
            RoutingRow(prompt=t, scores={"big": float(q[0]), "small": float(q[1])})
            for t, q in zip(data.texts, data.quality, strict=True)
        ],
    )
    train_config = tmp_path / "train.yaml"
    train_config.write_text(MODELS.format(sim=sim))
    folder = tmp_path / "router"
    argv = ["router", "train", "--data", str(data_file), "--router", "linear"]
    argv += ["--encoder", "embeddings", "--encoder-set", "model=embed"]
    argv += ["--encoder-set", f"config={train_config}", "--calibrate", "share=0.5"]
    argv += ["--vector-cache", str(tmp_path / "vectors"), "--out", str(folder)]
    code = await asyncio.to_thread(main, argv)
    assert code == 0, capsys.readouterr().err
    manifest = json.loads((folder / "router.json").read_text())
    assert manifest["encoder"] == {
        "name": "embeddings",
        "settings": {"model": "embed", "batch": 64},
    }

    config_file = tmp_path / "serve.yaml"
    config_file.write_text(MODELS.format(sim=sim) + ROUTER.format(artifact=folder))
    server = build_server(create_app(load_config(config_file, {})), Server(), log_level="warning")
    task, port = await serve_on_loopback(server)
    url = f"http://127.0.0.1:{port}"
    try:
        status, hard = await _routed(url, HARD)
        assert status == 200
        assert "model=strong" in hard
        status, easy = await _routed(url, EASY)
        assert status == 200
        assert "model=cheap" in easy
    finally:
        server.should_exit = True
        await task


def test_embeddings_artifact_needs_an_embedding_model_the_config_has(
    sim: str, tmp_path: Path
) -> None:
    folder = tmp_path / "router"
    trained = artifact.train(two_models(n=60), "linear", "lexical", calibrate_to=("share", 0.5))
    trained.manifest.encoder.name = "embeddings"
    trained.manifest.encoder.settings = {"model": "embed", "batch": 8}
    artifact.save(trained, folder)
    config_file = tmp_path / "serve.yaml"
    config_file.write_text(MODELS.format(sim=sim) + ROUTER.format(artifact=folder))
    gateway = Gateway(load_config(config_file, {}), Transport())  # loads with the gateway's embed
    assert gateway.auto.by_name["auto"].remote is not None
    renamed = tmp_path / "renamed.yaml"
    renamed.write_text(
        MODELS.format(sim=sim) + ROUTER.format(artifact=folder) + "    embedding_model: cheap\n"
    )
    with pytest.raises(ConfigError, match="'cheap', which is not an embedding model"):
        Gateway(load_config(renamed, {}), Transport())
    broken = tmp_path / "broken.yaml"
    broken.write_text(MODELS.format(sim=sim) + ROUTER.format(artifact=tmp_path / "missing"))
    with pytest.raises(ConfigError, match=r"routers\.auto"):
        Gateway(load_config(broken, {}), Transport())


@pytest.mark.skipif(not e5.available(), reason="pip install 'junction[embed]'")
async def test_e5_router_decides_off_the_event_loop(sim: str, tmp_path: Path) -> None:
    folder = tmp_path / "router"
    trained = artifact.train(two_models(n=80), "knn", "e5", calibrate_to=("share", 0.5))
    artifact.save(trained, folder)
    config_file = tmp_path / "serve.yaml"
    config_file.write_text(MODELS.format(sim=sim) + ROUTER.format(artifact=folder))
    gateway = Gateway(load_config(config_file, {}), Transport())
    router = gateway.auto.by_name["auto"]
    assert router.worker is not None  # e5 declares itself blocking
    seen: list[str] = []
    original = router.decider.decide

    def recording(*args: Any) -> Decision:
        seen.append(threading.current_thread().name)
        return original(*args)

    router.decider.decide = recording  # type: ignore[method-assign]
    try:
        for prompt, model in ((HARD, "strong"), (EASY, "cheap")):
            request = ChatRequest(model="junction/auto", messages=[user(prompt)])
            choice = await gateway.auto.apply(request)
            assert choice is not None
            assert choice.model == model == request.model
            assert choice.decision_ms > 0
    finally:
        await gateway.close()
    assert seen == ["junction-router-auto_0"] * 2  # the router's thread, not the loop's

    server = build_server(create_app(load_config(config_file, {})), Server(), log_level="warning")
    task, port = await serve_on_loopback(server)
    url = f"http://127.0.0.1:{port}"
    try:
        results = await asyncio.gather(*(_routed(url, p) for p in [HARD, EASY] * 3))
        assert all(status == 200 for status, _ in results)
        assert "model=strong" in results[0][1]
        assert "model=cheap" in results[1][1]
    finally:
        server.should_exit = True
        await task
