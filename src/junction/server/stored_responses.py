"""Stored Responses on the ``/v1/responses`` door (docs/responses.md).

With ``responses.store`` on, a request's turn (:class:`Turn`) does three
things around the ordinary chat path:

- ``previous_response_id``: the stored chain of turns it continues (each
  turn's input items, then its output items, oldest first) becomes the
  ``history`` the codec puts before the new input, so the canonical request
  carries the whole conversation to any dialect behind the gateway. The
  previous turns' ``instructions`` are not carried (OpenAI's behaviour).
- ``store`` (default true when the store is on): the Response the client got
  and this turn's input items are saved under the Response's id, owned by
  the caller's key; a stream is saved from its terminal event.
- the routes: ``GET``/``DELETE /v1/responses/{id}`` and
  ``GET /v1/responses/{id}/input_items``.

A key reads and deletes only its own Responses (another key's are "not
found"); the master key reads all; with keys off, everyone reads all.
"""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import parse_qs

import msgspec

from junction.codecs import openai_responses
from junction.codecs.openai_responses import wire
from junction.codecs.openai_responses.server import encode_json, response_struct
from junction.codecs.openai_responses.wire import item_id
from junction.config import Config
from junction.gateway.trace import Principal
from junction.responses_store import StoredResponse, StoredResponses, open_response_store
from junction.server.asgi import Request, Response
from junction.stores.open import database_url
from junction.stores.urls import DEFAULT_DATABASE_URL
from junction.types import ChatRequest, ChatResponse, GatewayError, StreamEvent

MAX_TURNS = 1000
"""The longest chain of stored turns a ``previous_response_id`` may rebuild."""


async def open_stored(config: Config) -> StoredResponses | None:
    """The store of Responses when ``responses.store`` is on (None when off):
    the database of ``stores.database_url`` (else ``$JUNCTION_DATABASE_URL``,
    else ``sqlite:///junction.db``), expired records purged."""
    if not config.responses.store:
        return None
    url = database_url(config, os.environ) or DEFAULT_DATABASE_URL
    stored = StoredResponses(await open_response_store(url), config.responses.ttl_days * 86400)
    await stored.purge()
    return stored


class _Ask(msgspec.Struct):
    """What the store needs of a ``CreateResponse`` body (the codec reads the rest)."""

    previous_response_id: str | None = None
    store: bool | None = None
    input: msgspec.Raw = msgspec.Raw(b"[]")


_ASK = msgspec.json.Decoder(_Ask)


class _Output(msgspec.Struct):
    output: list[wire.Item] = msgspec.field(default_factory=list)


_ITEMS = msgspec.json.Decoder(list[wire.Item])
_OUTPUT = msgspec.json.Decoder(_Output)


def owner_of(principal: Principal | None) -> str | None:
    return principal.name if principal is not None else None


def readable(record: StoredResponse, principal: Principal | None) -> bool:
    if record.owner is None or principal is None or principal.admin:
        return True
    return record.owner == principal.name


class Turn:
    """One request through the Responses door with the store on: decodes with
    its history, encodes (and keeps) its answer."""

    def __init__(
        self,
        stored: StoredResponses,
        ask: _Ask,
        history: list[wire.Item],
        owner: str | None,
    ) -> None:
        self._stored = stored
        self._ask = ask
        self.history = history
        self.previous_id = ask.previous_response_id
        self.keep = ask.store is not False
        self._owner = owner

    def decode(self, body: bytes) -> ChatRequest:
        return openai_responses.decode_request(body, self.history)

    def encode_response(self, response: ChatResponse, request: ChatRequest) -> bytes:
        answer = response_struct(response, request, self.previous_id)
        body = encode_json(answer)
        self.save(answer.id, body)
        return body

    def stream_encoder(self, request: ChatRequest) -> KeepingEncoder:
        return KeepingEncoder(openai_responses.StreamEncoder(request, self.previous_id), self)

    def save(self, response_id: str, body: bytes) -> None:
        if not self.keep:
            return
        items = input_items(self._ask.input)
        self._stored.save(
            self._stored.record(response_id, self._owner, self.previous_id, body, items)
        )


class KeepingEncoder:
    """The Responses stream encoder; at the stream's end, its terminal
    Response is kept (a stream cut short by the client is not)."""

    __slots__ = ("_inner", "_turn")

    def __init__(self, inner: openai_responses.StreamEncoder, turn: Turn) -> None:
        self._inner = inner
        self._turn = turn

    def encode(self, event: StreamEvent) -> bytes:
        return self._inner.encode(event)

    def finish(self) -> bytes:
        return self._keep(self._inner.finish())

    def error(self, err: GatewayError) -> bytes:
        return self._keep(self._inner.error(err))

    def _keep(self, out: bytes) -> bytes:
        final = self._inner.final
        if final is not None and out:
            self._turn.save(final.id, encode_json(final))
        return out


async def begin(
    stored: StoredResponses | None, body: bytes, principal: Principal | None
) -> Turn | None:
    """The turn of a Responses request (None when the store is off: the door
    stays stateless and refuses ``previous_response_id``)."""
    if stored is None:
        return None
    try:
        ask = _ASK.decode(body)
    except (msgspec.DecodeError, msgspec.ValidationError):
        ask = _Ask()  # the codec's decode names what is wrong
    history: list[wire.Item] = []
    if ask.previous_response_id is not None:
        history = await conversation(stored, ask.previous_response_id, principal)
    return Turn(stored, ask, history, owner_of(principal))


