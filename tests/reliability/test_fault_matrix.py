"""The fault matrix: every fault kind, every egress dialect, streamed or
not, each cell through real sockets (client → gateway → a faulty provider,
then the simulator), asserting what the client saw, the attempts in the
generation record and the one log line per failed attempt.

The cells run concurrently once per session (``observed``); each
parametrised test then checks its own cell against the table in
``_matrix.py``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from _faulty import BlackHole, Faulty, start_faulty
from _matrix import BEGIN, BROKEN, CELLS, DOC, END, ENDED, FAILOVER, Cell, render_section
from _serving import serve_on_loopback
from junction.config import Server, parse_config
from junction.server.app import create_app
from junction.server.serving import build_server
from junction.sim import Profile, start

CLOSED_PORT_URL = "http://127.0.0.1:9"  # discard port: nothing listens
VENDOR = {
    "openai_chat": "openai",
    "openai_responses": "openai-responses",
    "anthropic_messages": "anthropic",
    "gemini": "gemini",
    "bedrock_converse": "bedrock",
}
SUFFIX = {"openai_chat": "/v1", "openai_responses": "/v1"}
KEY = {"bedrock_converse": "'AKIDTEST:secret'"}
HEALTHY = {
    "openai_chat": "gpt-4o-mini",
    "openai_responses": "gpt-4.1-mini",
    "anthropic_messages": "claude-sonnet-4-5",
    "gemini": "gemini-2.5-flash",
    "bedrock_converse": "anthropic.claude-3-5-haiku-20241022-v1:0",
}
DOOR = {
    "openai_chat": "chat",
    "openai_responses": "responses",
    "anthropic_messages": "messages",
    "gemini": "chat",
    "bedrock_converse": "messages",
}
"""The door each dialect's cells come in by: every door gets streams broken in its shape."""
# The faulty deployment's timeouts and limits: short, so the matrix is fast.
# The idle timeout is not shorter still: the cells share one event loop with
# the faulty provider, and under a loaded CI machine a "cut" cell's reset
# (20 ms after its last event) was once seen only after 0.5 s of silence.
FAULTY_TIMEOUTS = "{connect: 0.5, first_token: 1, idle: 1.5, total: 8}"
FAULTY_LIMITS = "{max_body_bytes: 65536, max_line_bytes: 8192, max_event_bytes: 16384}"
CONCURRENCY = 24


def matrix_config(faulty: str, blackhole: str, sim: str) -> str:
    lines = ["routing: {retry: {attempts: 0}}", "models:"]
    for cell in CELLS:
        d = cell.dialect
        base = {"refused": CLOSED_PORT_URL, "connect-timeout": blackhole}.get(
            cell.fault.name, faulty
        ) + SUFFIX.get(d, "")
        key = KEY.get(d, "k")
        lines += [
            f"  {cell.model}:",
            "    deployments:",
            f"      - {{provider: {VENDOR[d]}, name: {cell.faulty_name}, "
            f"model: '{cell.upstream_model}', base_url: '{base}', api_key: {key}, "
            f"timeouts: {FAULTY_TIMEOUTS}, limits: {FAULTY_LIMITS}}}",
            f"      - {{provider: {VENDOR[d]}, name: {cell.backup_name}, "
            f"model: '{HEALTHY[d]}', base_url: '{sim}{SUFFIX.get(d, '')}', api_key: {key}}}",
        ]
    return "\n".join(lines) + "\n"


@dataclass
class Seen:
    """What one cell produced."""

    status: int
    events: list[dict[str, Any]] = field(default_factory=list)
    body: dict[str, Any] = field(default_factory=dict)
    response_id: str = ""
    record: dict[str, Any] = field(default_factory=dict)
    logged: list[str] = field(default_factory=list)
    calls: int = 0
    seconds: float = 0.0
    written: int = 0
    """Bytes an endless answer wrote before the gateway hung up."""
    resting: str | None = None
    """Why the faulty deployment is a last resort after the cell, if it is."""


class Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def request_of(cell: Cell) -> tuple[str, dict[str, Any]]:
    stream = cell.mode == "stream"
    door = DOOR[cell.dialect]
    hi = [{"role": "user", "content": "hi"}]
    if door == "chat":
        return "/v1/chat/completions", {"model": cell.model, "messages": hi, "stream": stream}
    if door == "messages":
        body = {"model": cell.model, "max_tokens": 32, "messages": hi, "stream": stream}
        return "/v1/messages", body
    return "/v1/responses", {"model": cell.model, "input": "hi", "stream": stream}


