"""SIGTERM under load: ``junction serve`` as a subprocess, requests in flight,
SIGTERM; every request that got an answer has its row once the process exits.
On both backends: SQLite (a temp file) and PostgreSQL (a fresh database on the
real server)."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

import asyncpg  # type: ignore[import-untyped]
import httpx
import openai

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


async def _logged_ids(database_url: str) -> set[str]:
    if database_url.startswith("sqlite:"):
        with sqlite3.connect(database_url.removeprefix("sqlite:///")) as conn:
            return {row[0] for row in conn.execute("SELECT id FROM request_log")}
    conn = await asyncpg.connect(database_url)
    try:
        return {row["id"] for row in await conn.fetch("SELECT id FROM request_log")}
    finally:
        await conn.close()


async def test_sigterm_under_load_loses_no_answered_row(tmp_path: Path, database_url: str) -> None:
    config = tmp_path / "junction.yaml"
    text = (ROOT / "examples" / "sim.yaml").read_text()
    # Big batches and a long interval: rows are still queued when SIGTERM comes.
    text += (
        f"\nstores:\n  database_url: '{database_url}'\n"
        "request_log:\n  batch_size: 100000\n  flush_interval: 60\n"
    )
    config.write_text(text)
    profile = tmp_path / "sim.yaml"
    profile.write_text("models:\n  '*':\n    ttft_ms: 100\n    tokens_per_second: 200\n")
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    proc = subprocess.Popen(  # noqa: ASYNC220 -- a quick fork, before the load starts
        [
            sys.executable,
            "-m",
            "junction.cli",
            "serve",
            "--config",
            str(config),
            "--with-sim",
            "--sim-profile",
            str(profile),
            "--port",
            str(port),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        async with httpx.AsyncClient(timeout=2) as http:
            for _ in range(200):
                try:
                    if (await http.get(f"{url}/health")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.05)
            else:
                raise AssertionError("junction serve did not start")
        client = openai.AsyncOpenAI(base_url=f"{url}/v1", api_key="k", max_retries=0)
        answered: list[str] = []
        refused = 0

        async def one(i: int) -> None:
            nonlocal refused
            await asyncio.sleep(i * 0.02)
            try:
                r = await client.chat.completions.create(
                    model="sim/openai", messages=[{"role": "user", "content": f"load {i}"}]
                )
            except (openai.APIError, httpx.HTTPError):
                refused += 1
            else:
                answered.append(r.id)

        load = [asyncio.create_task(one(i)) for i in range(200)]
        # SIGTERM once some are answered (however loaded the machine is), with
        # more in flight and the rest (4 s of them) not yet sent.
        for _ in range(400):
            if len(answered) >= 3:
                break
            await asyncio.sleep(0.01)
        proc.send_signal(signal.SIGTERM)
        await asyncio.gather(*load)
        await client.close()
        code = await asyncio.to_thread(proc.wait, 30)
        # uvicorn re-raises the signal once shut down: -SIGTERM is a clean exit.
        assert code in (0, -signal.SIGTERM), proc.stderr.read().decode() if proc.stderr else code
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert answered, "no request was answered before SIGTERM"
    assert refused, "SIGTERM came after every request: the test proved nothing"
    logged = await _logged_ids(database_url)
    missing = set(answered) - logged
    assert not missing, f"{len(missing)} of {len(answered)} answered requests have no row"
