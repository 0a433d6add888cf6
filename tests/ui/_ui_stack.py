"""A live gateway for the dashboard tests, on its own thread and event loop (the
browser tests block while Chromium works): the provider simulator, a gateway
with a SQLite request log pre-filled with synthetic rows, virtual keys, two
semantic routers (one shadow) and a model whose only endpoint is down; and a
second gateway with no router."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from _serving import serve_on_loopback
from junction.config import parse_config
from junction.requestlog import connect
from junction.requestlog.synthetic import synthetic_rows
from junction.semantic import artifact
from junction.server.app import create_app
from junction.server.serving import build_server
from junction.sim import Profile, start

MASTER = "sk-master-dashboard-test"
HARD = "please prove the theorem about this integral and the series"
EASY = "a coffee recipe for my birthday and some music please"
CLOSED_PORT = "http://127.0.0.1:9"  # the discard port: nothing listens
DAY = 86400.0


def _config(sim: str, db: Path, folder: Path | None) -> str:
    text = f"""
server: {{master_key: {MASTER}}}
stores: {{database_url: 'sqlite:///{db}'}}
request_log: {{flush_interval: 0.05}}
routing: {{retry: {{attempts: 0}}}}
models:
  cheap:
    deployments:
      - {{provider: openai, name: sim-cheap, model: gpt-4o-mini, base_url: '{sim}/v1', api_key: k}}
  strong:
    deployments:
      - {{provider: anthropic, name: sim-strong, model: claude-sonnet-4-5,
          base_url: '{sim}', api_key: k}}
  broken:
    deployments:
      - {{provider: openai, name: nowhere, model: gpt-4o-mini,
          base_url: '{CLOSED_PORT}/v1', api_key: k}}
"""
    if folder is not None:
        text += f"""routers:
  auto:
    artifact: {folder}
    candidates: {{big: strong, small: cheap}}
  watch:
    artifact: {folder}
    candidates: {{big: strong, small: cheap}}
    shadow: true
    default: cheap
"""
    return text


@dataclass(frozen=True)
class Traffic:
    team: str
    key_id: str
    key: str
    requests: int
    """Requests made with ``key``."""
    failed: int
    """Of which to the model whose endpoint is down."""


@dataclass
class Stack:
    folder: Path
    synthetic: int
    url: str = ""
    bare_url: str = ""
    """The gateway without routers (its own, empty log)."""
    gateway: Any = None
    _loop: asyncio.AbstractEventLoop | None = None
    _ready: threading.Event = field(default_factory=threading.Event)
    _error: BaseException | None = None
    _stop: asyncio.Event | None = None
    _thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="ui-stack", daemon=True)
        self._thread.start()
        if not self._ready.wait(120):
            raise RuntimeError("the dashboard test stack did not start in 120 s")
        if self._error is not None:
            raise self._error

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread is not None:
            self._thread.join(30)

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as exc:  # surfaced by start()
            self._error = exc
            self._ready.set()

    async def _fill(self, db: Path) -> None:
        store = await connect(f"sqlite:///{db}")
        now = time.time()
        batch = []
        for row in synthetic_rows(self.synthetic, start=now - 7 * DAY, span=7 * DAY - 3600):
            batch.append(row)
            if len(batch) == 5000:
                await store.write(batch)
                batch = []
        if batch:
            await store.write(batch)
        await store.close()

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        router = self.folder / "router"
        from tests.semantic._synthetic import two_models

        trained = artifact.train(
            two_models(n=300), "linear", "lexical", calibrate_to=("share", 0.5)
        )
        artifact.save(trained, router)
        await self._fill(self.folder / "log.db")
        runner, sim = await start(Profile())
        servers = []
        for db, folder in ((self.folder / "log.db", router), (self.folder / "bare.db", None)):
            config = parse_config(_config(sim, db, folder), {})
            app = create_app(config)
            server = build_server(app, config.server, log_level="warning")
            task, port = await serve_on_loopback(server)
            servers.append((server, task, app, f"http://127.0.0.1:{port}"))
        self.url, self.bare_url = servers[0][3], servers[1][3]
        self.gateway = servers[0][2].context.state.gateway
        self._ready.set()
        await self._stop.wait()
        for server, task, _, _ in servers:
            server.should_exit = True
            await task
        await runner.cleanup()

    # ----- what tests call (from the test thread) ----------------------------

    def admin(self, url: str | None = None) -> httpx.Client:
        return httpx.Client(
            base_url=url or self.url, timeout=30, headers={"authorization": f"Bearer {MASTER}"}
        )

    def chat(self, key: str, model: str, text: str = "hello", stream: bool = False) -> int:
        with httpx.Client(base_url=self.url, timeout=30) as c:
            r = c.post(
                "/v1/chat/completions",
                headers={"authorization": f"Bearer {key}"},
                json={
                    "model": model,
                    "messages": [{"role": "user", "content": text}],
                    "stream": stream,
                    **({"stream_options": {"include_usage": True}} if stream else {}),
                },
            )
            return r.status_code

    def settled(self, url: str | None = None, want: int = 1, **filters: str) -> list[Any]:
        """The log's rows for ``filters`` once at least ``want`` are written."""
        with self.admin(url) as c:
            deadline = time.monotonic() + 15
            while True:
                rows = c.get("/admin/logs", params={**filters, "limit": 1000}).json()["data"]
                if len(rows) >= want or time.monotonic() > deadline:
                    return list(rows)
                time.sleep(0.05)


def stack_for(tmp: Path, synthetic: int) -> Iterator[Stack]:
    stack = Stack(tmp, synthetic)
    stack.start()
    try:
        yield stack
    finally:
        stack.stop()
