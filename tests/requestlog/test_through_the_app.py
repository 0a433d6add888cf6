"""The request log through the real app over a socket, with the openai SDK,
on both backends: each row's fields against what the client saw."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anthropic
import httpx
import openai
import pytest
from prometheus_client.parser import text_string_to_metric_families

from _openrouter_schema import errors as openrouter_errors
from _serving import serve_on_loopback
from junction.config import Config, Server, key_digest, load_config, parse_config
from junction.server.app import create_app
from junction.server.serving import build_server
from junction.sim import Profile, start

ROOT = Path(__file__).resolve().parents[2]
ALICE = "sk-alice-log-0001"
BOB = "sk-bob-log-0002"
MASTER = "sk-master-log-0003"

EXTRA = """
server:
  master_key: ${{MASTER}}
keys:
  - {{name: alice, key: '${{ALICE}}'}}
  - {{name: bob, key: '${{BOB}}', store_bodies: true}}
stores:
  database_url: '{db}'
request_log:
  flush_interval: 0.05
  batch_size: 50
models:
  test/dead-then-alive:
    deployments:
      - {{provider: openai, name: nowhere, model: x, base_url: 'http://127.0.0.1:9/v1', api_key: k}}
      - {{provider: openai, name: alive, model: alive, base_url: '{sim}/v1', api_key: k}}
