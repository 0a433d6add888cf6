"""``junction serve --workers N``: real processes on one real port."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from _scale import Served, clean_env

pytestmark = pytest.mark.skipif(
    not Path("/proc/self/task").exists(), reason="needs Linux (/proc) and fork"
)


def test_two_workers_both_answer_and_stop_cleanly(tmp_path: Path) -> None:
    gw = Served(tmp_path, "--workers", "2")
    try:
        assert gw.workers_seen({0, 1}) == {0, 1}, gw.output()
        assert len(gw.children()) == 2
        r = httpx.post(
            gw.url + "/v1/chat/completions",
            json={"model": "sim/openai", "messages": [{"role": "user", "content": "echo: hi"}]},
            timeout=30,
        )
        assert r.status_code == 200, r.text
    finally:
        code = gw.stop()
    assert code == 0, gw.output()
    assert "2 workers" in gw.output()


def test_sigterm_drains_a_request_in_flight(tmp_path: Path) -> None:
    profile = tmp_path / "slow.yaml"
    profile.write_text('models:\n  "*":\n    ttft_ms: 2500\n    jitter: 0\n')
    gw = Served(tmp_path, "--workers", "2", "--sim-profile", str(profile))
    try:
        assert gw.workers_seen({0, 1}) == {0, 1}, gw.output()
        answers: list[httpx.Response] = []

        def slow_request() -> None:
            answers.append(
                httpx.post(
                    gw.url + "/v1/chat/completions",
                    json={
                        "model": "sim/openai",
                        "messages": [{"role": "user", "content": "echo: drained"}],
                    },
                    timeout=30,
                )
            )

        thread = threading.Thread(target=slow_request)
        thread.start()
        time.sleep(0.8)  # the request is waiting for its first token
        gw.proc.send_signal(signal.SIGTERM)
        thread.join(timeout=30)
        code = gw.proc.wait(timeout=30)
    finally:
        gw.stop()
    assert code == 0, gw.output()
    assert len(answers) == 1, gw.output()
    assert answers[0].status_code == 200, gw.output()
    assert answers[0].json()["choices"][0]["message"]["content"] == "drained"


def test_a_crashed_worker_is_started_again(tmp_path: Path) -> None:
    gw = Served(tmp_path, "--workers", "2")
    try:
        assert gw.workers_seen({0, 1}) == {0, 1}, gw.output()
        before = gw.children()
        os.kill(before[0], signal.SIGKILL)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            now = gw.children()
            if len(now) == 2 and before[0] not in now:
                break
            time.sleep(0.1)
        after = gw.children()
        assert len(after) == 2
        assert before[0] not in after
        assert before[1] in after
        assert gw.workers_seen({0, 1}) == {0, 1}, gw.output()
    finally:
        code = gw.stop()
    assert code == 0
    assert "ended unexpectedly (signal 9)" in gw.output()


def test_workers_that_cannot_start_stop_the_parent(tmp_path: Path) -> None:
    # The embedded simulator's profile is read at each worker's start-up: a
    # missing file fails every start, which restarting does not fix.
    gw = Served(tmp_path, "--workers", "2", "--sim-profile", str(tmp_path / "missing.yaml"))
    try:
        code = gw.proc.wait(timeout=60)
    finally:
        gw.stop()
    assert code == 1, gw.output()
    assert "keep failing at start" in gw.output()


def test_many_workers_with_keys_and_no_redis_refuse_to_start(tmp_path: Path) -> None:
    config = tmp_path / "keys.yaml"
    config.write_text(
        "server:\n  master_key: ${MASTER}\n"
        "models:\n  m:\n    deployments:\n      - {provider: openai, model: gpt-4o-mini, "
        "base_url: 'http://127.0.0.1:9/v1', api_key: x}\n"
    )
    result = subprocess.run(
        [sys.executable, "-m", "junction.cli", "serve", "--config", str(config), "--workers", "2"],
        env=clean_env(MASTER="sk-master"),
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert result.returncode == 2
    assert "needs Redis" in result.stderr
    assert "sk-master" not in result.stderr


def test_workers_must_be_positive(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "junction.cli", "serve", "--workers", "0"],
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert result.returncode == 2
    assert "--workers must be at least 1" in result.stderr


def _alive(pid: int) -> bool:
    stat = Path(f"/proc/{pid}/stat")
    try:
        return stat.read_text().split(") ", 1)[1][0] != "Z"
    except (OSError, IndexError):
        return False


def test_workers_stop_when_the_parent_is_killed(tmp_path: Path) -> None:
    gw = Served(tmp_path, "--workers", "2")
    children: list[int] = []
    try:
        assert gw.workers_seen({0, 1}) == {0, 1}, gw.output()
        children = gw.children()
        gw.proc.kill()
        gw.proc.wait(timeout=10)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and any(_alive(c) for c in children):
            time.sleep(0.1)
        assert not any(_alive(c) for c in children), "orphaned workers kept running"
    finally:
        for c in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(c, signal.SIGKILL)
