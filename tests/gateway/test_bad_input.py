"""Bad input gets a clear 4xx in OpenAI's error shape, and nothing else."""

from __future__ import annotations

import pytest

from _openapi import validator
from conftest import Stack

OK = '{"role": "user", "content": "hi"}'

CASES = [
    # (name, method, path, body, status, words the message must contain)
    (
        "malformed json",
        "POST",
        "/v1/chat/completions",
        b'{"model": "sim/openai", "messages": [',
        400,
        "not valid JSON",
    ),
    ("empty body", "POST", "/v1/chat/completions", b"", 400, "empty"),
    ("array body", "POST", "/v1/chat/completions", b"[1, 2]", 400, "object"),
    (
        "missing messages",
        "POST",
        "/v1/chat/completions",
        b'{"model": "sim/openai"}',
        400,
        "messages",
    ),
    (
        "missing model",
        "POST",
        "/v1/chat/completions",
        f'{{"messages": [{OK}]}}'.encode(),
        400,
        "model",
    ),
    (
        "messages not a list",
        "POST",
        "/v1/chat/completions",
        b'{"model": "sim/openai", "messages": "hi"}',
        400,
        "$.messages",
    ),
    (
        "empty messages",
        "POST",
        "/v1/chat/completions",
        b'{"model": "sim/openai", "messages": []}',
        400,
        "messages",
    ),
    (
        "bad role",
        "POST",
        "/v1/chat/completions",
        b'{"model": "sim/openai", "messages": [{"role": "wizard", "content": "x"}]}',
        400,
        "role",
    ),
    (
        "wrong type",
        "POST",
        "/v1/chat/completions",
        f'{{"model": "sim/openai", "messages": [{OK}], "temperature": "hot"}}'.encode(),
        400,
        "temperature",
    ),
    (
        "stream not bool",
        "POST",
        "/v1/chat/completions",
        f'{{"model": "sim/openai", "messages": [{OK}], "stream": "yes"}}'.encode(),
        400,
        "stream",
    ),
    (
        "negative max_tokens",
        "POST",
        "/v1/chat/completions",
        f'{{"model": "sim/openai", "messages": [{OK}], "max_tokens": -5}}'.encode(),
        400,
        "max_tokens must be at least 1",
    ),
    (
        "unknown model",
        "POST",
        "/v1/chat/completions",
        f'{{"model": "nope/nope", "messages": [{OK}]}}'.encode(),
        404,
        "nope/nope",
    ),
    (
        "embeddings without input",
        "POST",
        "/v1/embeddings",
        b'{"model": "sim/embedding"}',
        400,
        "input",
    ),
    (
        "chat model for embeddings",
        "POST",
        "/v1/embeddings",
        b'{"model": "sim/openai", "input": "x"}',
        400,
        "chat model",
    ),
    ("unknown path", "GET", "/v1/nothing-here", b"", 404, "/v1/nothing-here"),
    ("wrong method", "GET", "/v1/chat/completions", b"", 405, "GET"),
]


@pytest.mark.parametrize(
    ("name", "method", "path", "body", "status", "words"), CASES, ids=[c[0] for c in CASES]
)
async def test_bad_input(
    gw: Stack, name: str, method: str, path: str, body: bytes, status: int, words: str
) -> None:
    r = await gw.http.request(
        method, path, content=body, headers={"content-type": "application/json"}
    )
    assert r.status_code == status, r.text
    payload = r.json()
    validator("ErrorResponse").validate(payload)
    message = payload["error"]["message"]
    assert words in message
    assert "Traceback" not in r.text
    assert (await gw.sim_stats())["requests"] == 0, "nothing reached the provider"


async def test_oversize_body_is_413(gw: Stack) -> None:
    big = (
        b'{"model": "sim/openai", "messages": [{"role": "user", "content": "'
        + b"x" * 300_000
        + b'"}]}'
    )
    r = await gw.http.post("/v1/chat/completions", content=big)
    assert r.status_code == 413
    assert "262144 bytes" in r.json()["error"]["message"]


async def test_oversize_body_without_content_length_is_413(gw: Stack) -> None:
    async def chunks():  # type: ignore[no-untyped-def]
        yield b'{"model": "sim/openai", "messages": [{"role": "user", "content": "'
        for _ in range(40):
            yield b"y" * 10_000
        yield b'"}]}'

    r = await gw.http.post("/v1/chat/completions", content=chunks())
    assert r.status_code == 413