"""


def log_config(sim_url: str, database_url: str) -> Config:
    env = {"JUNCTION_SIM_URL": sim_url, "ALICE": ALICE, "BOB": BOB, "MASTER": MASTER}
    config = load_config(ROOT / "examples" / "sim.yaml", env)
    extra = parse_config(EXTRA.format(sim=sim_url, db=database_url), env)
    config.models.update(extra.models)
    config.keys = extra.keys
    config.server.master_key = extra.server.master_key
    config.stores = extra.stores
    config.request_log = extra.request_log
    return config


@dataclass
class Served:
    url: str
    sim: httpx.AsyncClient
    admin: httpx.AsyncClient
    app: Any

    def client(self, key: str = ALICE) -> openai.AsyncOpenAI:
        return openai.AsyncOpenAI(base_url=f"{self.url}/v1", api_key=key, max_retries=0)

    async def row(self, gen_id: str) -> dict[str, Any]:
        """The logged row of ``gen_id``, once the writer has flushed it."""
        for _ in range(200):  # 10 s
            r = await self.admin.get("/admin/logs", params={"limit": 1000})
            assert r.status_code == 200, r.text
            for row in r.json()["data"]:
                if row["id"] == gen_id:
                    found: dict[str, Any] = row
                    return found
            await asyncio.sleep(0.05)
        raise AssertionError(f"no row for {gen_id}")


@pytest.fixture
async def served(database_url: str, request: pytest.FixtureRequest) -> AsyncIterator[Served]:
    runner, sim_url = await start(Profile())
    config = log_config(sim_url, database_url)
    if request.node.get_closest_marker("store_bodies"):
        config.request_log.store_bodies = True
        config.request_log.redact_keys = ["password"]
        config.request_log.redact_patterns = [r"sk-[a-z]{8,}"]
    rate = request.node.get_closest_marker("refused_rows_per_second")
    if rate is not None:
        config.request_log.refused_rows_per_second = rate.args[0]
    app = create_app(config)
    server = build_server(app, Server(), log_level="warning")
    task, port = await serve_on_loopback(server)
    url = f"http://127.0.0.1:{port}"
    sim = httpx.AsyncClient(base_url=sim_url, timeout=10)
    admin = httpx.AsyncClient(
        base_url=url, timeout=10, headers={"authorization": f"Bearer {MASTER}"}
    )
    try:
        yield Served(url, sim, admin, app)
    finally:
        await admin.aclose()
        await sim.aclose()
        server.should_exit = True
        await task
        await runner.cleanup()


async def _seen_cost(served: Served, gen_id: str) -> float:
    """The cost the client can read back (``GET /api/v1/generation``)."""
    async with httpx.AsyncClient(base_url=served.url, timeout=10) as http:
        r = await http.get(
            "/api/v1/generation",
            params={"id": gen_id},
            headers={"authorization": f"Bearer {ALICE}"},
        )
    assert r.status_code == 200, r.text
    cost: float = r.json()["data"]["total_cost"]
    return cost


async def test_a_plain_request_is_logged_as_the_client_saw_it(served: Served) -> None:
    async with served.client() as client:
        answer = await client.chat.completions.create(
            model="sim/openai",
            messages=[{"role": "user", "content": "hello log"}],
            user="end-user-7",
            metadata={"job": "nightly"},
            extra_headers={"x-junction-tags": "batch, eval"},
        )
    row = await served.row(answer.id)
    assert answer.usage is not None
    assert row["prompt_tokens"] == answer.usage.prompt_tokens
    assert row["completion_tokens"] == answer.usage.completion_tokens
    assert row["cost"] == pytest.approx(await _seen_cost(served, answer.id))
    assert row["cost"] > 0
    assert row["key_id"] == "config:alice"
    assert row["key_name"] == "alice"
    assert row["model_asked"] == "sim/openai"
    assert row["model_used"] == "sim/openai"
    assert row["provider"] == "sim-openai"
    assert row["status"] == 200
    assert row["error"] is None
    assert row["streamed"] is False
    assert row["cancelled"] is False
    assert row["cache_hit"] is False
    assert row["door"] == "openai_chat"
    assert row["tags"] == ["batch", "eval"]
    assert row["request_user"] == "end-user-7"
    assert row["metadata"] == {"job": "nightly"}
    assert row["body"] is None  # bodies are off by default
    assert [a["status"] for a in row["attempts"]] == [200]
    assert row["latency_ms"] > 0
    # The tag filter finds it; another tag does not.
    r = await served.admin.get("/admin/logs", params={"tag": "eval"})
    assert [x["id"] for x in r.json()["data"]] == [answer.id]
    r = await served.admin.get("/admin/logs", params={"tag": "prod"})
    assert r.json()["data"] == []


async def test_a_streamed_request_is_logged_with_its_usage(served: Served) -> None:
    async with served.client() as client:
        stream = await client.chat.completions.create(
            model="sim/openai",
            messages=[{"role": "user", "content": "stream to the log"}],
            stream=True,
            stream_options={"include_usage": True},
        )
        chunks = [c async for c in stream]
    usage = next(c.usage for c in chunks if c.usage is not None)
    row = await served.row(chunks[0].id)
    assert {c.id for c in chunks} == {row["id"]}
    assert row["streamed"] is True
    assert row["prompt_tokens"] == usage.prompt_tokens
    assert row["completion_tokens"] == usage.completion_tokens
    assert row["ttft_ms"] is not None
    assert row["cost"] == pytest.approx(await _seen_cost(served, row["id"]))


async def test_a_failed_over_request_logs_every_attempt(served: Served) -> None:
    async with served.client() as client:
        answer = await client.chat.completions.create(
            model="test/dead-then-alive", messages=[{"role": "user", "content": "fail over"}]
        )
    row = await served.row(answer.id)
    endpoints = [a["provider"] for a in row["attempts"]]
    assert endpoints == ["nowhere", "alive"]
    assert row["attempts"][0]["error"]
    assert row["attempts"][1]["error"] is None
    assert row["provider"] == "alive"
    assert row["status"] == 200


async def test_a_failed_request_is_logged_with_its_error(served: Served) -> None:
    r = await served.sim.post(
        "/_sim/fail", json={"model": "gpt-4o-mini", "kind": "server_error", "count": 10}
    )
    assert r.status_code == 200, r.text
    async with served.client() as client:
        with pytest.raises(openai.APIStatusError) as caught:
            await client.chat.completions.create(
                model="sim/openai", messages=[{"role": "user", "content": "boom"}]
            )
    gen_id = caught.value.response.headers.get("x-junction-id") or ""
    r = await served.admin.get("/admin/logs", params={"key": "config:alice", "limit": 10})
    for _ in range(100):
        rows = [x for x in r.json()["data"] if x["status"] >= 400]
        if rows:
            break
        await asyncio.sleep(0.05)
        r = await served.admin.get("/admin/logs", params={"key": "config:alice", "limit": 10})
    assert rows, r.text
    row = rows[0]
    assert row["status"] == caught.value.status_code
    assert row["error"]
    assert gen_id in ("", row["id"])
    spend = (await served.admin.get("/admin/spend", params={"by": "key"})).json()["data"]
    assert sum(s["errors"] for s in spend) >= 1


async def test_a_cancelled_stream_is_logged_as_cancelled(served: Served) -> None:
    r = await served.sim.put(
        "/_sim/models/gpt-4o-mini", json={"tokens_per_second": 20, "output_tokens": 400}
    )
    assert r.status_code == 200, r.text
    async with served.client() as client:
        stream = await client.chat.completions.create(
            model="sim/openai",
            messages=[{"role": "user", "content": "a long answer please"}],
            stream=True,
        )
        first = None
        async for chunk in stream:
            first = chunk
            break
        await stream.close()
    assert first is not None
    row = await served.row(first.id)
    assert row["cancelled"] is True
    assert row["streamed"] is True


async def test_the_generation_lookup_falls_back_to_the_log(served: Served) -> None:
    async with served.client() as client:
        answer = await client.chat.completions.create(
            model="sim/openai", messages=[{"role": "user", "content": "remember me"}]
        )
    await served.row(answer.id)
    gateway = served.app.context.state.gateway
    gateway.generations._items.clear()  # as after a restart, or on another process
    async with httpx.AsyncClient(base_url=served.url, timeout=10) as http:
        mine = await http.get(
            "/api/v1/generation",
            params={"id": answer.id},
            headers={"authorization": f"Bearer {ALICE}"},
        )
        theirs = await http.get(
            "/api/v1/generation",
            params={"id": answer.id},
            headers={"authorization": f"Bearer {BOB}"},
        )
        master = await http.get(
            "/api/v1/generation",
            params={"id": answer.id},
            headers={"authorization": f"Bearer {MASTER}"},
        )
    assert mine.status_code == 200, mine.text
    data = mine.json()["data"]
    assert data["id"] == answer.id
    assert answer.usage is not None
    assert data["tokens_prompt"] == answer.usage.prompt_tokens
    assert theirs.status_code == 404
    assert master.status_code == 200


async def test_spend_and_csv_exports(served: Served) -> None:
    async with served.client() as client:
        ids = []
        for i in range(3):
            a = await client.chat.completions.create(
                model="sim/openai", messages=[{"role": "user", "content": f"n {i}"}]
            )
            ids.append(a.id)
    for gen_id in ids:
        await served.row(gen_id)
    spend = await served.admin.get("/admin/spend", params={"group_by": "hour", "by": "model"})
    assert spend.status_code == 200
    rows = {r["model"]: r for r in spend.json()["data"]}
    logs = (await served.admin.get("/admin/logs", params={"model": "sim/openai"})).json()["data"]
    assert rows["sim/openai"]["requests"] == len(logs) == 3
    assert rows["sim/openai"]["cost"] == pytest.approx(sum(r["cost"] for r in logs))
    assert rows["sim/openai"]["prompt_tokens"] == sum(r["prompt_tokens"] for r in logs)
    text = await served.admin.get("/admin/logs", params={"format": "csv", "limit": 2})
    assert text.headers["content-type"].startswith("text/csv")
    parsed = list(csv.DictReader(io.StringIO(text.text)))
    assert [p["id"] for p in parsed] == [r["id"] for r in logs[:2]]
    assert "x-next-cursor" in text.headers
    nxt = await served.admin.get("/admin/logs", params={"cursor": text.headers["x-next-cursor"]})
    assert [r["id"] for r in nxt.json()["data"]] == [logs[2]["id"]]
    spend_csv = await served.admin.get("/admin/spend", params={"format": "csv", "by": "key"})
    parsed = list(csv.DictReader(io.StringIO(spend_csv.text)))
    assert parsed[0]["key"] == "config:alice"
    assert int(parsed[0]["requests"]) == 3


async def test_the_admin_routes_need_the_master_key_and_name_bad_params(served: Served) -> None:
    async with httpx.AsyncClient(base_url=served.url, timeout=10) as http:
        r = await http.get("/admin/logs", headers={"authorization": f"Bearer {ALICE}"})
        assert r.status_code == 403
        r = await http.get("/admin/spend")
        assert r.status_code == 401
    r = await served.admin.get("/admin/logs", params={"limit": "0"})
    assert r.status_code == 400
    assert "limit" in r.text
    r = await served.admin.get("/admin/spend", params={"group_by": "week"})
    assert r.status_code == 400
    assert "group_by" in r.text


async def test_junction_logs_and_spend_in_the_terminal(
    served: Served, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from junction.cli import main

    monkeypatch.setenv("COLUMNS", "200")  # rich: a wide terminal, no wrapped cells

    async with served.client() as client:
        answer = await client.chat.completions.create(
            model="sim/openai", messages=[{"role": "user", "content": "cli"}]
        )
    await served.row(answer.id)
    base = ["--url", served.url, "--master-key", MASTER]
    assert await asyncio.to_thread(main, ["logs", *base, "--json", "--key", "config:alice"]) == 0
    body = json.loads(capsys.readouterr().out)
    assert [r["id"] for r in body["data"]] == [answer.id]
    assert await asyncio.to_thread(main, ["spend", *base, "--by", "model"]) == 0
    table = capsys.readouterr().out
    assert "sim/openai" in table
    assert await asyncio.to_thread(main, ["logs", *base, "--csv"]) == 0
    assert answer.id in capsys.readouterr().out
    assert await asyncio.to_thread(main, ["logs", "--url", served.url, "--master-key", BOB]) == 1
    assert "403" in capsys.readouterr().err


@pytest.mark.store_bodies
async def test_bodies_when_enabled_are_stored_redacted(served: Served) -> None:
    async with served.client() as client:
        answer = await client.chat.completions.create(
            model="sim/openai",
            messages=[{"role": "user", "content": "token sk-abcdefghij here"}],
            metadata={"password": "hunter2"},
        )
    row = await served.row(answer.id)
    body = json.loads(row["body"])
    assert body["messages"][0]["content"] == "token [REDACTED] here"
    assert body["metadata"]["password"] == "[REDACTED]"
    assert "hunter2" not in row["body"]


async def _virtual_key(served: Served, **body: Any) -> str:
    r = await served.admin.post("/admin/keys", json={"name": "v", **body})
    assert r.status_code == 201, r.text
    secret: str = r.json()["key"]
    return secret


async def _logged_body(served: Served, key: str, text: str) -> str | None:
    async with served.client(key) as client:
        answer = await client.chat.completions.create(
            model="sim/openai", messages=[{"role": "user", "content": text}]
        )
    body: str | None = (await served.row(answer.id))["body"]
    return body


async def test_bodies_per_key_and_team_override_the_config(served: Served) -> None:
    """request_log.store_bodies is off here: a key's own setting wins, then its team's."""
    r = await served.admin.post("/admin/teams", json={"name": "keepers", "store_bodies": True})
    assert r.status_code == 201, r.text
    team = r.json()["id"]
    inherits_team = await _virtual_key(served, team=team)
    opts_out = await _virtual_key(served, team=team, store_bodies=False)
    opts_in = await _virtual_key(served, store_bodies=True)
    plain = await _virtual_key(served)
    body = await _logged_body(served, inherits_team, "team says keep")
    assert body is not None
    assert json.loads(body)["messages"][0]["content"] == "team says keep"
    assert await _logged_body(served, opts_out, "key says no") is None
    assert await _logged_body(served, opts_in, "key says keep") is not None
    assert await _logged_body(served, plain, "config says no") is None
    assert await _logged_body(served, BOB, "config key says keep") is not None
    assert await _logged_body(served, ALICE, "config key inherits") is None
    # A change through the admin API reaches the next request (after the key cache).
    key_id = (await served.admin.get("/admin/keys", params={"team": team})).json()["data"][0]
    r = await served.admin.patch(f"/admin/teams/{team}", json={"store_bodies": False})
    assert r.status_code == 200, r.text
    await asyncio.sleep(1.1)  # stores.key_cache_seconds
    assert key_id["store_bodies"] is None
    assert await _logged_body(served, inherits_team, "team now says no") is None


@pytest.mark.store_bodies
async def test_a_key_can_opt_out_of_bodies_the_config_keeps(served: Served) -> None:
    opts_out = await _virtual_key(served, store_bodies=False)
    assert await _logged_body(served, opts_out, "not this one") is None
    body = await _logged_body(served, await _virtual_key(served), "password sk-abcdefghijk")
    assert body is not None
    assert "sk-abcdefghijk" not in body  # redaction applies to every stored body


async def _refused_rows(served: Served, want: int) -> list[dict[str, Any]]:
    for _ in range(200):
        r = await served.admin.get("/admin/logs", params={"status": "401", "limit": 1000})
        rows: list[dict[str, Any]] = r.json()["data"]
        if len(rows) >= want:
            return rows
        await asyncio.sleep(0.05)
    raise AssertionError(f"{len(rows)} rows of 401s, not {want}: {rows}")


def _requests_401(text: str) -> dict[tuple[str, str], float]:
    """junction_requests_total{status="401"} by (door, key)."""
    found: dict[tuple[str, str], float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = sample.labels
            if sample.name == "junction_requests_total" and labels.get("status") == "401":
                found[(labels["door"], labels["key"])] = sample.value
    return found


async def test_refused_keys_are_logged_and_counted_without_their_secret(served: Served) -> None:
    r = await served.admin.post("/admin/teams", json={"name": "gone"})
    team = r.json()["id"]
    r = await served.admin.post("/admin/keys", json={"name": "soon revoked", "team": team})
    revoked_secret, revoked_id = r.json()["key"], r.json()["id"]
    expires = time.time() + 1.0
    r = await served.admin.post("/admin/keys", json={"name": "soon expired", "expires_at": expires})
    expired_secret, expired_id = r.json()["key"], r.json()["id"]
    assert (await served.admin.delete(f"/admin/keys/{revoked_id}")).status_code == 200
    unknown = "sk-jx-not-a-key-of-this-gateway-at-all"
    async with served.client(unknown) as client:
        with pytest.raises(openai.AuthenticationError):
            await client.chat.completions.create(model="sim/openai", messages=[])
    async with served.client(revoked_secret) as client:
        with pytest.raises(openai.AuthenticationError):
            await client.chat.completions.create(model="sim/openai", messages=[])
    async with anthropic.AsyncAnthropic(base_url=served.url, api_key=unknown) as claude:
        with pytest.raises(anthropic.AuthenticationError):
            await claude.messages.create(model="sim/anthropic", max_tokens=5, messages=[])
    await asyncio.sleep(max(0.0, expires - time.time() + 0.05))  # past the expiry
    async with served.client(expired_secret) as client:
        with pytest.raises(openai.AuthenticationError):
            await client.models.list()
    rows = await _refused_rows(served, 4)
    assert len(rows) == 4
    by_key = {row["key_id"]: row for row in rows}
    assert by_key[revoked_id]["team"] == team
    assert by_key[revoked_id]["key_name"] == "soon revoked"
    assert by_key[expired_id]["door"] == "openai_chat"
    assert sorted(r["door"] for r in rows if r["key_id"] == "") == [
        "anthropic_messages",
        "openai_chat",
    ]
    for row in rows:
        assert row["status"] == 401
        assert row["error"] == "authentication"
        assert row["id"].startswith("gen-")
        assert row["attempts"] == []
        assert row["body"] is None
        text = json.dumps(row)
        for secret in (unknown, revoked_secret, expired_secret):
            assert secret not in text
            assert key_digest(secret) not in text
            assert secret[:10] not in text  # not even the prefix
    spend = (await served.admin.get("/admin/spend", params={"by": "key"})).json()["data"]
    assert {s["key"]: s["errors"] for s in spend if s["key"] in (revoked_id, expired_id)} == {
        revoked_id: 1,
        expired_id: 1,
    }
    metrics = (await served.admin.get("/metrics")).text
    counted = _requests_401(metrics)
    assert counted[("openai_chat", "none")] == 1
    assert counted[("anthropic_messages", "none")] == 1
    assert counted[("openai_chat", revoked_id)] == 1
    assert counted[("openai_chat", expired_id)] == 1
    for secret in (unknown, revoked_secret, expired_secret):
        assert secret not in metrics
        assert key_digest(secret) not in metrics


@pytest.mark.refused_rows_per_second(5)
async def test_a_spray_of_bad_keys_is_counted_but_its_rows_are_bounded(served: Served) -> None:
    rate = 5
    writer = served.app.context.state.request_log.writer
    sprayed = 300
    started = time.monotonic()
    async with httpx.AsyncClient(base_url=served.url, timeout=10) as http:
        for i in range(0, sprayed, 30):
            answers = await asyncio.gather(
                *(
                    http.post(
                        "/v1/chat/completions",
                        json={"model": "sim/openai", "messages": []},
                        headers={"authorization": f"Bearer sk-guess-{i + j:06d}"},
                    )
                    for j in range(30)
                )
            )
            assert {a.status_code for a in answers} == {401}
    elapsed = time.monotonic() - started
    async with served.client() as client:  # an answered request still gets its row
        answer = await client.chat.completions.create(
            model="sim/openai", messages=[{"role": "user", "content": "still here"}]
        )
    await served.row(answer.id)
    rows = (await served.admin.get("/admin/logs", params={"status": "401", "limit": 1000})).json()
    bound = rate + rate * elapsed + 1
    assert 0 < len(rows["data"]) <= bound
    assert writer.refused_unlogged >= sprayed - bound
    counted = _requests_401((await served.admin.get("/metrics")).text)
    assert counted[("openai_chat", "none")] == sprayed  # the metric counts every one


async def _endpoints(served: Served, model: str, key: str) -> dict[str, dict[str, Any]]:
    async with httpx.AsyncClient(base_url=served.url, timeout=10) as http:
        r = await http.get(
            f"/api/v1/models/{model}/endpoints", headers={"authorization": f"Bearer {key}"}
        )
    assert r.status_code == 200, r.text
    data = r.json()["data"]
    assert openrouter_errors("ListEndpointsResponse", data, any_provider_name=True) == []
    return {e["tag"]: e for e in data["endpoints"]}


async def test_endpoint_pages_show_a_key_its_own_requests_from_the_log(served: Served) -> None:
    """Two keys, one model with a dead and a live endpoint: alice's page counts
    alice's attempts, bob's is empty though bob can see the same model, the
    master key sees the gateway's live stats; after a restart (live stats
    forgotten) alice's page is unchanged."""
    model = "test/dead-then-alive"
    async with served.client(ALICE) as client:
        ids = []
        for i in range(3):
            answer = await client.chat.completions.create(
                model=model, messages=[{"role": "user", "content": f"own stats {i}"}]
            )
            ids.append(answer.id)
        stream = await client.chat.completions.create(
            model=model, messages=[{"role": "user", "content": "stream"}], stream=True
        )
        chunks = [c async for c in stream]
        ids.append(chunks[0].id)
    for gen_id in ids:
        await served.row(gen_id)
    dead, alive = "nowhere", "alive"
    mine = await _endpoints(served, model, ALICE)
    assert set(mine) == {dead, alive}
    # Each request tried the dead endpoint first (one attempt each), then the live one.
    assert mine[dead]["uptime_last_30m"] == 0.0
    assert mine[dead]["uptime_last_1d"] == 0.0
    assert mine[dead]["latency_last_30m"] is None  # latency comes from successes only
    assert mine[alive]["uptime_last_5m"] == 100.0
    assert mine[alive]["uptime_last_30m"] == 100.0
    assert mine[alive]["latency_last_30m"]["p50"] > 0
    assert mine[alive]["throughput_last_30m"]["p50"] > 0
    theirs = await _endpoints(served, model, BOB)
    for endpoint in theirs.values():
        assert endpoint["uptime_last_30m"] is None
        assert endpoint["latency_last_30m"] is None
        assert endpoint["throughput_last_30m"] is None
    shared = await _endpoints(served, model, MASTER)
    assert shared[dead]["uptime_last_30m"] == 0.0
    assert shared[alive]["uptime_last_30m"] == 100.0
    # Bob's own traffic shows on bob's page only.
    async with served.client(BOB) as client:
        answer = await client.chat.completions.create(
            model=model, messages=[{"role": "user", "content": "bob's"}]
        )
    await served.row(answer.id)
    theirs = await _endpoints(served, model, BOB)
    assert theirs[dead]["uptime_last_30m"] == 0.0
    assert theirs[alive]["uptime_last_30m"] == 100.0
    assert theirs[alive]["latency_last_30m"] is not None
    # A restart forgets the live stats, not the log.
    served.app.context.state.gateway.reset_state()
    assert (await _endpoints(served, model, MASTER))[alive]["uptime_last_30m"] is None
    again = await _endpoints(served, model, ALICE)
    assert again[alive]["uptime_last_30m"] == 100.0
    assert again[alive]["latency_last_30m"] == mine[alive]["latency_last_30m"]
    assert again[dead]["uptime_last_30m"] == 0.0


