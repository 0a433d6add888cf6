"""``POST /v1/feedback {id, score}``: quality feedback on one logged request.

``id`` is the response id the gateway returned (``gen-...``; the Responses door's
``resp_gen-...`` form too) and ``score`` a quality in [0, 1]. A key may rate only its own
requests: another key's request, like one that does not exist, is a 404. The master key,
and every caller when no keys are configured, may rate any. The latest score a request got
is kept (requestlog/feedback.py) for ``junction router train --from-logs`` and ``junction
router report``. Errors come in the calling door's shape: OpenAI's on ``/v1/feedback``,
OpenRouter's on ``/api/v1/feedback``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

import msgspec

from junction.gateway import Gateway
from junction.requestlog import RequestLog
from junction.requestlog.rows import COLUMNS, principal_id
from junction.server.asgi import Request, Response
from junction.server.doors import OPENAI_CHAT, Door
from junction.server.openrouter_door import OPENROUTER_CHAT
from junction.types import GatewayError

PATHS = ("/v1/feedback", "/feedback")
OPENROUTER_PATHS = ("/api/v1/feedback",)
MAX_BODY = 4096
_KEY_ID = COLUMNS.index("key_id")


class HasLog(Protocol):
    gateway: Gateway
    request_log: RequestLog | None


Handler = Callable[[HasLog, Request], Awaitable[Response]]
AddRoute = Callable[[str, tuple[str, ...], Handler, Door], None]


def add_routes(add: AddRoute) -> None:
    """Register the feedback route with the app's ``add`` (server/app.py)."""
    add("POST", PATHS, feedback, OPENAI_CHAT)
    add("POST", OPENROUTER_PATHS, feedback, OPENROUTER_CHAT)


async def feedback(st: HasLog, request: Request) -> Response:
    body = await request.body(MAX_BODY)
    wanted, score = _parse(body)
    log = st.request_log
    if log is None or log.feedback is None:
        raise GatewayError(
            "not_found",
            "Feedback needs the request log: configure stores.database_url (docs/operations.md).",
        )
    own_id = wanted[5:] if wanted.startswith("resp_gen-") else wanted
    principal = request.principal
    if not await _owned(st, log, own_id, principal):
        raise GatewayError(
            "not_found", f"No request {wanted!r} here for this key.", param="id", status=404
        )
    await log.feedback.put(own_id, principal_id(principal), score, time.time())
    return Response(msgspec.json.encode({"object": "feedback", "id": wanted, "score": score}))


def _parse(body: bytes) -> tuple[str, float]:
    if not body:
        raise GatewayError("invalid_request", 'Send a JSON object: {"id": ..., "score": 0.8}.')
    try:
        doc: Any = msgspec.json.decode(body)
    except msgspec.DecodeError:
        raise GatewayError("invalid_request", "The body is not valid JSON.") from None
    if not isinstance(doc, dict):
        raise GatewayError("invalid_request", 'Send a JSON object: {"id": ..., "score": 0.8}.')
    for key in doc:
        if key not in ("id", "score"):
            raise _bad(key, "is not a feedback field (give id and score)")
    wanted = doc.get("id")
    if not isinstance(wanted, str) or not wanted:
        raise _bad("id", "must be the response id the gateway returned (a string)")
    score = doc.get("score")
    if isinstance(score, bool) or not isinstance(score, int | float):
        raise _bad("score", "must be a number between 0 and 1")
    if not math.isfinite(score) or not 0 <= score <= 1:
        raise _bad("score", f"must be between 0 and 1 (got {score})")
    return wanted, float(score)


async def _owned(st: HasLog, log: RequestLog, own_id: str, principal: Any) -> bool:
    """The request exists and the caller may rate it (the generation still in memory, or
    the logged row: the log writes in batches, so a fresh request may be only in memory)."""
    live = st.gateway.generations.get(own_id)
    if live is not None:
        return live.readable_by(principal)
    found = await log.store.get(own_id)
    if found is None:
        return False
    if principal is None or getattr(principal, "admin", False):
        return True
    return bool(found[_KEY_ID] == principal_id(principal))


def _bad(param: str, what: str) -> GatewayError:
    return GatewayError("invalid_request", f"`{param}` {what}.", param=param)
