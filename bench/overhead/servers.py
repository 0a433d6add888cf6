"""The three targets of the overhead benchmark and what they are sent.

- the simulator (``junction sim``) with a no-sleep profile: every target ends there;
- junction (``junction serve``, one process) with one model pointing at the simulator;
- LiteLLM's proxy (one uvicorn worker, from its own virtualenv) with the same model.

Each is started as its own process from files written to a scratch directory.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from procs import Proc, free_port, post, wait_ready

MODEL = "gpt-4o-mini"  # a model LiteLLM knows the price of, as in real use
CHAT_PATH = "/v1/chat/completions"

# No sleeps at all; 200 output tokens = a ~1 KB answer, and 4 tokens a chunk
# when streaming: about 50 content chunks, then finish, usage and [DONE].
PROFILE = """\
seed: 1
models:
  "*":
    ttft_ms: 0
    tokens_per_second: 0
    jitter: 0
    output_tokens: 200
    faults: {}
"""

JUNCTION_CONFIG = """\
server:
  log_level: warning
models:
  {model}:
    deployments:
      - provider: openai
        model: {model}
        base_url: http://127.0.0.1:{sim_port}/v1
        api_key: sim-key
"""

# The smallest LiteLLM proxy: no database, no master key, no callbacks,
# spend logs and telemetry off, logs at ERROR (which also silences uvicorn's
# access log, as junction runs without one).
LITELLM_CONFIG = """\
model_list:
  - model_name: {model}
    litellm_params:
      model: openai/{model}
      api_base: http://127.0.0.1:{sim_port}/v1
      api_key: sim-key
litellm_settings:
  telemetry: false
general_settings:
  disable_spend_logs: true
"""

LITELLM_ENV = {
    "LITELLM_TELEMETRY_DISABLED": "true",  # this version's telemetry switch
    "LITELLM_LOCAL_MODEL_COST_MAP": "True",  # no fetch of the price map at start-up
    "LITELLM_LOG": "ERROR",
    "LITELLM_DANGEROUSLY_PERMIT_WEAK_OR_UNSET_MASTER_KEY": "true",  # no auth, like junction here
}

_MESSAGES = [
    {"role": "system", "content": "You are a concise assistant for a developer tools company."},
    {
        "role": "user",
        "content": "Summarise in two sentences why an HTTP client should reuse "
        "connections to an upstream API instead of opening one per request.",
    },
]


def body(stream: bool) -> bytes:
    """A small, realistic chat request (about 400 bytes)."""
    req: dict[str, object] = {
        "model": MODEL,
        "messages": _MESSAGES,
        "temperature": 0.2,
        "max_tokens": 400,
        "user": "bench",
    }
    if stream:
        req["stream"] = True
        req["stream_options"] = {"include_usage": True}
    return json.dumps(req).encode()


# What every good answer contains (checked for each response under load).
EXPECT_PLAIN = '"finish_reason":"stop"'
EXPECT_STREAM = "data: [DONE]"


@dataclass
class Target:
    name: str
    port: int
    proc: Proc  # the process whose CPU is counted (the simulator itself for "direct")


def start_sim(work: Path) -> Target:
    (work / "profile.yaml").write_text(PROFILE)
    port = free_port()
    cmd = [sys.executable, "-m", "junction.cli", "sim", "--port", str(port)]
    sim = Proc("simulator", [*cmd, "--profile", str(work / "profile.yaml")], work / "sim.log")
    return Target("direct", port, sim)


def start_junction(work: Path, sim_port: int, launcher: list[str] | None = None) -> Target:
    """``junction serve``; launcher replaces ``python -m junction.cli`` (a profiler)."""
    cfg = work / "junction.yaml"
    cfg.write_text(JUNCTION_CONFIG.format(model=MODEL, sim_port=sim_port))
    port = free_port()
    cli = launcher or [sys.executable, "-m", "junction.cli"]
    cmd = [*cli, "serve", "--config", str(cfg), "--port", str(port)]
    return Target("junction", port, Proc("junction", cmd, work / "junction.log"))


def start_litellm(work: Path, sim_port: int, litellm: str) -> Target:
    cfg = work / "litellm.yaml"
    cfg.write_text(LITELLM_CONFIG.format(model=MODEL, sim_port=sim_port))
    port = free_port()
    cmd = [litellm, "--config", str(cfg), "--host", "127.0.0.1", "--port", str(port)]
    proc = Proc("litellm", [*cmd, "--num_workers", "1"], work / "litellm.log", LITELLM_ENV)
    return Target("litellm", port, proc)


def wait_up(target: Target, timeout: float) -> None:
    wait_ready(target.proc, target.port, CHAT_PATH, body(False), timeout)


def stream_events(target: Target) -> int:
    """How many SSE data events the simulator's stream has (the count to expect)."""
    status, data = post(target.port, CHAT_PATH, body(True))
    if status != 200:
        raise RuntimeError(f"{target.name}: stream answered {status}: {data[:400]!r}")
    return data.count(b"data: ")


def check_answers(target: Target, events_expected: int) -> None:
    """One plain and one streamed request must come back whole, else stop here."""
    status, data = post(target.port, CHAT_PATH, body(False))
    if status != 200 or EXPECT_PLAIN.encode() not in data:
        raise RuntimeError(f"{target.name}: bad plain answer {status}: {data[:400]!r}")
    status, data = post(target.port, CHAT_PATH, body(True))
    events = data.count(b"data: ")
    if status != 200 or events != events_expected or not data.rstrip().endswith(b"[DONE]"):
        raise RuntimeError(f"{target.name}: bad stream {status}, {events} events: {data[-400:]!r}")


def git_head(repo: Path) -> str:
    def git(*args: str) -> str:
        out = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True)
        return out.stdout.strip()

    sha = git("rev-parse", "--short", "HEAD") or "unknown"
    dirty = git("status", "--porcelain", "--untracked-files=no", "src")
    return f"{sha}{' + uncommitted changes in src/' if dirty else ''}"


def litellm_version(litellm: str) -> str:
    python = Path(litellm).with_name("python")
    code = "from importlib.metadata import version as v; print(v('litellm'), v('uvicorn'))"
    out = subprocess.run([str(python), "-c", code], capture_output=True, text=True)
    parts = out.stdout.split()
    return f"litellm {parts[0]} (uvicorn {parts[1]})" if len(parts) == 2 else "litellm ?"
