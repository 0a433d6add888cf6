"""``POST /v1/feedback`` through a real socket with the openai SDK and real databases
(SQLite and PostgreSQL), then ``junction router report`` and ``junction router train
--from-logs`` on what the gateway logged."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
from tests.semantic._synthetic import two_models

from _servers import fresh_postgres_database
from _serving import serve_on_loopback
from junction.cli import main
from junction.config import Server, load_config
from junction.semantic import artifact
from junction.server.app import create_app
from junction.server.serving import build_server
from junction.sim import Profile, start

ALICE = "sk-alice-feedback-01"
BOB = "sk-bob-feedback-02"
MASTER = "sk-master-feedback-03"
HARD = "please prove the theorem about this integral and the series"
EASY = "a coffee recipe for my birthday and some music please"

CONFIG = """
server: {{master_key: '{master}'}}
keys:
  - {{name: alice, key: '{alice}'}}
  - {{name: bob, key: '{bob}'}}
stores: {{database_url: '{db}'}}
request_log: {{flush_interval: 0.05, store_bodies: {bodies}}}
models:
  cheap:
    deployments:
      - {{provider: openai, model: gpt-4o-mini, base_url: '{sim}/v1', api_key: k,
         price: {{input: 0.15, output: 0.6}}}}
  strong:
    deployments:
      - {{provider: anthropic, model: claude-sonnet-4-5, base_url: '{sim}', api_key: k,
         price: {{input: 3.0, output: 15.0}}}}
routers:
  auto:
    artifact: {artifact}
    candidates: {{big: strong, small: cheap}}
