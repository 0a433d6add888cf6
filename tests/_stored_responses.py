"""Helpers of tests/responses/ (stored Responses; not a conftest.py, whose
module name would shadow tests/gateway's): a gateway whose model the simulator serves in
Anthropic's dialect (so a rebuilt conversation is proven to reach a
non-Responses upstream), with the response store on each backend.

PostgreSQL and Redis rule (as tests/stores/conftest.py): a server that
cannot be reached skips the test, except with ``CI=true``, where it fails.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from _servers import POSTGRES_URL, unavailable
from _serving import serve_on_loopback
from junction.config import Server, parse_config
from junction.server.app import create_app
from junction.server.serving import build_server
from junction.sim import Profile, start

POSTGRES = POSTGRES_URL.rsplit("/", 1)[0]
"""The test server, without a database name."""
ALICE = "sk-alice-responses-0123"
BOB = "sk-bob-responses-4567"
MASTER = "sk-master-responses-89"


def unreachable(what: str, exc: BaseException) -> None:
    """Skip (fail under CI=true) when a test's server cannot be reached."""
    unavailable(f"{what} is unreachable ({type(exc).__name__}: {exc})")


@contextlib.asynccontextmanager
async def fresh_postgres() -> AsyncIterator[str]:
    """A fresh PostgreSQL database, dropped after."""
    name = f"junction_test_{uuid.uuid4().hex[:12]}"
    try:
        admin = await asyncpg.connect(f"{POSTGRES}/postgres", timeout=3)
    except (TimeoutError, OSError, asyncpg.PostgresError) as exc:
        unreachable(f"PostgreSQL at {POSTGRES}", exc)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        yield f"{POSTGRES}/{name}"
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


@dataclass
class Gw:
    url: str
    sim: httpx.AsyncClient
    app: Any

    async def sim_requests(self, limit: int = 5) -> list[dict[str, Any]]:
        r = await self.sim.get("/_sim/requests", params={"limit": limit})
        found: list[dict[str, Any]] = r.json()["requests"]
        return found


def gateway_yaml(sim: str, database_url: str | None, keys: bool) -> str:
    text = f"""
models:
  sim/anthropic:
    deployments:
      - {{provider: anthropic, name: sim-anthropic, model: claude-sonnet-4-5,
          base_url: '{sim}', api_key: k}}
"""
    if database_url is not None:
        text += (
            f"responses: {{store: true, ttl_days: 1}}\nstores: {{database_url: '{database_url}'}}\n"
        )
    if keys:
        text += (
            "server:\n  master_key: ${MASTER}\n"
            "keys:\n  - name: alice\n    key: ${ALICE}\n  - name: bob\n    key: ${BOB}\n"
        )
    return text


async def run_gateway(database_url: str | None, keys: bool = False) -> AsyncIterator[Gw]:
    runner, sim_url = await start(Profile())
    env = {"ALICE": ALICE, "BOB": BOB, "MASTER": MASTER}
    config = parse_config(gateway_yaml(sim_url, database_url, keys), env)
    app = create_app(config)
    server = build_server(app, Server(), log_level="warning")
    task, port = await serve_on_loopback(server)
    sim = httpx.AsyncClient(base_url=sim_url, timeout=10)
    try:
        yield Gw(f"http://127.0.0.1:{port}", sim, app)
    finally:
        await sim.aclose()
        server.should_exit = True
        await task
        await runner.cleanup()


@pytest.fixture(name="gw", scope="module", params=["sqlite", "postgres"])
async def stored_gateway(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Gw]:
    """The gateway with keys alice, bob and a master key, the store on
    SQLite or on PostgreSQL."""
    if request.param == "sqlite":
        url = f"sqlite:///{Path(tmp_path_factory.mktemp('responses')) / 'junction.db'}"
        async for stack in run_gateway(url, keys=True):
            yield stack
        return
    async with fresh_postgres() as url:
        async for stack in run_gateway(url, keys=True):
            yield stack
