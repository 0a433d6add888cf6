"""Helpers of the scale tests: free ports, a clean environment, ``junction serve`` in a process,
and the skip-or-fail rule for servers (tests/stores/conftest.py's rule)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from _servers import unavailable

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")}
    env.pop("JUNCTION_REDIS_URL", None)
    env["PYTHONPATH"] = str(ROOT / "src")
    env.update(extra)
    return env


class Served:
    """``junction serve`` in its own process; the log goes to a file."""

    def __init__(self, tmp: Path, *args: str, env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = tmp / f"serve-{self.port}.log"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "junction.cli", "serve", "--port", str(self.port), *args],
            env=env or clean_env(),
            cwd=tmp,
            stdout=self.log.open("w"),
            stderr=subprocess.STDOUT,
        )

    def output(self) -> str:
        return self.log.read_text()

    def workers_seen(self, want: set[int], timeout: float = 30.0) -> set[int]:
        """The worker indices /health reported, asking until all of ``want`` answered."""
        seen: set[int] = set()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not want <= seen:
            assert self.proc.poll() is None, self.output()
            try:
                # A new connection each time: the kernel hands it to any worker.
                r = httpx.get(self.url + "/health", timeout=2)
                seen.add(r.json()["worker"])
            except (httpx.HTTPError, KeyError):
                time.sleep(0.05)
        return seen

    def wait_healthy(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, self.output()
            try:
                if httpx.get(self.url + "/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.05)
        raise AssertionError(f"not healthy in {timeout}s: {self.output()}")

    def children(self) -> list[int]:
        path = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children")
        return [int(p) for p in path.read_text().split()]

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=40)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait()


def unreachable(what: str, host: str, port: int) -> None:
    """Skip (or, with ``CI=true``, fail) when nothing listens at ``host:port``."""
    try:
        socket.create_connection((host, port), timeout=1).close()
    except OSError as exc:
        unavailable(f"{what} not reachable at {host}:{port} ({exc})")
