"""``junction serve`` loads what its config uses: a gateway without semantic routing,
a semantic cache, PostgreSQL or a SigV4-signed Bedrock endpoint does not import numpy,
the router's encoders, asyncpg or botocore's signer (a good part of its start-up
time), and one with them loads them when it is built, not on a request."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from _serving import free_port

# Runs `junction serve` in this process's main thread; a second thread waits for
# /health, sends one chat request (its upstream is a closed port: an error answer
# is enough to have gone through the request path), prints which of the watched
# modules were loaded before the request (the gateway built) and after it, and
# ends the process.
SERVE_THEN_REPORT = """
import http.client, json, os, sys, threading, time

WATCHED = {watched!r}

def report():
    for _ in range(600):
        try:
            conn = http.client.HTTPConnection("127.0.0.1", {port}, timeout=5)
            conn.request("GET", "/health")
            if conn.getresponse().status == 200:
                break
        except OSError:
            time.sleep(0.05)
    built = [m for m in WATCHED if m in sys.modules]
    conn = http.client.HTTPConnection("127.0.0.1", {port}, timeout=30)
    body = json.dumps({{"model": "m", "messages": [{{"role": "user", "content": "hi"}}]}})
    conn.request("POST", "/v1/chat/completions", body, {{"content-type": "application/json"}})
    status = conn.getresponse().status
    loaded = [m for m in WATCHED if m in sys.modules]
    print(json.dumps({{"status": status, "built": built, "loaded": loaded}}), flush=True)
    os._exit(0)

threading.Thread(target=report, daemon=True).start()
from junction.cli import main
main(["serve", "--config", {config!r}, "--port", "{port}"])
"""

WATCHED = ["numpy", "junction.semantic", "asyncpg", "botocore.auth", "httpx"]


def serve_and_report(tmp_path: Path, deployment: str, extra: str = "") -> dict[str, object]:
    config = tmp_path / "junction.yaml"
    config.write_text(
        f"""
server:
  log_level: warning
{extra}
models:
  m:
    deployments:
      - {deployment}
"""
    )
    script = SERVE_THEN_REPORT.format(watched=WATCHED, port=free_port(), config=str(config))
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=90, cwd=tmp_path
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    assert lines, f"no report (exit {done.returncode}):\n{done.stderr[-2000:]}"
    report: dict[str, object] = json.loads(lines[-1])
    return report


def openai_at(port: int) -> str:
    return f'{{provider: openai, model: gpt-4o-mini, base_url: "http://127.0.0.1:{port}/v1"}}'


def test_a_plain_gateway_with_the_request_log_and_the_exact_cache_loads_none_of_them(
    tmp_path: Path,
) -> None:
    extra = f"""stores:
  database_url: "sqlite:///{tmp_path}/junction.db"
cache:
  enabled: true"""
    report = serve_and_report(tmp_path, openai_at(free_port()), extra)
    assert report["status"] == 502  # the request went through to the (closed) upstream
    assert report["loaded"] == []


def test_a_semantic_cache_loads_numpy_when_the_gateway_is_built(tmp_path: Path) -> None:
    extra = """cache:
  enabled: true
  semantic:
    enabled: true"""
    report = serve_and_report(tmp_path, openai_at(free_port()), extra)
    assert "numpy" in report["built"]  # type: ignore[operator]


@pytest.mark.parametrize(
    ("key", "signs"), [("AKIAIOSFODNN7EXAMPLE:secret", True), ("bedrock-api-key", False)]
)
def test_a_sigv4_bedrock_endpoint_loads_the_signer_when_the_gateway_is_built(
    tmp_path: Path, key: str, signs: bool
) -> None:
    port = free_port()
    deployment = (
        f'{{provider: bedrock, model: amazon.nova-micro-v1:0, base_url: "http://127.0.0.1:{port}",'
        f' api_key: "{key}"}}'
    )
    report = serve_and_report(tmp_path, deployment)
    assert report["status"] == 502
    assert ("botocore.auth" in report["built"]) is signs  # type: ignore[operator]
    assert ("botocore.auth" in report["loaded"]) is signs  # type: ignore[operator]
