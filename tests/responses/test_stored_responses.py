"""Stored Responses through the official ``openai`` SDK over a socket, the
model served by the simulator in Anthropic's dialect: the stored turns are
rebuilt into the Anthropic request the provider receives."""

from __future__ import annotations

import asyncio
from typing import Any

import openai
import pytest

from _stored_responses import (
    ALICE,
    BOB,
    MASTER,
    Gw,
    stored_gateway,  # noqa: F401 (the gw fixture)
)

MODEL = "sim/anthropic"


def client(gw: Gw, key: str = ALICE) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(base_url=f"{gw.url}/v1", api_key=key, max_retries=0)


def texts(messages: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """(role, text) of every message an Anthropic request carried."""
    out = []
    for m in messages:
        content = m["content"]
        if isinstance(content, str):
            out.append((m["role"], content))
        else:
            out.append((m["role"], "".join(b.get("text", "") for b in content)))
    return out


async def upstream_messages(gw: Gw) -> tuple[list[tuple[str, str]], Any]:
    last = (await gw.sim_requests(1))[-1]
    assert last["dialect"] == "anthropic"
    return texts(last["body"]["messages"]), last["body"].get("system")


async def test_previous_response_id_rebuilds_the_conversation(gw: Gw) -> None:
    c = client(gw)
    first = await c.responses.create(
        model=MODEL, instructions="Speak like a pirate.", input="echo: first answer", store=True
    )
    assert first.output_text == "first answer"
    second = await c.responses.create(
        model=MODEL, input="echo: second answer", previous_response_id=first.id
    )
    assert second.output_text == "second answer"
    assert second.previous_response_id == first.id
    messages, system = await upstream_messages(gw)
    assert messages == [
        ("user", "echo: first answer"),
        ("assistant", "first answer"),
        ("user", "echo: second answer"),
    ]
    assert not system, "the previous turn's instructions are not carried over"
    third = await c.responses.create(
        model=MODEL,
        instructions="Be brief.",
        input=[{"role": "user", "content": "echo: third"}],
        previous_response_id=second.id,
    )
    assert third.output_text == "third"
    messages, system = await upstream_messages(gw)
    assert [t for _, t in messages] == [
        "echo: first answer",
        "first answer",
        "echo: second answer",
        "second answer",
        "echo: third",
    ]
    assert "Be brief." in str(system)


async def test_a_stream_is_stored_and_continued(gw: Gw) -> None:
    c = client(gw)
    stream = await c.responses.create(model=MODEL, input="echo: streamed words", stream=True)
    final = None
    async for event in stream:
        if event.type == "response.completed":
            final = event.response
    assert final is not None
    assert final.output_text == "streamed words"
    # Stored at the end of the stream: fetchable and continuable at once.
    fetched = await c.responses.retrieve(final.id)
    assert fetched.output_text == "streamed words"
    assert fetched.id == final.id
    follow = await c.responses.create(
        model=MODEL, input="echo: after the stream", previous_response_id=final.id, stream=True
    )
    async for event in follow:
        if event.type == "response.completed":
            assert event.response.previous_response_id == final.id
    messages, _ = await upstream_messages(gw)
    assert messages == [
        ("user", "echo: streamed words"),
        ("assistant", "streamed words"),
        ("user", "echo: after the stream"),
    ]


async def test_retrieve_returns_what_the_client_got(gw: Gw) -> None:
    c = client(gw)
    raw = await c.responses.with_raw_response.create(model=MODEL, input="echo: keep me")
    created = raw.parse()
    fetched = await c.responses.with_raw_response.retrieve(created.id)
    assert fetched.text == raw.text


async def test_input_items_list_pages(gw: Gw) -> None:
    c = client(gw)
    given = [
        {"role": "developer", "content": "be exact"},
        {"role": "user", "content": "one"},
        {"role": "assistant", "content": "two"},
        {"role": "user", "content": [{"type": "input_text", "text": "echo: three"}]},
    ]
    created = await c.responses.create(model=MODEL, input=given)  # type: ignore[arg-type]
    page = await c.responses.input_items.list(created.id, order="asc")
    assert [item.type for item in page.data] == ["message"] * 4
    got = [(i.role, i.content[0].text) for i in page.data]  # type: ignore[union-attr]
    assert got == [
        ("developer", "be exact"),
        ("user", "one"),
        ("assistant", "two"),
        ("user", "echo: three"),
    ]
    assert page.has_more is False
    newest = await c.responses.input_items.list(created.id, limit=2)  # default order: desc
    assert [i.content[0].text for i in newest.data] == ["echo: three", "two"]  # type: ignore[union-attr]
    assert newest.has_more is True
    rest = await c.responses.input_items.list(created.id, limit=2, after=newest.data[-1].id)
    assert [i.content[0].text for i in rest.data] == ["one", "be exact"]  # type: ignore[union-attr]
    assert rest.has_more is False
    # The SDK's auto-paging walks every page.
    walked = [i.id async for i in c.responses.input_items.list(created.id, limit=1)]
    assert len(walked) == 4
    assert len(set(walked)) == 4


async def test_delete_then_gone(gw: Gw) -> None:
    c = client(gw)
    created = await c.responses.create(model=MODEL, input="echo: short-lived")
    deleted = await c.responses.with_raw_response.delete(created.id)
    assert deleted.http_request.method == "DELETE"
    assert (await gw_json(gw, "DELETE", created.id, ALICE)) == (404, "response_id")
    with pytest.raises(openai.NotFoundError):
        await c.responses.retrieve(created.id)
    with pytest.raises(openai.NotFoundError) as caught:
        await c.responses.create(model=MODEL, input="more", previous_response_id=created.id)
    assert caught.value.body["param"] == "previous_response_id"  # type: ignore[index]


async def gw_json(gw: Gw, method: str, rid: str, key: str) -> tuple[int, Any]:
    import httpx

    async with httpx.AsyncClient(timeout=10) as http:
        r = await http.request(
            method, f"{gw.url}/v1/responses/{rid}", headers={"authorization": f"Bearer {key}"}
        )
    body = r.json()
    return r.status_code, body["error"]["param"] if "error" in body else body


async def test_delete_answers_in_openai_shape(gw: Gw) -> None:
    created = await client(gw).responses.create(model=MODEL, input="echo: x")
    assert await gw_json(gw, "DELETE", created.id, ALICE) == (
        200,
        {"id": created.id, "object": "response", "deleted": True},
    )


async def test_store_false_keeps_nothing(gw: Gw) -> None:
    c = client(gw)
    created = await c.responses.create(model=MODEL, input="echo: forget me", store=False)
    await asyncio.sleep(0.05)
    with pytest.raises(openai.NotFoundError):
        await c.responses.retrieve(created.id)


async def test_unknown_previous_response_id_is_404_in_the_responses_shape(gw: Gw) -> None:
    with pytest.raises(openai.NotFoundError) as caught:
        await client(gw).responses.create(
            model=MODEL, input="hi", previous_response_id="resp_never_made"
        )
    error = caught.value.body
    assert isinstance(error, dict)
    assert error["param"] == "previous_response_id"
    assert error["type"] == "invalid_request_error" or error["type"]
    assert "resp_never_made" in error["message"]


async def test_a_key_reads_only_its_own(gw: Gw) -> None:
    mine = await client(gw, ALICE).responses.create(model=MODEL, input="echo: alice's")
    bob = client(gw, BOB)
    with pytest.raises(openai.NotFoundError):
        await bob.responses.retrieve(mine.id)
    with pytest.raises(openai.NotFoundError):
        await bob.responses.input_items.list(mine.id)
    with pytest.raises(openai.NotFoundError):
        await bob.responses.delete(mine.id)
    with pytest.raises(openai.NotFoundError):
        await bob.responses.create(model=MODEL, input="hi", previous_response_id=mine.id)
    # The master key reads every key's; alice's is still there after bob's tries.
    assert (await client(gw, MASTER).responses.retrieve(mine.id)).id == mine.id
    assert (await client(gw, ALICE).responses.retrieve(mine.id)).output_text == "alice's"


async def test_the_record_reaches_the_durable_store(gw: Gw) -> None:
    """The record is in the durable store, not only in the cache."""
    created = await client(gw).responses.create(model=MODEL, input="echo: durable")
    stored = gw.app.context.state.responses
    await stored.flush()  # the background write
    found = await stored.durable.get(created.id, stored.clock())
    assert found is not None
    assert found.owner == "alice"
    assert b"durable" in found.response


async def test_openrouter_door_stores_and_answers_in_its_shape(gw: Gw) -> None:
    import httpx

    auth = {"authorization": f"Bearer {ALICE}"}
    async with httpx.AsyncClient(base_url=f"{gw.url}/api/v1", headers=auth, timeout=10) as http:
        first = (await http.post("/responses", json={"model": MODEL, "input": "echo: or"})).json()
        second = await http.post(
            "/responses",
            json={"model": MODEL, "input": "echo: again", "previous_response_id": first["id"]},
        )
        assert second.json()["previous_response_id"] == first["id"]
        assert (await http.get(f"/responses/{first['id']}")).json()["id"] == first["id"]
        missing = await http.get("/responses/resp_nothing")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == 404  # OpenRouter's shape: the status as code
    messages, _ = await upstream_messages(gw)
    assert messages == [("user", "echo: or"), ("assistant", "or"), ("user", "echo: again")]


async def test_a_chain_with_a_deleted_turn_is_404_naming_it(gw: Gw) -> None:
    c = client(gw)
    a = await c.responses.create(model=MODEL, input="echo: a")
    b = await c.responses.create(model=MODEL, input="echo: b", previous_response_id=a.id)
    await c.responses.delete(a.id)
    with pytest.raises(openai.NotFoundError) as caught:
        await c.responses.create(model=MODEL, input="echo: c", previous_response_id=b.id)
    body = caught.value.body
    assert isinstance(body, dict)
    assert body["param"] == "previous_response_id"
    assert a.id in body["message"]
