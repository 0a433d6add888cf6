"""A provider that echoes the credentials it was sent: the key never reaches
the client (any door, streamed or not, in any byte) nor a log line nor the
request's trace."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import anthropic
import openai
import pytest

from _upstream import (
    AWS_SECRET,
    CLIENT_KEY,
    DOORS,
    MASTER_KEY,
    PROVIDER_KEY,
    Rig,
    exchange,
    rig,
)
from junction.codecs import openai_chat
from junction.gateway import Trace
from junction.types import GatewayError

# The key's distinctive middle: no part of the key may get through.
FRAGMENT = b"Xq81ZZprovider"


@pytest.fixture(scope="module")
async def fake() -> AsyncIterator[Rig]:
    async for r in rig():
        yield r


def error_message(door: str, body: bytes) -> str:
    """The message of a door's error body, read in that door's shape."""
    data = json.loads(body)
    if door == "anthropic":
        assert data["type"] == "error"
    message: str = data["error"]["message"]
    return message


def json_body(raw: bytes) -> bytes:
    """The JSON body after the status line and headers :func:`exchange` gives."""
    return raw[raw.index(b"{") :]


def assert_clean(raw: bytes, caplog: pytest.LogCaptureFixture) -> None:
    assert PROVIDER_KEY.encode() not in raw
    assert FRAGMENT not in raw
    assert PROVIDER_KEY not in caplog.text
    assert "Xq81ZZprovider" not in caplog.text


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "stream"])
@pytest.mark.parametrize("door", DOORS)
@pytest.mark.parametrize("behaviour", ["echo-401-json", "echo-401-text"])
async def test_a_401_echoing_the_key_reaches_the_client_scrubbed(
    fake: Rig, caplog: pytest.LogCaptureFixture, door: str, stream: bool, behaviour: str
) -> None:
    caplog.set_level(logging.DEBUG)
    status, raw = await exchange(fake, door, f"fake/{behaviour}", stream)
    assert_clean(raw, caplog)
    assert status == 401
    message = error_message(door, json_body(raw))
    assert "credentials for this provider were rejected" in message
    assert "Bearer [redacted]" in message


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "stream"])
@pytest.mark.parametrize("door", DOORS)
async def test_a_key_echoed_in_response_headers_is_not_relayed(
    fake: Rig, caplog: pytest.LogCaptureFixture, door: str, stream: bool
) -> None:
    caplog.set_level(logging.DEBUG)
    status, raw = await exchange(fake, door, "fake/echo-headers", stream)
    assert status == 401
    assert_clean(raw, caplog)
    assert b"x-echo-authorization" not in raw.lower()


@pytest.mark.parametrize("door", DOORS)
async def test_a_stream_error_event_echoing_the_key_before_any_content(
    fake: Rig, caplog: pytest.LogCaptureFixture, door: str
) -> None:
    caplog.set_level(logging.DEBUG)
    status, raw = await exchange(fake, door, "fake/echo-stream-error", True)
    assert_clean(raw, caplog)
    assert status >= 400
    assert "[redacted]" in error_message(door, json_body(raw))


@pytest.mark.parametrize("door", DOORS)
async def test_a_stream_error_event_echoing_the_key_mid_stream(
    fake: Rig, caplog: pytest.LogCaptureFixture, door: str
) -> None:
    caplog.set_level(logging.DEBUG)
    status, raw = await exchange(fake, door, "fake/echo-stream-error-late", True)
    assert status == 200
    assert_clean(raw, caplog)
    text = raw.decode()
    assert "some " in text, "content before the error was relayed"
    assert "Incorrect API key provided: Bearer [redacted]" in text


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "stream"])
@pytest.mark.parametrize("door", DOORS)
async def test_an_anthropic_upstream_echoing_x_api_key(
    fake: Rig, caplog: pytest.LogCaptureFixture, door: str, stream: bool
) -> None:
    caplog.set_level(logging.DEBUG)
    behaviour = "echo-stream-error-late" if stream else "echo-401-json"
    status, raw = await exchange(fake, door, f"fake-anthropic/{behaviour}", stream)
    assert_clean(raw, caplog)
    assert "invalid x-api-key: [redacted]" in raw.decode()
    if stream:
        assert status == 200
        assert "some " in raw.decode()
    else:
        assert status == 401


async def test_the_trace_and_generation_record_hold_no_key(fake: Rig) -> None:
    body = {"model": "fake/echo-401-json", "messages": [{"role": "user", "content": "hi"}]}
    request = openai_chat.decode_request(json.dumps(body).encode())
    trace = Trace()
    with pytest.raises(GatewayError) as caught:
        await fake.gateway.chat(request, trace)
    assert PROVIDER_KEY not in caught.value.message
    assert PROVIDER_KEY not in str(caught.value)
    (attempt,) = trace.attempts
    assert attempt.error is not None
    assert "Bearer [redacted]" in attempt.error
    assert PROVIDER_KEY not in attempt.error


def test_the_gateway_scrubs_every_configured_secret(fake: Rig) -> None:
    scrub = fake.gateway.redactor.scrub
    text = (
        f"p={PROVIDER_KEY} m={MASTER_KEY} c={CLIENT_KEY} aws={AWS_SECRET} id=AKIAIOSFODNN7EXAMPLE"
    )
    clean = scrub(text)
    for secret in (PROVIDER_KEY, MASTER_KEY, CLIENT_KEY, AWS_SECRET, "AKIAIOSFODNN7EXAMPLE"):
        assert secret not in clean
    assert clean.count("[redacted]") == 5


async def test_the_gateway_logs_no_secret(fake: Rig, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    log = logging.getLogger("junction.server")
    try:
        raise RuntimeError(f"upstream said {PROVIDER_KEY}")
    except RuntimeError:
        log.exception("request failed for key %s", MASTER_KEY)
    assert PROVIDER_KEY not in caplog.text
    assert MASTER_KEY not in caplog.text
    assert "request failed for key [redacted]" in caplog.text
    assert "upstream said [redacted]" in caplog.text


async def collect_text(stream: Any, into: list[str]) -> None:
    async for event in stream:
        if event.type == "content_block_delta" and event.delta.type == "text_delta":
            into.append(event.delta.text)


async def test_the_sdks_see_the_scrubbed_message(fake: Rig) -> None:
    oai = openai.AsyncOpenAI(base_url=f"{fake.url}/v1", api_key=CLIENT_KEY, max_retries=0)
    with pytest.raises(openai.AuthenticationError) as o_caught:
        await oai.chat.completions.create(
            model="fake/echo-401-json", messages=[{"role": "user", "content": "hi"}]
        )
    assert "Bearer [redacted]" in o_caught.value.message
    assert PROVIDER_KEY not in str(o_caught.value.body)
    ant = anthropic.AsyncAnthropic(base_url=fake.url, api_key=CLIENT_KEY, max_retries=0)
    stream = await ant.messages.create(
        model="fake/echo-stream-error-late",
        max_tokens=16,
        messages=[{"role": "user", "content": "hi"}],
        stream=True,
    )
    texts: list[str] = []
    with pytest.raises(anthropic.APIStatusError) as a_caught:
        await collect_text(stream, texts)
    assert texts == ["some "]
    assert "[redacted]" in str(a_caught.value)
    assert PROVIDER_KEY not in str(a_caught.value)
    await oai.close()
    await ant.close()
