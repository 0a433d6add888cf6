"""The targets of the overhead benchmark, how each is started, and what they are sent.

Upstreams, where every target ends:

- ``instant_upstream.py``: an OpenAI-compatible server that answers at once
  (run.py's floor, ``direct``);
- the simulator (``junction sim``) with a no-sleep profile (hotpath.py).

Gateways in front of one, each its own process (one worker):

- ``thin``: thin_proxy.py, aiohttp server + one pooled aiohttp client;
- ``junction``: ``junction serve`` with one model, features off;
- ``junction-features``: the same with a master key, a virtual key with a rate
  limit and a budget, the request log (SQLite) and metrics;
- ``junction-shared``: the same features on Redis and PostgreSQL;
- ``litellm``: LiteLLM's proxy (one uvicorn worker, from its own virtualenv).

Each is started from files written to a scratch directory. A ``Spec`` is how
to start one (its command less ``--port N``), so run.py can start a second,
fresh copy of a gateway to time its start-up.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import secrets
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from procs import Proc, free_port, pinned, post, wait_ready

HERE = Path(__file__).resolve().parent

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

# The one model every junction target serves, sent as is to the upstream.
_MODELS = """\
models:
  {model}:
    deployments:
      - provider: openai
        model: {model}
        base_url: http://127.0.0.1:{sim_port}/v1
        api_key: sim-key
"""

JUNCTION_CONFIG = (
    """\
server:
  log_level: warning
"""
    + _MODELS
)

# Production features on: a master key (so virtual keys exist: run.py makes one
# with a rate limit and a budget through the admin API, as an operator would;
# keys in `keys:` of a config take no limits), the request log in
# stores.database_url, metrics (the default, said explicitly) and, with
# redis_url, the counters and routing statistics on Redis.
FEATURES_CONFIG = (
    """\
server:
  log_level: warning
  master_key: {master_key}
stores:
{stores}
request_log:
  enabled: true
telemetry:
  metrics: true
