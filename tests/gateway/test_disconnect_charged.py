"""A client that leaves in the middle of a stream: the upstream call ends,
and the generation record says the stream was cancelled and charges the
output that had been relayed (the provider never sent its usage)."""

from __future__ import annotations

import asyncio
import json

import pytest

from conftest import Stack

# A long answer at 40 tokens a second: several seconds of stream.
LONG = "echo: " + " ".join(f"word{i}" for i in range(400))


@pytest.mark.parametrize("dialect", ["openai", "anthropic"])
async def test_a_client_gone_mid_stream_is_recorded_cancelled_and_charged(
    gw: Stack, dialect: str
) -> None:
    model = f"test/single-{dialect}"
    await gw.sim_model(f"single-{dialect}", {"tokens_per_second": 40})
    body = {"model": model, "stream": True, "messages": [{"role": "user", "content": LONG}]}
    seen = ""
    response_id = ""
    async with gw.http.stream("POST", "/v1/chat/completions", json=body) as reply:
        assert reply.status_code == 200
        async for line in reply.aiter_lines():
            if not line.startswith("data: {"):
                continue
            chunk = json.loads(line[6:])
            response_id = chunk["id"]
            for choice in chunk["choices"]:
                seen += choice["delta"].get("content") or ""
            if len(seen) > 80:
                break  # leave: the context manager closes the connection
    assert response_id.startswith("gen-")

    record: dict[str, object] = {}
    for _ in range(100):  # settled when the gateway notices, a moment later
        found = await gw.http.get("/api/v1/generation", params={"id": response_id})
        if found.status_code == 200:
            record = found.json()["data"]
            break
        await asyncio.sleep(0.05)
    assert record, "no generation record for the abandoned stream"
    assert record["streamed"] is True
    assert record["cancelled"] is True
    completion = record["tokens_completion"]
    assert isinstance(completion, int)
    # Charged for what was relayed (about 4 characters a token), not for
    # the whole answer the client never read, and not for nothing.
    assert len(seen) // 8 <= completion < len(LONG) // 4
