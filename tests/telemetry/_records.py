"""Settled-request records built from a real gateway's endpoints, for listener tests."""

from __future__ import annotations

import time
from dataclasses import dataclass

from junction.config import parse_config
from junction.gateway import Gateway
from junction.gateway.accounting import Generation
from junction.gateway.trace import Attempt
from junction.transport import Transport
from junction.types import Usage

CONFIG = """
server: {master_key: sk-master-records-000000}
models:
  m/one:
    deployments:
      - provider: openai
        name: dep-a
        model: up-a
        base_url: 'http://127.0.0.1:9/v1'
        api_key: sk-provider-secret-abcdef123456
"""


@dataclass(frozen=True)
class Owner:
    """A key as the stores will give it: an id, a name and a team."""

    id: str
    name: str
    team: str | None = None
    admin: bool = False


def gateway() -> Gateway:
    return Gateway(parse_config(CONFIG, {}), Transport())


def record(
    gw: Gateway,
    *,
    key: str | None = None,
    team: str | None = None,
    status: int = 200,
    error: str | None = None,
    attempt_error: str | None = None,
) -> Generation:
    ep = gw.routes["m/one"].endpoints[0]
    attempts = [Attempt(ep, 502, 12.5, None, attempt_error)] if attempt_error else []
    if status < 400:
        attempts.append(Attempt(ep, 200, 40.0, 20.0))
    return Generation(
        id="gen-test-1",
        model="m/one",
        created=time.time(),
        streamed=False,
        attempts=attempts,
        usage=Usage(prompt_tokens=10, completion_tokens=5, cached_tokens=2, cost=0.001)
        if status < 400
        else None,
        provider="dep-a" if status < 400 else None,
        latency_ms=55.0,
        ttft_ms=20.0 if status < 400 else None,
        owner=Owner(key, f"name-{key}", team) if key else None,  # type: ignore[arg-type]
        door="openai_chat",
        status=status,
        error=error,
        upstream_model="up-a",
    )
