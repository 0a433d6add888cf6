"""A provider that misbehaves: oversized bodies, endless lines, oversized
events, a stall mid-stream, malformed answers. Each ends in the door's own
error shape with a status that says the provider failed (502 / 504), never
a 500, and no more of the answer is held than the configured limit."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator

import pytest

from _upstream import DOORS, IDLE_S, MAX_BODY, MAX_LINE, Rig, exchange, rig


@pytest.fixture(scope="module")
async def fake() -> AsyncIterator[Rig]:
    async for r in rig():
        yield r


def error_of(door: str, raw: bytes) -> dict[str, str]:
    """The error object of a door's error body, read in that door's shape."""
    data = json.loads(raw[raw.index(b"{") :])
    if door == "anthropic":
        assert data["type"] == "error"
        assert set(data["error"]) >= {"type", "message"}
    else:
        assert set(data["error"]) >= {"message", "type", "code"}
    error: dict[str, str] = data["error"]
    return error


@pytest.mark.parametrize("door", DOORS)
async def test_an_oversized_body_is_a_502_naming_the_limit(fake: Rig, door: str) -> None:
    status, raw = await exchange(fake, door, "fake/big-body", False)
    assert status == 502
    message = error_of(door, raw)["message"]
    assert f"larger than junction's limit of {MAX_BODY} bytes" in message
    assert "limits.max_body_bytes" in message


@pytest.mark.parametrize("door", DOORS)
async def test_an_endless_stream_line_is_a_502_and_reading_stops(fake: Rig, door: str) -> None:
    fake.upstream.sent = 0
    status, raw = await exchange(fake, door, "fake/endless-line", True)
    assert status == 502
    message = error_of(door, raw)["message"]
    assert f"an SSE line passed {MAX_LINE} bytes" in message
    assert "limits.max_line_bytes" in message
    # The gateway hung up: the provider could not push its 64 MiB.
    assert fake.upstream.sent < 16 * 1024 * 1024


@pytest.mark.parametrize("door", DOORS)
async def test_an_oversized_stream_event_is_a_502(fake: Rig, door: str) -> None:
    fake.upstream.sent = 0
    status, raw = await exchange(fake, door, "fake/big-event", True)
    assert status == 502
    assert "limits.max_event_bytes" in error_of(door, raw)["message"]
    assert fake.upstream.sent < 16 * 1024 * 1024


def sse_data(raw: bytes) -> list[str]:
    return [line[6:] for line in raw.decode().splitlines() if line.startswith("data: ")]


@pytest.mark.parametrize("door", DOORS)
async def test_a_stall_mid_stream_ends_it_with_an_idle_timeout_error(fake: Rig, door: str) -> None:
    started = time.monotonic()
    status, raw = await exchange(fake, door, "fake/stall", True)
    elapsed = time.monotonic() - started
    assert status == 200
    text = raw.decode()
    assert "one " in text, "the content before the stall was relayed"
    assert "two " in text
    assert f"sent nothing for {IDLE_S:g} s mid-response (the idle timeout)" in text
    # Well before the 20 s total timeout (and the upstream's 30 s stall).
    assert elapsed < 10
    errors = [json.loads(d) for d in sse_data(raw) if d != "[DONE]" and "idle timeout" in d]
    (error,) = errors
    if door == "anthropic":
        assert error["type"] == "error"
        assert error["error"]["type"] == "timeout_error"
    elif door == "openai":
        assert error["choices"][0]["finish_reason"] == "error"
    else:
        assert error["type"] == "response.failed"


MALFORMED = [
    ("wrong-type", False),
    ("wrong-type", True),
    ("bad-json", False),
    ("bad-json", True),
    ("bad-sse", True),
]


@pytest.mark.parametrize("door", DOORS)
@pytest.mark.parametrize(("behaviour", "stream"), MALFORMED)
async def test_a_malformed_answer_is_a_502_in_the_doors_shape(
    fake: Rig, door: str, behaviour: str, stream: bool
) -> None:
    status, raw = await exchange(fake, door, f"fake/{behaviour}", stream)
    assert status == 502
    message = error_of(door, raw)["message"]
    assert "openai" in message, "the message names the provider"


@pytest.mark.parametrize("door", DOORS)
async def test_a_well_behaved_upstream_still_answers(fake: Rig, door: str) -> None:
    for stream in (False, True):
        status, raw = await exchange(fake, door, "fake/ok", stream)
        assert status == 200
        assert b"fine" in raw