"""


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'feedback.db'}"
        return
    with fresh_postgres_database() as url:
        yield url


@dataclass
class Served:
    url: str
    config: Path

    def client(self, key: str) -> openai.AsyncOpenAI:
        return openai.AsyncOpenAI(base_url=f"{self.url}/v1", api_key=key, max_retries=0)

    async def feedback(self, key: str, body: Any, path: str = "/v1/feedback") -> httpx.Response:
        async with httpx.AsyncClient(base_url=self.url, timeout=10) as http:
            return await http.post(path, json=body, headers={"authorization": f"Bearer {key}"})

    async def logged(self, ids: list[str]) -> None:
        """Wait until the writer has flushed every id."""
        headers = {"authorization": f"Bearer {MASTER}"}
        async with httpx.AsyncClient(base_url=self.url, timeout=10, headers=headers) as http:
            for _ in range(200):
                rows = (await http.get("/admin/logs", params={"limit": 1000})).json()["data"]
                if set(ids) <= {r["id"] for r in rows}:
                    return
                await asyncio.sleep(0.05)
        raise AssertionError("rows not logged")


async def _serve(tmp_path: Path, database_url: str, bodies: bool) -> AsyncIterator[Served]:
    folder = tmp_path / "router"
    trained = artifact.train(two_models(n=300), "linear", "lexical", calibrate_to=("share", 0.5))
    artifact.save(trained, folder)
    runner, sim_url = await start(Profile())
    text = CONFIG.format(
        master=MASTER,
        alice=ALICE,
        bob=BOB,
        db=database_url,
        bodies="true" if bodies else "false",
        sim=sim_url,
        artifact=folder,
    )
    path = tmp_path / "junction.yaml"
    path.write_text(text)
    server = build_server(create_app(load_config(path, {})), Server(), log_level="warning")
    task, port = await serve_on_loopback(server)
    try:
        yield Served(f"http://127.0.0.1:{port}", path)
    finally:
        server.should_exit = True
        await task
        await runner.cleanup()


@pytest.fixture
async def served(tmp_path: Path, database_url: str) -> AsyncIterator[Served]:
    async for s in _serve(tmp_path, database_url, bodies=True):
        yield s


@pytest.fixture
async def bodiless(tmp_path: Path) -> AsyncIterator[Served]:
    async for s in _serve(tmp_path, f"sqlite:///{tmp_path / 'plain.db'}", bodies=False):
        yield s


async def _ask(served: Served, key: str, prompts: list[str]) -> list[str]:
    client = served.client(key)
    ids = []
    for prompt in prompts:
        r = await client.chat.completions.create(
            model="junction/auto", messages=[{"role": "user", "content": prompt}]
        )
        ids.append(r.id)
    await client.close()
    return ids


def _cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


async def test_feedback_is_validated_owned_and_kept(
    served: Served, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    prompts = [HARD, EASY] * 4
    ids = await _ask(served, ALICE, prompts)
    # a key may rate only its own requests: another key's is "not found"
    r = await served.feedback(BOB, {"id": ids[0], "score": 1})
    assert r.status_code == 404, r.text
    assert r.json()["error"]["param"] == "id"
    r = await served.feedback(ALICE, {"id": "gen-nope", "score": 1})
    assert r.status_code == 404
    for body, param in (
        ({"id": ids[0], "score": 1.5}, "score"),
        ({"id": ids[0], "score": "good"}, "score"),
        ({"id": ids[0], "score": True}, "score"),
        ({"id": ids[0]}, "score"),
        ({"score": 0.5}, "id"),
        ({"id": ids[0], "score": 0.5, "comment": "x"}, "comment"),
    ):
        r = await served.feedback(ALICE, body)
        assert r.status_code == 400, body
        assert r.json()["error"]["param"] == param  # OpenAI's error shape, naming the field
    r = await served.feedback(ALICE, {"id": ids[0], "score": 2}, "/api/v1/feedback")
    assert r.status_code == 400
    assert r.json()["error"]["code"] == 400  # OpenRouter's shape on its path
    # hard prompts: the strong model is right, the cheap one wrong; easy: both right
    for gen_id, prompt in zip(ids, prompts, strict=True):
        r = await served.feedback(ALICE, {"id": gen_id, "score": 0.9 if prompt == HARD else 0.2})
        assert r.status_code == 200, r.text
        assert r.json() == {
            "object": "feedback",
            "id": gen_id,
            "score": 0.9 if prompt == HARD else 0.2,
        }
    r = await served.feedback(MASTER, {"id": ids[1], "score": 1.0})  # latest score wins
    assert r.status_code == 200
    await served.logged(ids)

    code, out, err = await asyncio.to_thread(
        _cli, ["router", "report", "--config", str(served.config), "--json"], capsys
    )
    assert code == 0, err
    [auto] = json.loads(out)
    assert auto["router"] == "auto"
    assert auto["strong"] == "strong"
    assert auto["requests"] == 8
    assert auto["chosen"] == {"strong": 4, "cheap": 4}
    assert 0 < auto["cost"] < auto["always_strong"]
    assert 0 < auto["saving"] < 1
    assert auto["feedback"]["strong"] == {"n": 4, "mean": pytest.approx(0.9)}
    assert auto["feedback"]["cheap"]["n"] == 4
    assert auto["feedback"]["cheap"]["mean"] == pytest.approx((0.2 * 3 + 1.0) / 4)
    code, out, err = await asyncio.to_thread(
        _cli, ["router", "report", "--config", str(served.config)], capsys
    )
    assert code == 0
    assert "always strong" in out
    assert "auto" in out

    out_dir = tmp_path / "from-logs"
    argv = ["router", "train", "--from-logs", "--config", str(served.config), "--router", "knn"]
    code, out, err = await asyncio.to_thread(_cli, [*argv, "--out", str(out_dir)], capsys)
    assert code == 0, err
    assert "8 logged requests with feedback" in out
    trained = artifact.load(out_dir)
    assert trained.models == ["cheap", "strong"]
    assert trained.manifest.mean_costs is not None  # from the logged costs
    code, out, err = await asyncio.to_thread(
        _cli, [*argv[:-1], "mf", "--out", str(tmp_path / "mf")], capsys
    )
    assert code == 2
    assert "knn or linear" in err


async def test_from_logs_without_bodies_says_so(
    bodiless: Served, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ids = await _ask(bodiless, ALICE, [HARD, EASY])
    for gen_id in ids:
        assert (await bodiless.feedback(ALICE, {"id": gen_id, "score": 1})).status_code == 200
    await bodiless.logged(ids)
    argv = ["router", "train", "--from-logs", "--config", str(bodiless.config)]
    code, _out, err = await asyncio.to_thread(
        _cli, [*argv, "--router", "linear", "--out", str(tmp_path / "x")], capsys
    )
    assert code == 2
    assert "store_bodies: true" in err
    assert "2 logged requests have feedback" in err
