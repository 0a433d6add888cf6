"""``GET /admin/logs`` and ``GET /admin/spend``: the request log, for the master key."""

from __future__ import annotations

from typing import Any, Protocol
from urllib.parse import parse_qs

import msgspec

from junction.requestlog import LogQuery, RequestLog, SpendQuery
from junction.requestlog.queries import Cursor, to_csv
from junction.requestlog.rows import generation_from_row, principal_id, row_dict
from junction.server.asgi import Request, Response
from junction.types import GatewayError


class HasLog(Protocol):
    request_log: RequestLog | None


def _admin_log(st: HasLog, request: Request) -> tuple[RequestLog, dict[str, list[str]]]:
    principal = request.principal
    if principal is None or not getattr(principal, "admin", False):
        raise GatewayError(
            "permission_denied",
            "The admin routes need the master key (server.master_key, with keys configured).",
        )
    if st.request_log is None:
        raise GatewayError(
            "not_found",
            "The request log is off: configure stores.database_url (see docs/operations.md).",
        )
    return st.request_log, parse_qs(request.query, keep_blank_values=True)


def _wants_csv(query: dict[str, list[str]]) -> bool:
    fmt = query.get("format", ["json"])[-1]
    if fmt not in ("json", "csv"):
        raise GatewayError("invalid_request", "Bad 'format': give json or csv.", param="format")
    return fmt == "csv"


_CSV = "text/csv; charset=utf-8"


async def logs(st: HasLog, request: Request) -> Response:
    rl, query = _admin_log(st, request)
    csv = _wants_csv(query)
    q = LogQuery.parse(query)
    found = await rl.store.logs(q)
    page = found[: q.limit]
    rows = [row_dict(r) for r in page]
    more = len(found) > q.limit
    last = page[-1] if page else None
    next_cursor = Cursor(float(last[1]), str(last[0])).encode() if more and last else None
    if csv:
        headers = [("x-next-cursor", next_cursor)] if next_cursor else []
        return Response(to_csv(rows).encode(), headers=headers, media_type=_CSV)
    return Response(msgspec.json.encode({"data": rows, "next_cursor": next_cursor}))


async def spend(st: HasLog, request: Request) -> Response:
    rl, query = _admin_log(st, request)
    csv = _wants_csv(query)
    q = SpendQuery.parse(query)
    rows = q.view(await rl.store.spend(q))
    if csv:
        return Response(to_csv(rows).encode(), media_type=_CSV)
    return Response(msgspec.json.encode({"group_by": q.group_by, "by": q.by, "data": rows}))


async def logged_generation(rl: RequestLog | None, own_id: str, principal: Any) -> Any:
    """A generation from the log (another process's, or before a restart), as
    ``GET /generation`` shows it; None when absent or not the caller's."""
    if rl is None:
        return None
    found = await rl.store.get(own_id)
    if found is None:
        return None
    row = row_dict(found)
    admin = principal is None or getattr(principal, "admin", False)
    if not admin and row["key_id"] != principal_id(principal):
        return None
    return generation_from_row(row)
