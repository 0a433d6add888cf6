"""The junction command, as a person runs it: real processes, real ports."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from _serving import free_port

ROOT = Path(__file__).resolve().parents[1]
KEYS = ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GEMINI_API_KEY", "GOOGLE_API_KEY", "GROQ_API_KEY")


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in KEYS and not k.endswith("_API_KEY")}
    env["COLUMNS"] = "250"  # rich tables: no truncated cells
    env.update(extra)
    return env


def junction(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "junction.cli", *args],
        capture_output=True,
        text=True,
        env=env or clean_env(),
        timeout=60,
        cwd=ROOT,
    )


class Proc:
    def __init__(self, *args: str, port: int, env: dict[str, str] | None = None) -> None:
        self.url = f"http://127.0.0.1:{port}"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "junction.cli", *args],
            env=env or clean_env(),
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )

    def wait_ready(self, path: str = "/health") -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                out = self.proc.stdout.read() if self.proc.stdout else ""
                raise AssertionError(f"exited early: {out}")
            try:
                if httpx.get(self.url + path, timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        raise AssertionError("did not become ready")

    def stop(self) -> str:
        self.proc.terminate()
        try:
            out, _ = self.proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            out, _ = self.proc.communicate()
        return out or ""


@pytest.fixture
def procs() -> Iterator[list[Proc]]:
    started: list[Proc] = []
    yield started
    for p in started:
        p.stop()


def chat(url: str, model: str, text: str = "echo: hi from the cli test") -> httpx.Response:
    return httpx.post(
        f"{url}/v1/chat/completions",
        json={"model": model, "messages": [{"role": "user", "content": text}]},
        timeout=30,
    )


def test_serve_with_nothing_starts_demo_mode(procs: list[Proc]) -> None:
    port = free_port()
    gw = Proc("serve", "--port", str(port), port=port)
    procs.append(gw)
    gw.wait_ready()
    ids = {m["id"] for m in httpx.get(gw.url + "/v1/models").json()["data"]}
    assert {"sim/openai", "sim/anthropic", "sim/gemini"} <= ids
    for model in ("sim/openai", "sim/anthropic", "sim/gemini"):
        r = chat(gw.url, model)
        assert r.status_code == 200, r.text
        assert r.json()["choices"][0]["message"]["content"] == "hi from the cli test"
    out = gw.stop()
    assert "demo mode" in out


def test_sim_and_example_config_as_the_docs_say(procs: list[Proc]) -> None:
    sim_port, gw_port = free_port(), free_port()
    sim = Proc("sim", "--port", str(sim_port), port=sim_port)
    procs.append(sim)
    sim.wait_ready()
    env = clean_env(JUNCTION_SIM_URL=sim.url)
    gw = Proc(
        "serve", "--config", "examples/sim.yaml", "--port", str(gw_port), port=gw_port, env=env
    )
    procs.append(gw)
    gw.wait_ready()
    r = chat(gw.url, "sim/gemini")
    assert r.status_code == 200, r.text
    assert r.json()["provider"] == "sim-gemini"
    # The request really went to the separate simulator process.
    seen = httpx.get(sim.url + "/_sim/requests").json()["requests"]
    assert seen[-1]["model"] == "gemini-2.5-flash"


def test_serve_never_prints_keys(procs: list[Proc], tmp_path: Path) -> None:
    port = free_port()
    config = tmp_path / "c.yaml"
    config.write_text(
        "models:\n  a/b:\n    deployments:\n"
        "      - {provider: openai, model: m, api_key: '${MY_KEY}', base_url: 'http://127.0.0.1:9/v1'}\n"
    )
    env = clean_env(MY_KEY="sk-very-secret-value")
    gw = Proc("serve", "--config", str(config), "--port", str(port), port=port, env=env)
    procs.append(gw)
    gw.wait_ready()
    r = chat(gw.url, "a/b")
    assert r.status_code == 502
    assert "sk-very-secret-value" not in r.text
    assert "sk-very-secret-value" not in gw.stop()


def test_models_prints_a_table() -> None:
    result = junction("models", "--config", "examples/sim.yaml")
    assert result.returncode == 0, result.stderr
    for name in ("sim/openai", "sim/anthropic", "sim/gemini", "sim-anthropic"):
        assert name in result.stdout


def test_models_with_provider_keys_in_the_environment() -> None:
    result = junction("models", env=clean_env(GROQ_API_KEY="gsk-abc"))
    assert result.returncode == 0, result.stderr
    assert "groq/llama-3.3-70b-versatile" in result.stdout
    assert "gsk-abc" not in result.stdout


def test_bad_config_exits_2_with_the_place() -> None:
    result = junction("models", "--config", str(ROOT / "README.md"))
    assert result.returncode == 2
    assert "README.md" in result.stderr
    assert "Traceback" not in result.stderr


def test_serve_with_sim_runs_the_simulator_in_process(procs: list[Proc], tmp_path: Path) -> None:
    profile = tmp_path / "p.yaml"
    profile.write_text("models:\n  gpt-4o-mini:\n    output_tokens: 3\n")
    port = free_port()
    args = ("serve", "--config", "examples/sim.yaml", "--with-sim", "--sim-profile", str(profile))
    gw = Proc(*args, "--port", str(port), port=port)
    procs.append(gw)
    gw.wait_ready()
    r = chat(gw.url, "sim/openai", "say something")
    assert r.status_code == 200, r.text
    # The profile given on the command line is the one the simulator runs.
    assert r.json()["usage"]["completion_tokens"] == 3