@pytest.mark.store_bodies
async def test_the_gemini_door_logs_tags_the_model_asked_and_the_body(served: Served) -> None:
    """The Gemini door's rows carry what the OpenAI door's do: the client's
    x-junction-tags, the model it asked for and (kept here) its body, redacted."""
    from google import genai
    from google.genai import types

    client = genai.Client(
        api_key=ALICE,
        http_options=types.HttpOptions(
            base_url=served.url,
            api_version="v1beta",
            headers={"x-junction-tags": "gemini-batch"},
        ),
    )
    answer = await client.aio.models.generate_content(
        model="sim/openai", contents="my token is sk-abcdefghij, keep it"
    )
    assert answer.text
    assert answer.response_id is not None
    row = await served.row(answer.response_id)  # Gemini's responseId is junction's id
    r = await served.admin.get("/admin/logs", params={"tag": "gemini-batch"})
    assert [x["id"] for x in r.json()["data"]] == [answer.response_id]
    assert row["door"] == "gemini"
    assert row["tags"] == ["gemini-batch"]
    assert row["model_asked"] == "sim/openai"
    assert row["key_id"] == "config:alice"
    assert answer.usage_metadata is not None
    assert row["completion_tokens"] == answer.usage_metadata.candidates_token_count
    assert "sk-abcdefghij" not in row["body"]
    assert json.loads(row["body"])["contents"][0]["parts"][0]["text"] == (
        "my token is [REDACTED], keep it"
    )
