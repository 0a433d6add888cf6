"""Real Redis (and PostgreSQL) for the scale tests.

The rule of tests/stores/conftest.py: a server that cannot be reached skips
the test with the reason, except with ``CI=true``, where it fails it.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Iterator

import pytest

from _scale import unreachable
from _tcp_proxy import TcpProxy

REDIS_HOST, REDIS_PORT = "127.0.0.1", 6379


@pytest.fixture
def redis_url() -> str:
    unreachable("Redis", REDIS_HOST, REDIS_PORT)
    return f"redis://{REDIS_HOST}:{REDIS_PORT}/0"


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    """A fresh key prefix; its keys are deleted afterwards (never FLUSHALL)."""
    prefix = f"junction-test-{secrets.token_hex(6)}"
    yield prefix
    try:
        import redis

        client = redis.Redis(host=REDIS_HOST, port=REDIS_PORT, socket_timeout=2)
        keys = list(client.scan_iter(f"{prefix}*"))
        if keys:
            client.delete(*keys)
        client.close()
    except Exception:  # cleanup is best effort
        pass


@pytest.fixture
async def redis_proxy(redis_url: str) -> AsyncIterator[TcpProxy]:
    """A TCP proxy in front of Redis that a test can stop and start."""
    proxy = TcpProxy(REDIS_HOST, REDIS_PORT)
    await proxy.start()
    yield proxy
    await proxy.stop()
