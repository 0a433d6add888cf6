"""The simulator and the gateway on loopback sockets, in a thread of their own.

schemathesis calls the API synchronously (requests), so the servers cannot
share the test's event loop: they get their own loop in a daemon thread.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import uvicorn

from _serving import serve_on_loopback
from junction.config import load_config, parse_config
from junction.server.app import create_app
from junction.sim import Profile, start

ROOT = Path(__file__).resolve().parents[2]


async def _serve(
    profile: Profile, keys: str | None, ready: asyncio.Future[str], stop: asyncio.Event
) -> None:
    runner, sim_url = await start(profile)
    config = load_config(ROOT / "examples" / "sim.yaml", {"JUNCTION_SIM_URL": sim_url})
    if keys is not None:
        config.keys = parse_config(keys, {}).keys
    config.server.max_body_bytes = 64 * 1024
    server = uvicorn.Server(
        uvicorn.Config(create_app(config), lifespan="on", log_level="critical", access_log=False)
    )
    task, port = await serve_on_loopback(server)
    ready.set_result(f"http://127.0.0.1:{port}")
    await stop.wait()
    server.should_exit = True
    await task
    await runner.cleanup()


@contextmanager
def live_gateway(profile: Profile | None = None, keys: str | None = None) -> Iterator[str]:
    """The gateway's base URL, with the simulator behind it, for the block
    (``keys``: a YAML ``keys:`` section to require client keys)."""
    loop = asyncio.new_event_loop()
    ready: asyncio.Future[str] = loop.create_future()
    stop = asyncio.Event()
    errors: list[BaseException] = []

    def run() -> None:
        try:
            loop.run_until_complete(_serve(profile or Profile(), keys, ready, stop))
        except BaseException as exc:  # reported to the waiting test below
            errors.append(exc)
            if not ready.done():
                ready.cancel()

    thread = threading.Thread(target=run, name="live-gateway", daemon=True)
    thread.start()
    url: Any = asyncio.run_coroutine_threadsafe(_wait(ready), loop).result(timeout=30)
    try:
        yield str(url)
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(timeout=30)
        loop.close()
        if errors:
            raise errors[0]


async def _wait(ready: asyncio.Future[str]) -> str:
    return await ready