"""
    + _MODELS
)

MASTER_KEY = "sk-bench-master-0123456789abcdef"

# The virtual key's limits: real checks on every request, never reached in a run
# (a rate limit of 10^9 a minute, a budget of $10^6 a month).
KEY_LIMITS = {"rpm": 1_000_000_000, "budget_usd": 1_000_000.0, "budget_period": "monthly"}

# The smallest LiteLLM proxy: no database, no master key, no callbacks,
# spend logs and telemetry off, logs at ERROR, and no access log (as junction
# runs without one) through LITELLM_LOGGING below.
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

# uvicorn's logging for `litellm --log_config`: LITELLM_LOG=ERROR no longer
# silences uvicorn's access log (litellm 1.99.4 logs a line per request), so
# uvicorn.access goes to WARNING, where its per-request INFO line is dropped
# at the level check.
LITELLM_LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(levelname)s %(name)s: %(message)s"}},
    "handlers": {"err": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "loggers": {
        "uvicorn": {"handlers": ["err"], "level": "WARNING", "propagate": False},
        "uvicorn.error": {"level": "WARNING"},
        "uvicorn.access": {"handlers": ["err"], "level": "WARNING", "propagate": False},
    },
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
    proc: Proc  # the process whose CPU is counted (the upstream itself for "direct")
    key: str | None = None  # sent as Bearer; None: the benchmark's dummy key

    @property
    def headers(self) -> dict[str, str]:
        return {"authorization": f"Bearer {self.key or DUMMY_KEY}"}


DUMMY_KEY = "sk-bench"


@dataclass(frozen=True)
class Spec:
    """How to start one target: ``cmd`` takes ``--port N`` at its end."""

    name: str
    cmd: list[str]
    env: dict[str, str] = field(default_factory=dict)
    cpu: int | None = None  # taskset -c CPU, or no pinning
    ready_timeout: float = 60.0

    def start(self, work: Path, port: int | None = None, log: str | None = None) -> Target:
        port = port or free_port()
        cmd = pinned(self.cpu, [*self.cmd, "--port", str(port)])
        proc = Proc(self.name, cmd, work / (log or f"{self.name}.log"), self.env)
        return Target(self.name, port, proc)


def instant_spec(chunks: int, cpu: int | None) -> Spec:
    script = str(HERE / "instant_upstream.py")
    return Spec("direct", [sys.executable, script, "--chunks", str(chunks)], cpu=cpu)


def thin_spec(upstream_port: int, cpu: int | None) -> Spec:
    script = str(HERE / "thin_proxy.py")
    cmd = [sys.executable, script, "--upstream", f"http://127.0.0.1:{upstream_port}"]
    return Spec("thin", cmd, cpu=cpu)


def junction_spec(
    work: Path,
    name: str,
    config: str,
    cpu: int | None,
    launcher: list[str] | None = None,
) -> Spec:
    """``junction serve`` on a config written to WORK/NAME.yaml; launcher replaces
    ``python -m junction.cli`` (a profiler)."""
    cfg = work / f"{name}.yaml"
    cfg.write_text(config)
    cli = launcher or [sys.executable, "-m", "junction.cli"]
    return Spec(name, [*cli, "serve", "--config", str(cfg)], cpu=cpu)


def features_config(upstream_port: int, database_url: str, redis: tuple[str, str] | None) -> str:
    """FEATURES_CONFIG on a database, and on Redis when given (url, key prefix)."""
    stores = [f"  database_url: {database_url}"]
    if redis is not None:
        stores += [f"  redis_url: {redis[0]}", f"  redis_prefix: {redis[1]}"]
    return FEATURES_CONFIG.format(
        model=MODEL, sim_port=upstream_port, master_key=MASTER_KEY, stores="\n".join(stores)
    )


def litellm_spec(work: Path, upstream_port: int, litellm: str, cpu: int | None) -> Spec:
    cfg = work / "litellm.yaml"
    cfg.write_text(LITELLM_CONFIG.format(model=MODEL, sim_port=upstream_port))
    logging = work / "litellm-logging.json"
    logging.write_text(json.dumps(LITELLM_LOGGING))
    cmd = [litellm, "--config", str(cfg), "--host", "127.0.0.1", "--num_workers", "1"]
    cmd += ["--log_config", str(logging)]
    return Spec("litellm", cmd, LITELLM_ENV, cpu, ready_timeout=180.0)


def start_sim(work: Path) -> Target:
    (work / "profile.yaml").write_text(PROFILE)
    port = free_port()
    cmd = [sys.executable, "-m", "junction.cli", "sim", "--port", str(port)]
    sim = Proc("simulator", [*cmd, "--profile", str(work / "profile.yaml")], work / "sim.log")
    return Target("direct", port, sim)


def start_junction(
    work: Path, sim_port: int, launcher: list[str] | None = None, config: str | None = None
) -> Target:
    """``junction serve`` (features off unless ``config`` says otherwise);
    launcher replaces ``python -m junction.cli``."""
    config = config or JUNCTION_CONFIG.format(model=MODEL, sim_port=sim_port)
    return junction_spec(work, "junction", config, None, launcher).start(work)


def start_litellm(work: Path, sim_port: int, litellm: str) -> Target:
    return litellm_spec(work, sim_port, litellm, None).start(work)


def wait_up(target: Target, timeout: float) -> None:
    wait_ready(target.proc, target.port, CHAT_PATH, body(False), timeout, target.headers)


def stream_events(target: Target) -> int:
    """How many SSE data events the upstream's stream has (the count to expect)."""
    status, data = post(target.port, CHAT_PATH, body(True), headers=target.headers)
    if status != 200:
        raise RuntimeError(f"{target.name}: stream answered {status}: {data[:400]!r}")
    return data.count(b"data: ")


def upstream_stream(target: Target) -> tuple[int, str]:
    """(SSE data events, content) of the upstream's own stream: what to expect."""
    status, data = post(target.port, CHAT_PATH, body(True), headers=target.headers)
    if status != 200:
        raise RuntimeError(f"{target.name}: stream answered {status}: {data[:400]!r}")
    return streamed_text(data)


def streamed_text(data: bytes) -> tuple[int, str]:
    """(SSE data events, the content they carry) of a chat completion stream."""
    events, text = 0, []
    for line in data.split(b"\n"):
        if not line.startswith(b"data: "):
            continue
        events += 1
        if line[6:].strip() == b"[DONE]":
            continue
        for choice in json.loads(line[6:]).get("choices", []):
            text.append(choice.get("delta", {}).get("content") or "")
    return events, "".join(text)


def check_answers(target: Target, expected: str | int) -> int:
    """One plain and one streamed request must come back whole, else stop here.

    expected: the text the stream must carry (the upstream's), or, as before,
    its number of SSE events. Returns the target's number of events a stream:
    a gateway may fold events together (junction sends the upstream's empty
    first chunk with the first content), so each target is held to its own.
    """
    status, data = post(target.port, CHAT_PATH, body(False), headers=target.headers)
    if status != 200 or EXPECT_PLAIN.encode() not in data:
        raise RuntimeError(f"{target.name}: bad plain answer {status}: {data[:400]!r}")
    status, data = post(target.port, CHAT_PATH, body(True), headers=target.headers)
    events, text = streamed_text(data) if status == 200 else (0, "")
    whole = text == expected if isinstance(expected, str) else events == expected
    if not whole or not data.rstrip().endswith(b"data: [DONE]"):
        raise RuntimeError(f"{target.name}: bad stream {status}, {events} events: {data[-400:]!r}")
    return events


