"""The end of a stream: the last batch says the provider's stream is over
(a FinalBatch) before the gateway's bookkeeping runs, so a door can write
the end of its answer first; the bookkeeping runs when the next batch is
asked for, and records a complete stream."""

from __future__ import annotations

import pytest

from conftest import Stack
from junction.gateway.trace import Trace
from junction.types import ChatRequest, FinalBatch, Message, TextDelta, TextPart


@pytest.mark.parametrize("dialect", ["openai", "anthropic"])
async def test_the_last_batch_comes_before_the_record(gw: Stack, dialect: str) -> None:
    gateway = gw.gateway
    trace = Trace()
    request = ChatRequest(
        model=f"test/single-{dialect}",
        stream=True,
        messages=[Message(role="user", content=[TextPart(text="a short answer, please")])],
    )
    events = await gateway.chat_stream(request, trace)
    batches = []
    while not batches or type(batches[-1]) is not FinalBatch:
        batches.append(await anext(events))
    text = "".join(e.text for b in batches for e in b if isinstance(e, TextDelta))
    assert text  # the answer came through
    assert gateway.generations.get(trace.id) is None  # not recorded yet

    with pytest.raises(StopAsyncIteration):
        await anext(events)
    record = gateway.generations.get(trace.id)
    assert record is not None
    assert record.streamed
    assert not record.cancelled
    assert record.usage is not None
    assert record.usage.completion_tokens > 0
    assert not any(type(b) is FinalBatch for b in batches[:-1])