def sse_events(raw: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for line in raw.splitlines():
        if line.startswith("data: ") and line[6:] != "[DONE]":
            out.append(json.loads(line[6:]))
        elif line == "data: [DONE]":
            out.append({"[DONE]": True})
    return out


def stream_id(door: str, events: list[dict[str, Any]]) -> str:
    first = events[0]
    if door == "chat":
        return str(first["id"])
    if door == "messages":
        return str(first["message"]["id"])
    return str(first["response"]["id"])


async def run_cell(http: httpx.AsyncClient, faulty: Faulty, gateway: Any, cell: Cell) -> Seen:
    path, body = request_of(cell)
    started = time.monotonic()
    async with http.stream("POST", path, json=body) as r:
        raw = (await r.aread()).decode()
    seen = Seen(r.status_code, seconds=time.monotonic() - started)
    door = DOOR[cell.dialect]
    if cell.mode == "stream" and r.status_code == 200:
        seen.events = sse_events(raw)
        seen.response_id = stream_id(door, seen.events)
    else:
        seen.body = json.loads(raw)
        seen.response_id = str(seen.body.get("id", ""))
    found = await http.get("/api/v1/generation", params={"id": seen.response_id})
    if found.status_code == 200:
        seen.record = found.json()["data"]
    seen.calls = faulty.calls[cell.upstream_model]
    seen.written = faulty.written[cell.upstream_model]
    seen.resting = gateway.stats.resting(f"{cell.model}@{cell.faulty_name}", now=gateway.clock())
    return seen


@dataclass
class Matrix:
    seen: dict[str, Seen]
    logged: list[str]
    wall: float


async def _serve(app: Any) -> tuple[Any, asyncio.Task[None], str]:
    server = build_server(app, Server(), log_level="warning")
    task, port = await serve_on_loopback(server)
    return server, task, f"http://127.0.0.1:{port}"


@pytest.fixture(scope="module")
async def observed() -> AsyncIterator[Matrix]:
    sim_runner, sim_url = await start(Profile())
    faulty_runner, faulty = await start_faulty()
    hole = BlackHole()
    config = parse_config(matrix_config(faulty.url, hole.url, sim_url), {}, source="<matrix>")
    app = create_app(config)
    server, task, url = await _serve(app)
    gateway = app.context.state.gateway  # built when the server starts
    collect = Collect()
    logger = logging.getLogger("junction.gateway")
    logger.addHandler(collect)
    gate = asyncio.Semaphore(CONCURRENCY)
    try:
        async with httpx.AsyncClient(base_url=url, timeout=30) as http:

            async def one(cell: Cell) -> tuple[str, Seen]:
                async with gate:
                    return cell.id, await run_cell(http, faulty, gateway, cell)

            started = time.monotonic()
            seen = dict(await asyncio.gather(*(one(c) for c in CELLS)))
            wall = time.monotonic() - started
        yield Matrix(seen, collect.lines, wall)
    finally:
        logger.removeHandler(collect)
        server.should_exit = True
        await task
        await faulty_runner.cleanup()
        await sim_runner.cleanup()
        hole.close()


def stream_text(door: str, events: list[dict[str, Any]]) -> str:
    parts: list[str] = []
    for e in events:
        if door == "chat":
            for choice in e.get("choices") or []:
                parts.append((choice.get("delta") or {}).get("content") or "")
        elif door == "messages" and e.get("type") == "content_block_delta":
            parts.append(e["delta"].get("text", ""))
        elif door == "responses" and e.get("type") == "response.output_text.delta":
            parts.append(e["delta"])
    return "".join(parts)


def stream_error(door: str, events: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The error event of a stream in the door's shape, or None."""
    for e in events:
        if door == "chat" and "error" in e:
            assert e["choices"][0]["finish_reason"] == "error"
            return dict(e["error"])
        if door == "messages" and e.get("type") == "error":
            return dict(e["error"])
        if door == "responses" and e.get("type") == "response.failed":
            return dict(e["response"]["error"])
    return None


def completed(door: str, events: list[dict[str, Any]]) -> bool:
    if door == "chat":
        return events[-1] == {"[DONE]": True}
    kind = "message_stop" if door == "messages" else "response.completed"
    return events[-1].get("type") == kind


def plain_text(door: str, body: dict[str, Any]) -> str:
    if door == "chat":
        return str(body["choices"][0]["message"]["content"])
    if door == "messages":
        return "".join(b.get("text", "") for b in body["content"])
    return "".join(c.get("text", "") for item in body["output"] for c in item.get("content") or [])


@pytest.mark.parametrize("cell", CELLS, ids=[c.id for c in CELLS])
def test_cell(observed: Matrix, cell: Cell) -> None:
    verify(observed, cell)


def verify(observed: Matrix, cell: Cell) -> None:
    """Every check of one cell (an AssertionError names the first that fails)."""
    seen = observed.seen[cell.id]
    expect = cell.expect
    door = DOOR[cell.dialect]
    assert seen.status == 200, seen.body
    assert seen.calls == expect.calls
    assert (seen.resting is not None) == expect.rests, seen.resting
    if expect.hung_up:
        assert 0 < seen.written < 16 * 1024 * 1024, seen.written
    record = seen.record
    assert record, f"no generation record for {seen.response_id!r}"
    attempts = record["provider_responses"]
    failed = attempts[0]
    assert failed["provider_name"] == cell.faulty_name
    assert failed["status"] == expect.status, failed
    mine = [line for line in observed.logged if f"endpoint={cell.faulty_name} " in line]
    if expect.outcome == ENDED:
        assert [a["provider_name"] for a in attempts] == [cell.faulty_name]
        assert mine == [], "nothing failed, nothing is logged"
        assert stream_error(door, seen.events) is None
        assert completed(door, seen.events)
        assert stream_text(door, seen.events)
        return
    assert expect.says in failed["error"], failed["error"]
    assert len(mine) == 1, mine
    assert f"request={record['id']} " in mine[0]
    assert f"status={expect.status} " in mine[0]
    if expect.outcome == FAILOVER:
        assert [a["provider_name"] for a in attempts] == [cell.faulty_name, cell.backup_name]
        assert attempts[1]["status"] == 200
        assert record["provider_name"] == cell.backup_name
        assert record["tokens_completion"] > 0, "the answer served is charged"
        if cell.mode == "stream":
            assert stream_error(door, seen.events) is None
            assert completed(door, seen.events)
            assert stream_text(door, seen.events)
        else:
            assert plain_text(door, seen.body)
        return
    assert expect.outcome == BROKEN
    assert [a["provider_name"] for a in attempts] == [cell.faulty_name]
    assert record["provider_name"] == cell.faulty_name
    assert record["cancelled"] is True, "the answer did not end as it should"
    assert record["tokens_completion"] > 0, "the content relayed is charged"
    assert stream_text(door, seen.events), "the content before the fault was relayed"
    error = stream_error(door, seen.events)
    assert error is not None, seen.events
    assert expect.says in error["message"]


def observed_text(observed: Matrix, cell: Cell) -> str:
    """What the cell did, for the document: attempt statuses, whether the
    stream broke, tokens charged, and whether every check passed."""
    seen = observed.seen[cell.id]
    try:
        verify(observed, cell)
        mark = "pass"
    except (AssertionError, KeyError, IndexError) as exc:
        mark = f"FAIL ({str(exc).splitlines()[0][:60]})"
    statuses = " → ".join(str(a["status"]) for a in seen.record.get("provider_responses", []))
    broke = ", error event" if stream_error(DOOR[cell.dialect], seen.events) else ""
    charged = seen.record.get("tokens_completion", "-")
    return f"{seen.status}: {statuses or '-'}{broke}; {charged} tok; {mark}"


def test_the_matrix_runs_fast(observed: Matrix) -> None:
    print(f"\nfault matrix: {len(CELLS)} cells in {observed.wall:.2f} s")
    assert observed.wall < 60


def test_the_doc_shows_this_matrix(observed: Matrix) -> None:
    section = render_section({c.id: observed_text(observed, c) for c in CELLS})
    text = DOC.read_text()
    start, end = text.index(BEGIN), text.index(END) + len(END)
    if os.environ.get("MATRIX_WRITE_DOC"):
        DOC.write_text(text[:start] + section + text[end:])
        return
    assert text[start:end] == section, (
        "docs/reliability.md's fault matrix is stale: run "
        "MATRIX_WRITE_DOC=1 python -m pytest tests/reliability -q"
    )
