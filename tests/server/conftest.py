"""Fixtures of the front-door tests (helpers are in _front.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from _front import models_at
from junction.config import Config
from junction.sim import Profile, start


@pytest.fixture(scope="session")
async def sim_url() -> AsyncIterator[str]:
    runner, url = await start(Profile())
    try:
        yield url
    finally:
        await runner.cleanup()


@pytest.fixture
def sim_config(sim_url: str) -> Config:
    return models_at(f"{sim_url}/v1")
