"""Fixtures: a simulator served in-process on a random port, and clients for it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest

from junction.sim import Profile, parse_profile, start


class Sim:
    """A running simulator: its base URL and a client for the control endpoint."""

    def __init__(self, url: str, http: httpx.AsyncClient) -> None:
        self.url = url
        self.http = http

    async def fail(self, kind: str, model: str = "*", count: int = 1) -> None:
        r = await self.http.post("/_sim/fail", json={"model": model, "kind": kind, "count": count})
        assert r.status_code == 200, r.text

    async def put_model(self, model: str, settings: dict[str, Any]) -> dict[str, Any]:
        r = await self.http.put(f"/_sim/models/{model}", json=settings)
        assert r.status_code == 200, r.text
        body: dict[str, Any] = r.json()
        return body

    async def stats(self) -> dict[str, Any]:
        body: dict[str, Any] = (await self.http.get("/_sim/stats")).json()
        return body

    async def requests(self, limit: int = 50) -> list[dict[str, Any]]:
        body = (await self.http.get("/_sim/requests", params={"limit": limit})).json()
        found: list[dict[str, Any]] = body["requests"]
        return found


SimFactory = Callable[..., Awaitable[Sim]]


@pytest.fixture
async def make_sim() -> AsyncIterator[SimFactory]:
    """Start simulators with a given profile (a dict as in the YAML file)."""
    stops: list[Any] = []

    async def factory(profile: dict[str, Any] | Profile | None = None) -> Sim:
        if isinstance(profile, dict):
            profile = parse_profile(profile)
        runner, url = await start(profile or Profile())
        http = httpx.AsyncClient(base_url=url, timeout=10.0)
        stops.append((runner, http))
        return Sim(url, http)

    yield factory
    for runner, http in stops:
        await http.aclose()
        await runner.cleanup()


@pytest.fixture
async def sim(make_sim: SimFactory) -> Sim:
    """A simulator with the default profile: no latency, no faults."""
    return await make_sim()
