"""PostgreSQL unreachable under load (issue 8, item 4): requests keep being
answered, the request log keeps their rows in memory while the database is
away and writes every one of them when it is back, without a restart.

The database is reached through a TCP proxy that the test stops (every
connection cut, new ones refused) and starts again; the rows are counted on
the real server, around the proxy."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator

import asyncpg  # type: ignore[import-untyped]
import httpx
import pytest

from _servers import fresh_postgres_database
from _serving import serve_on_loopback
from _tcp_proxy import TcpProxy
from junction.config import Config, Server, parse_config
from junction.server.app import create_app
from junction.server.serving import build_server
from junction.sim import Profile, start

KEY = "sk-outage-client-0001"
MASTER = "sk-outage-master-0002"

CONFIG = """
server:
  master_key: {master}
keys:
  - {{name: load, key: {key}}}
stores:
  database_url: '{db}'
  migrate_on_start: true
request_log:
  flush_interval: 0.05
  batch_size: 20
models:
  sim/openai:
    deployments:
      - {{provider: openai, model: gpt-4o-mini, base_url: '{sim}/v1', api_key: k}}
"""


@pytest.fixture
def database() -> Iterator[str]:
    with fresh_postgres_database() as url:
        yield url


@pytest.fixture
async def proxy(database: str) -> AsyncIterator[TcpProxy]:
    host_port = database.split("@", 1)[1].split("/", 1)[0]
    host, _, port = host_port.partition(":")
    proxy = TcpProxy(host, int(port or 5432))
    await proxy.start()
    try:
        yield proxy
    finally:
        await proxy.stop()


def _config(sim_url: str, database: str, proxy: TcpProxy) -> Config:
    name = database.rsplit("/", 1)[1]
    through_proxy = f"postgresql://postgres@127.0.0.1:{proxy.port}/{name}"
    text = CONFIG.format(master=MASTER, key=KEY, db=through_proxy, sim=sim_url)
    return parse_config(text, {})


async def _rows(database: str, ids: set[str]) -> int:
    conn = await asyncpg.connect(database, timeout=5)
    try:
        found = await conn.fetch("SELECT id FROM request_log WHERE id = ANY($1::text[])", list(ids))
    finally:
        await conn.close()
    return len(found)


async def test_every_answered_request_is_logged_across_a_database_outage(
    database: str, proxy: TcpProxy
) -> None:
    runner, sim_url = await start(Profile())
    app = create_app(_config(sim_url, database, proxy))
    server = build_server(app, Server(), log_level="critical")
    task, port = await serve_on_loopback(server)
    answered: set[str] = set()
    phase = {"name": "up"}
    during_outage = 0
    stop = asyncio.Event()

    async def load(http: httpx.AsyncClient) -> None:
        nonlocal during_outage
        body = {"model": "sim/openai", "messages": [{"role": "user", "content": "hello"}]}
        while not stop.is_set():
            r = await http.post("/v1/chat/completions", json=body)
            assert r.status_code == 200, r.text
            answered.add(r.json()["id"])
            if phase["name"] == "down":
                during_outage += 1

    headers = {"authorization": f"Bearer {KEY}"}
    try:
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{port}", headers=headers, timeout=10
        ) as http:
            master = {"authorization": f"Bearer {MASTER}"}
            made = await http.post("/admin/keys", json={"name": "late"}, headers=master)
            assert made.status_code == 201, made.text
            late = {"authorization": f"Bearer {made.json()['key']}"}
            body = {"model": "sim/openai", "messages": [{"role": "user", "content": "hi"}]}
            workers = [asyncio.ensure_future(load(http)) for _ in range(6)]
            await asyncio.sleep(1.0)
            await proxy.stop()
            phase["name"] = "down"
            # A virtual key not yet in the process's cache cannot be checked: 503, not 500.
            refused = await http.post("/v1/chat/completions", json=body, headers=late)
            assert refused.status_code == 503, refused.text
            assert "key store is unreachable" in refused.json()["error"]["message"]
            await asyncio.sleep(2.0)
            phase["name"] = "up"
            await proxy.start()
            await asyncio.sleep(1.0)
            stop.set()
            await asyncio.gather(*workers)

            assert during_outage > 20, "too few requests were made while the database was away"
            logged = 0
            for _ in range(150):  # the writer retries; rows arrive once it reconnects
                logged = await _rows(database, answered)
                if logged == len(answered):
                    break
                await asyncio.sleep(0.1)
            assert logged == len(answered), f"{len(answered) - logged} answered requests unlogged"
            writer = app.context.state.request_log.writer  # type: ignore[attr-defined]
            assert writer.failures >= 1, "the outage never reached the log writer"
            assert writer.dropped == 0

            # The virtual key works again, without a restart.
            again = await http.post("/v1/chat/completions", json=body, headers=late)
            assert again.status_code == 200, again.text
            # The admin API reads the log again, through the same gateway.
            r = await http.get(
                "/admin/logs",
                params={"limit": 1},
                headers={"authorization": f"Bearer {MASTER}"},
            )
            assert r.status_code == 200, r.text
    finally:
        server.should_exit = True
        with contextlib.suppress(Exception):
            await task
        await runner.cleanup()
