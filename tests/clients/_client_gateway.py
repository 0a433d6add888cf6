"""junction as a user runs it for the client matrix: ``examples/sim.yaml``
with the simulator in-process (``junction serve --with-sim``), on a loopback
port, served from a thread of its own so that clients of every kind reach it:
async ones in the test loop, blocking ones, and child processes (node, the
second Python environment)."""

from __future__ import annotations

import asyncio
import os
import threading
from pathlib import Path
from typing import Any

from _serving import serve_on_loopback
from junction.config import Server, load_config
from junction.server.app import create_app
from junction.server.serving import build_server

SIM_CONFIG = Path(__file__).resolve().parents[2] / "examples" / "sim.yaml"


class Gateway:
    """``start()`` serves junction until ``stop()``; ``url`` is its base URL."""

    def __init__(self) -> None:
        self.url = ""
        self._ready = threading.Event()
        self._failure: BaseException | None = None
        self._server: Any = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread = threading.Thread(target=self._run, name="junction-gateway", daemon=True)

    def start(self) -> None:
        self._thread.start()
        if not self._ready.wait(timeout=60):
            raise RuntimeError("junction did not start within 60 s")
        if self._failure is not None:
            raise RuntimeError("junction did not start") from self._failure

    def stop(self) -> None:
        if self._loop is not None and self._server is not None:
            self._loop.call_soon_threadsafe(setattr, self._server, "should_exit", True)
        self._thread.join(timeout=30)

    def _run(self) -> None:
        try:
            asyncio.run(self._serve())
        except BaseException as exc:  # reported to start()
            self._failure = exc
            self._ready.set()

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        app = create_app(
            lambda sim_url: load_config(SIM_CONFIG, {**os.environ, "JUNCTION_SIM_URL": sim_url}),
            embedded_sim=True,
        )
        self._server = build_server(app, Server(), log_level="warning")
        task, port = await serve_on_loopback(self._server)
        self.url = f"http://127.0.0.1:{port}"
        self._ready.set()
        await task
