"""The admin tests' gateway fixture (what it serves: tests/admin/_admin.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from _admin import CONFIG, MASTER, Admin
from _admin_records import ListRecords
from _serving import serve_on_loopback
from junction.config import parse_config
from junction.server.app import create_app
from junction.server.serving import build_server


@pytest.fixture(scope="session")
async def admin() -> AsyncIterator[Admin]:
    app = create_app(parse_config(CONFIG, {}))
    server = build_server(app, parse_config(CONFIG, {}).server, log_level="warning")
    task, port = await serve_on_loopback(server)
    gateway = app.context.state.gateway
    records = ListRecords()
    gateway.stores.records = records
    url = f"http://127.0.0.1:{port}"
    http = httpx.AsyncClient(
        base_url=url, timeout=10, headers={"authorization": f"Bearer {MASTER}"}
    )
    anon = httpx.AsyncClient(base_url=url, timeout=10)
    try:
        yield Admin(url, http, anon, records, gateway)
    finally:
        await http.aclose()
        await anon.aclose()
        server.should_exit = True
        await task