def create_key(target: Target) -> str:
    """A virtual key with KEY_LIMITS, made through the admin API with the master key."""
    req = json.dumps({"name": "bench", **KEY_LIMITS}).encode()
    admin = {"authorization": f"Bearer {MASTER_KEY}"}
    status, data = post(target.port, "/admin/keys", req, headers=admin)
    if status != 201:
        raise RuntimeError(f"{target.name}: POST /admin/keys answered {status}: {data[:400]!r}")
    key: str = json.loads(data)["key"]
    return key


def check_limited(target: Target) -> None:
    """The virtual key's rate limit is applied: its answer says so in
    ``x-ratelimit-limit-requests`` (the budget is checked by the same admission)."""
    conn = http.client.HTTPConnection("127.0.0.1", target.port, timeout=10)
    try:
        headers = {"content-type": "application/json", **target.headers}
        conn.request("POST", CHAT_PATH, body=body(False), headers=headers)
        resp = conn.getresponse()
        resp.read()
        limit = resp.getheader("x-ratelimit-limit-requests")
    finally:
        conn.close()
    if resp.status != 200 or limit != str(KEY_LIMITS["rpm"]):
        raise RuntimeError(
            f"{target.name}: the key's rate limit is not applied "
            f"(status {resp.status}, x-ratelimit-limit-requests {limit!r})"
        )


# -- the shared stores (junction-shared) ---------------------------------------

POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"
REDIS_URL = "redis://127.0.0.1:6379/0"


@dataclass
class SharedStores:
    """A fresh PostgreSQL database and a Redis key prefix, for one run."""

    database_url: str
    redis_url: str
    redis_prefix: str
    database: str


def _postgres(sql: str, admin_url: str) -> None:
    import asyncpg

    async def run() -> None:
        conn = await asyncpg.connect(admin_url, timeout=3)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(asyncio.wait_for(run(), timeout=30))


def open_shared(admin_url: str = POSTGRES_URL, redis_url: str = REDIS_URL) -> SharedStores:
    """Create the run's database and check Redis answers; raise with the reason if not."""
    import redis

    client = redis.Redis.from_url(redis_url, socket_timeout=2, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        raise RuntimeError(f"Redis unreachable at {redis_url} ({exc})") from None
    finally:
        client.close()
    token = secrets.token_hex(6)
    name = f"junction_bench_{token}"
    try:
        _postgres(f'CREATE DATABASE "{name}"', admin_url)
    except Exception as exc:  # asyncpg's errors, OSError, a timeout: all say unreachable
        raise RuntimeError(f"PostgreSQL unreachable at {admin_url} ({exc!r})") from None
    url = f"{admin_url.rsplit('/', 1)[0]}/{name}"
    return SharedStores(url, redis_url, f"junction-bench-{token}", name)


def close_shared(shared: SharedStores, admin_url: str = POSTGRES_URL) -> list[str]:
    """Drop the run's database and delete its Redis keys (never FLUSHALL); the
    problems, if any, as notes."""
    import redis

    notes = []
    try:
        _postgres(f'DROP DATABASE IF EXISTS "{shared.database}" WITH (FORCE)', admin_url)
    except Exception as exc:
        notes.append(f"could not drop database {shared.database}: {exc!r}")
    client = redis.Redis.from_url(shared.redis_url, socket_timeout=2, socket_connect_timeout=2)
    try:
        keys = list(client.scan_iter(f"{shared.redis_prefix}*", count=1000))
        if keys:
            client.delete(*keys)
    except redis.RedisError as exc:
        notes.append(f"could not delete Redis keys {shared.redis_prefix}*: {exc}")
    finally:
        client.close()
    return notes


def git_head(repo: Path) -> str:
    def git(*args: str) -> str:
        out = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, timeout=30)
        return out.stdout.strip()

    sha = git("rev-parse", "--short", "HEAD") or "unknown"
    dirty = git("status", "--porcelain", "--untracked-files=no", "src")
    return f"{sha}{' + uncommitted changes in src/' if dirty else ''}"


def litellm_version(litellm: str) -> str:
    python = Path(litellm).with_name("python")
    code = "from importlib.metadata import version as v; print(v('litellm'), v('uvicorn'))"
    out = subprocess.run([str(python), "-c", code], capture_output=True, text=True, timeout=60)
    parts = out.stdout.split()
    return f"litellm {parts[0]} (uvicorn {parts[1]})" if len(parts) == 2 else "litellm ?"