async def conversation(
    stored: StoredResponses, previous_id: str, principal: Principal | None
) -> list[wire.Item]:
    """The items of the chain of turns ending at ``previous_id``, oldest first."""
    chain: list[StoredResponse] = []
    wanted: str | None = previous_id
    while wanted is not None:
        found = await stored.get(wanted)
        if found is None or not readable(found, principal):
            what = (
                f"{previous_id!r}" if wanted == previous_id else f"{wanted!r} (which it continues)"
            )
            raise GatewayError(
                "not_found",
                f"No stored response {what} here for this key: it was never stored (store: "
                "false), has expired or was deleted. Send the whole conversation in `input`.",
                param="previous_response_id",
            )
        chain.append(found)
        if len(chain) > MAX_TURNS:
            raise GatewayError(
                "invalid_request",
                f"The conversation behind previous_response_id is longer than {MAX_TURNS} "
                "turns; start a new one with the whole conversation in `input`.",
                param="previous_response_id",
            )
        wanted = found.previous_id
    items: list[wire.Item] = []
    for turn in reversed(chain):
        items += _ITEMS.decode(turn.input_items)
        items += _OUTPUT.decode(turn.response).output
    return items


_ID_PREFIX = {"message": "msg", "function_call": "fc", "function_call_output": "fco"}
_ID_PREFIX["reasoning"] = "rs"


def input_items(raw: msgspec.Raw) -> bytes:
    """This turn's ``input`` as the list ``input_items`` returns: every item
    typed and with an id, a string content as a list of parts."""
    value = msgspec.json.decode(raw)
    if isinstance(value, str):
        value = [{"type": "message", "role": "user", "content": value}]
    out: list[dict[str, Any]] = []
    for given in value if isinstance(value, list) else ():
        if not isinstance(given, dict):
            continue
        item = dict(given)
        kind = item.setdefault("type", "message")
        content = item.get("content")
        if kind == "message" and isinstance(content, str):
            part = "output_text" if item.get("role") == "assistant" else "input_text"
            item["content"] = [{"type": part, "text": content}]
        if not item.get("id"):
            item["id"] = item_id(_ID_PREFIX.get(str(kind), "item"))
        out.append(item)
    return msgspec.json.encode(out)


# --- the routes ---


def _off() -> GatewayError:
    return GatewayError(
        "not_found",
        "This gateway stores no responses (responses.store is off in its config), so there "
        "is none to fetch.",
        param="response_id",
    )


async def _find(stored: StoredResponses | None, request: Request) -> StoredResponse:
    if stored is None:
        raise _off()
    wanted = request.params.get("response_id", "")
    found = await stored.get(wanted) if wanted and "/" not in wanted else None
    if found is None or not readable(found, request.principal):
        raise GatewayError(
            "not_found",
            f"No stored response {wanted!r} here for this key (never stored, expired or deleted).",
            param="response_id",
        )
    return found


async def retrieve(stored: StoredResponses | None, request: Request) -> Response:
    """``GET /v1/responses/{id}``: the Response as the client got it."""
    return Response((await _find(stored, request)).response)


async def delete(stored: StoredResponses | None, request: Request) -> Response:
    """``DELETE /v1/responses/{id}``."""
    found = await _find(stored, request)
    assert stored is not None
    await stored.delete(found.id)
    return Response(msgspec.json.encode({"id": found.id, "object": "response", "deleted": True}))


class _Page(msgspec.Struct):
    limit: int = 20
    order: str = "desc"
    after: str | None = None


def _page(query: str) -> _Page:
    asked = {k: v[-1] for k, v in parse_qs(query).items()}
    page = _Page(order=asked.get("order", "desc"), after=asked.get("after") or None)
    if page.order not in ("asc", "desc"):
        raise GatewayError("invalid_request", "`order` must be 'asc' or 'desc'.", param="order")
    limit = asked.get("limit", "20")
    if not limit.isdigit() or not 1 <= int(limit) <= 100:
        raise GatewayError(
            "invalid_request", "`limit` must be a whole number from 1 to 100.", param="limit"
        )
    page.limit = int(limit)
    return page


async def list_input_items(stored: StoredResponses | None, request: Request) -> Response:
    """``GET /v1/responses/{id}/input_items``: OpenAI's list (``data``,
    ``first_id``, ``last_id``, ``has_more``; ``limit``, ``order``, ``after``)."""
    page = _page(request.query)
    found = await _find(stored, request)
    items: list[dict[str, Any]] = msgspec.json.decode(found.input_items)
    if page.order == "desc":
        items.reverse()
    if page.after is not None:
        ids = [i.get("id") for i in items]
        if page.after not in ids:
            raise GatewayError(
                "invalid_request",
                f"`after` {page.after!r} is not an input item of this response.",
                param="after",
            )
        items = items[ids.index(page.after) + 1 :]
    data = items[: page.limit]
    body = {
        "object": "list",
        "data": data,
        "first_id": data[0]["id"] if data else None,
        "last_id": data[-1]["id"] if data else None,
        "has_more": len(items) > page.limit,
    }
    return Response(msgspec.json.encode(body))
