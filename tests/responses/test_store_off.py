"""Without a response store the Responses door stays stateless."""

from __future__ import annotations

from collections.abc import AsyncIterator

import openai
import pytest

from _stored_responses import Gw, run_gateway


@pytest.fixture(scope="module")
async def off() -> AsyncIterator[Gw]:
    async for stack in run_gateway(None):
        yield stack


async def test_previous_response_id_is_refused_with_its_message(off: Gw) -> None:
    c = openai.AsyncOpenAI(base_url=f"{off.url}/v1", api_key="k", max_retries=0)
    created = await c.responses.create(model="sim/anthropic", input="echo: hi", store=True)
    with pytest.raises(openai.BadRequestError) as caught:
        await c.responses.create(
            model="sim/anthropic", input="more", previous_response_id=created.id
        )
    body = caught.value.body
    assert isinstance(body, dict)
    assert body["param"] == "previous_response_id"
    assert "junction keeps no conversation state" in body["message"]
    with pytest.raises(openai.NotFoundError) as missing:
        await c.responses.retrieve(created.id)
    assert "responses.store is off" in str(missing.value.body)


async def test_memory_backend_serves_one_process() -> None:
    async for gw in run_gateway("memory://"):
        c = openai.AsyncOpenAI(base_url=f"{gw.url}/v1", api_key="k", max_retries=0)
        first = await c.responses.create(model="sim/anthropic", input="echo: in memory")
        second = await c.responses.create(
            model="sim/anthropic", input="echo: again", previous_response_id=first.id
        )
        assert second.output_text == "again"
        assert (await c.responses.retrieve(first.id)).output_text == "in memory"
