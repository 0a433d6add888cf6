"""The model list, one model, and every error, in the dialect of the client
that asked: OpenAI's by default, Anthropic's for an Anthropic client (its
SDKs send ``anthropic-version``), through the official SDKs."""

from __future__ import annotations

from datetime import datetime

import anthropic
import openai
import pytest

from _openapi import validator
from conftest import Stack

ANTHROPIC = {"anthropic-version": "2023-06-01"}


def openai_client(gw: Stack) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(base_url=f"{gw.url}/v1", api_key="k", max_retries=0)


def anthropic_client(gw: Stack) -> anthropic.AsyncAnthropic:
    return anthropic.AsyncAnthropic(base_url=gw.url, api_key="k", max_retries=0)


async def test_openai_lists_and_retrieves_models(gw: Stack) -> None:
    client = openai_client(gw)
    listed = [m.id async for m in client.models.list()]
    assert listed == list(gw.gateway.routes)
    model = await client.models.retrieve("sim/openai")
    assert (model.id, model.object, model.owned_by) == ("sim/openai", "model", "openai")
    raw = (await gw.http.get("/v1/models/sim/openai")).json()
    validator("Model").validate(raw)
    assert raw["pricing"]["prompt"] == "0.00000015"  # OpenRouter's fields besides
    with pytest.raises(openai.NotFoundError) as caught:
        await client.models.retrieve("no/such-model")
    assert caught.value.code == "model_not_found"


async def test_anthropic_lists_and_retrieves_models(gw: Stack) -> None:
    client = anthropic_client(gw)
    names = list(gw.gateway.routes)
    page = await client.models.list(limit=2)
    assert [m.id for m in page.data] == names[:2]
    assert (page.has_more, page.first_id, page.last_id) == (True, names[0], names[1])
    assert all(m.type == "model" and m.display_name for m in page.data)
    assert all(isinstance(m.created_at, datetime) for m in page.data)
    # The SDK's auto-paging walks after_id to the end.
    assert [m.id async for m in client.models.list(limit=3)] == names
    model = await client.models.retrieve("sim/anthropic")
    assert (model.id, model.type) == ("sim/anthropic", "model")
    with pytest.raises(anthropic.NotFoundError) as caught:
        await client.models.retrieve("no/such-model")
    assert caught.value.body == {
        "type": "error",
        "error": {"type": "not_found_error", "message": caught.value.body["error"]["message"]},
    }


async def test_anthropic_pages_before_a_cursor(gw: Stack) -> None:
    names = list(gw.gateway.routes)
    r = await gw.http.get(
        "/v1/models", params={"before_id": names[3], "limit": 2}, headers=ANTHROPIC
    )
    assert r.status_code == 200
    body = r.json()
    assert [m["id"] for m in body["data"]] == names[1:3]
    assert (body["has_more"], body["first_id"], body["last_id"]) == (True, names[1], names[2])
    last = await gw.http.get("/v1/models", params={"after_id": names[-1]}, headers=ANTHROPIC)
    assert last.json() == {"data": [], "has_more": False, "first_id": None, "last_id": None}
    bad = await gw.http.get("/v1/models", params={"after_id": "no/such"}, headers=ANTHROPIC)
    assert bad.status_code == 400
    assert bad.json()["type"] == "error"
    assert bad.json()["error"]["type"] == "invalid_request_error"


@pytest.mark.parametrize(
    ("method", "path", "headers", "status"),
    [
        ("GET", "/v1/messages/batches", {"x-api-key": "k"}, 404),
        ("POST", "/v1/no-such-route", ANTHROPIC, 404),
        ("GET", "/v1/messages", ANTHROPIC, 405),
        ("GET", "/v1/messages/count_tokens", {}, 405),
    ],
)
async def test_route_errors_reach_anthropic_clients_in_anthropics_shape(
    gw: Stack, method: str, path: str, headers: dict[str, str], status: int
) -> None:
    r = await gw.http.request(method, path, headers=headers)
    assert r.status_code == status
    body = r.json()
    assert body["type"] == "error"
    assert set(body["error"]) == {"type", "message"}
    assert body["error"]["type"] == (
        "not_found_error" if status == 404 else "invalid_request_error"
    )


async def test_route_errors_reach_openai_clients_in_openais_shape(gw: Stack) -> None:
    client = openai_client(gw)
    with pytest.raises(openai.NotFoundError) as caught:
        await client.get("/no-such-route", cast_to=object)
    assert caught.value.code == "not_found"
    r = await gw.http.delete("/v1/models")
    assert r.status_code == 405
    assert r.headers["allow"] == "GET"
    assert r.json()["error"]["type"] == "invalid_request_error"
    assert r.json()["error"]["code"] == "invalid_request"
