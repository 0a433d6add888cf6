"""A live stack for the cache tests: the simulator and a gateway on real
loopback sockets, the response cache on, the request log in SQLite, keys
on (a master key; virtual keys through the admin API). The simulator's
``/_sim/stats`` counts the upstream calls."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anthropic
import httpx
import openai
from aiohttp import web

from _serving import serve_on_loopback
from junction.config import Config, Server, load_config, parse_config
from junction.gateway import Gateway  # before junction.policy: the import order they need
from junction.policy import ResponseCaching
from junction.policy.periods import Periods
from junction.server.app import create_app
from junction.server.serving import build_server
from junction.sim import Profile, start
from junction.stores import Check

ROOT = Path(__file__).resolve().parents[2]
MASTER = "sk-master-cache-0001"

CACHE = """
server:
  master_key: {master}
stores:
  database_url: 'sqlite:///{db}'
{redis}
request_log:
  flush_interval: 0.05
  batch_size: 50
cache:
  enabled: true
  backend: {backend}
  ttl: 600
  max_ttl: 3600
{semantic}
"""


def cache_config(
    sim_url: str,
    db: Path,
    backend: str = "memory",
    redis: str = "",
    semantic: str = "",
) -> Config:
    """examples/sim.yaml's models with the cache, keys and the log on."""
    env = {"JUNCTION_SIM_URL": sim_url}
    config = load_config(ROOT / "examples" / "sim.yaml", env)
    text = CACHE.format(master=MASTER, db=db, backend=backend, redis=redis, semantic=semantic)
    # The embedding model again, so that cache.semantic.model validates here too.
    models = (
        "models:\n  sim/embedding:\n    kind: embedding\n    deployments:\n"
        f"      - {{provider: openai, model: text-embedding-3-small, base_url: '{sim_url}/v1'}}\n"
    )
    extra = parse_config(text + models, env)
    config.server.master_key = extra.server.master_key
    config.stores = extra.stores
    config.request_log = extra.request_log
    config.cache = extra.cache
    return config


@dataclass
class Stack:
    url: str
    sim: httpx.AsyncClient
    admin: httpx.AsyncClient
    app: Any

    @property
    def gateway(self) -> Gateway:
        gw: Gateway = self.app.context.state.gateway
        return gw

    def openai(self, key: str = MASTER) -> openai.AsyncOpenAI:
        return openai.AsyncOpenAI(base_url=f"{self.url}/v1", api_key=key, max_retries=0)

    def anthropic(self, key: str = MASTER) -> anthropic.AsyncAnthropic:
        return anthropic.AsyncAnthropic(base_url=self.url, api_key=key, max_retries=0)

    async def upstream_calls(self) -> int:
        """Requests the simulator has received so far."""
        calls: int = (await self.sim.get("/_sim/stats")).json()["requests"]
        return calls

    async def sim_model(self, model: str, settings: dict[str, Any]) -> None:
        r = await self.sim.put(f"/_sim/models/{model}", json=settings)
        assert r.status_code == 200, r.text

    async def sim_fail(self, model: str, kind: str, count: int = 1) -> None:
        r = await self.sim.post("/_sim/fail", json={"model": model, "kind": kind, "count": count})
        assert r.status_code == 200, r.text

    async def key(self, **fields: Any) -> str:
        r = await self.admin.post("/admin/keys", json={"name": f"k{time.time_ns()}", **fields})
        assert r.status_code == 201, r.text
        secret: str = r.json()["key"]
        return secret

    async def kept(self) -> None:
        """Wait until the cache has written the answers of finished requests."""
        for stage in self.gateway.policy.everyone:
            if isinstance(stage, ResponseCaching):
                await stage.drain()

    async def spent(self, key_id: str) -> float:
        """What the key's budget counter holds (USD), once every settle is done."""
        gw = self.gateway
        await gw.admission.drain()
        record = await gw.stores.records.key(key_id)
        assert record is not None
        now = time.time()
        window = Periods("UTC").window(record.limits.budget_period, now)
        check = Check(f"key:{key_id}", "spend", 1e9, 0.0, window)
        verdict = await gw.stores.counters.admit([check], now)
        return float(verdict.used[0])

    async def row(self, gen_id: str) -> dict[str, Any]:
        """The request-log row of ``gen_id``, once the writer has flushed it."""
        for _ in range(200):
            r = await self.admin.get("/admin/logs", params={"limit": 1000})
            assert r.status_code == 200, r.text
            for row in r.json()["data"]:
                if row["id"] == gen_id:
                    found: dict[str, Any] = row
                    return found
            await asyncio.sleep(0.05)
        raise AssertionError(f"no row for {gen_id}")


@asynccontextmanager
async def simulator() -> AsyncIterator[tuple[web.AppRunner, str]]:
    runner, url = await start(Profile())
    try:
        yield runner, url
    finally:
        await runner.cleanup()


@asynccontextmanager
async def gateway(config: Config, sim_url: str) -> AsyncIterator[Stack]:
    app = create_app(config)
    server = build_server(app, Server(), log_level="warning")
    task, port = await serve_on_loopback(server)
    url = f"http://127.0.0.1:{port}"
    sim = httpx.AsyncClient(base_url=sim_url, timeout=10)
    admin = httpx.AsyncClient(
        base_url=url, timeout=10, headers={"authorization": f"Bearer {MASTER}"}
    )
    try:
        yield Stack(url, sim, admin, app)
    finally:
        await admin.aclose()
        await sim.aclose()
        server.should_exit = True
        await task
