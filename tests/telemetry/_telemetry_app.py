"""The real app (embedded simulator) on a loopback socket, for telemetry tests."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

from _serving import serve_on_loopback
from junction.config import Config, parse_config
from junction.server.app import create_app
from junction.server.serving import build_server

MASTER = "sk-master-telemetry-0000"
KEYS = {"alpha": "sk-alpha-telemetry-0001", "beta": "sk-beta-telemetry-0002"}


def config_text(sim_url: str, telemetry: str = "", keys: dict[str, str] | None = None) -> str:
    """``sim/openai`` on the simulator, ``test/broken`` on the discard port."""
    text = (
        "models:\n"
        "  sim/openai:\n"
        "    deployments:\n"
        f"      - {{provider: openai, name: sim-openai, model: gpt-4o-mini,"
        f" base_url: '{sim_url}/v1', api_key: sim-key}}\n"
        "  test/broken:\n"
        "    deployments:\n"
        "      - {provider: openai, name: broken, model: m,"
        " base_url: 'http://127.0.0.1:9/v1', api_key: sim-key}\n"
    )
    if keys:
        text += f"server: {{master_key: {MASTER}}}\nkeys:\n"
        text += "".join(f"  - {{name: {n}, key: {k}}}\n" for n, k in keys.items())
    if telemetry:
        text += f"telemetry: {telemetry}\n"
    return text


@asynccontextmanager
async def gateway(telemetry: str = "", keys: dict[str, str] | None = None) -> AsyncIterator[Any]:
    """The app serving on a loopback port: yields (app, base url)."""

    def load(sim_url: str) -> Config:
        return parse_config(config_text(sim_url, telemetry, keys), {})

    app = create_app(load, embedded_sim=True)
    server = build_server(app, parse_config("models: {}", {}).server, log_level="warning")
    task, port = await serve_on_loopback(server)
    try:
        yield app, f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 30)


async def scrape(base: str) -> dict[str, Any]:
    """``GET /metrics`` parsed by prometheus_client's own parser: families by name."""
    async with httpx.AsyncClient() as client:
        reply = await client.get(f"{base}/metrics")
    assert reply.status_code == 200, reply.text
    assert reply.headers["content-type"].startswith("text/plain")
    return {f.name: f for f in text_string_to_metric_families(reply.text)}


def samples(families: dict[str, Any], name: str, **labels: str) -> list[Any]:
    """The samples named ``name`` whose labels include ``labels``."""
    return [
        s
        for family in families.values()
        for s in family.samples
        if s.name == name and all(s.labels.get(k) == v for k, v in labels.items())
    ]


def total(families: dict[str, Any], name: str, **labels: str) -> float:
    return sum(s.value for s in samples(families, name, **labels))
