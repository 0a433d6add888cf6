"""One request and its answer on a front-door connection: the ASGI
``receive`` and ``send`` the app is called with.

An exchange is made when a request's headers are in and lives until its
answer is written; the connection (server/protocol.py) feeds it the body
and runs the app for it in the connection's one worker task. Nothing here
makes an event or a timer: a ``receive`` that has to wait makes one future,
and most requests arrive whole, so it never waits.
"""

from __future__ import annotations

import asyncio
import http
import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from junction.server.protocol import LimitedHttpProtocol

HIGH_WATER = 64 * 1024
"""Unread body bytes past which the connection stops reading the socket,
until the app asks for more."""

CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"

_BAD_NAME = re.compile(rb"[^!#$%&'*+\-.^_`|~0-9A-Za-z]").search
"""A header name is a token (RFC 9110 §5.6.2): anything else is refused."""
_BAD_VALUE = re.compile(rb"[\x00-\x08\x0a-\x1f\x7f]").search
"""Control characters other than tab (CR, LF and NUL among them) would let
a header value end the line or the head: refused."""

_FRAMING = frozenset((b"content-length", b"transfer-encoding", b"connection"))
"""The answer's headers that decide how its body is framed and whether
the connection stays open."""

_STATUS_LINES: dict[int, bytes] = {}


def status_line(status: int) -> bytes:
    """``HTTP/1.1 200 OK\\r\\n``, made once per status."""
    line = _STATUS_LINES.get(status)
    if line is None:
        try:
            phrase = http.HTTPStatus(status).phrase
        except ValueError:
            phrase = ""
        line = _STATUS_LINES[status] = f"HTTP/1.1 {status} {phrase}\r\n".encode()
    return line


def header_lines(headers: Any) -> bytes:
    """``name: value\\r\\n`` for each of ``headers``, checked as the app's are."""
    lines = []
    for name, value in headers:
        if _BAD_NAME(name):
            raise RuntimeError("Invalid HTTP header name.")
        if _BAD_VALUE(value):
            raise RuntimeError("Invalid HTTP header value.")
        lines.append(name.lower() + b": " + value + b"\r\n")
    return b"".join(lines)


class DefaultHead:
    """The server's own headers (``date``, ``server``) as the bytes that
    start every answer's header block.

    uvicorn's server loop puts a new list in ``server_state.default_headers``
    each second (the date changes): the bytes are made again only when the
    list is another one, not for every answer."""

    __slots__ = ("_block", "_made_from")

    def __init__(self) -> None:
        self._made_from: object = None
        self._block = b""

    def of(self, headers: list[tuple[bytes, bytes]]) -> bytes:
        if headers is not self._made_from:
            self._block = header_lines(headers)
            self._made_from = headers
        return self._block


class Exchange:
    """A request's ASGI ``receive`` and ``send``.

    ``send`` holds the response head until the first body message and
    writes both in one socket write (two writes would be two system calls
    and two TCP segments for every plain answer and for a stream's first
    event); a second ``http.response.start`` before any body replaces the
    held head (the 500 the connection sends for an app that failed after
    starting but before its body)."""

    __slots__ = (
        "app",
        "body",
        "body_size",
        "chunked",
        "complete",
        "conn",
        "disconnected",
        "expect_continue",
        "head",
        "head_only",
        "head_written",
        "http10",
        "keep_alive",
        "last_body_given",
        "left",
        "more_body",
        "scope",
        "until_close",
        "waiter",
    )

    def __init__(
        self,
        conn: LimitedHttpProtocol,
        scope: dict[str, Any],
        app: Any,
        keep_alive: bool,
        expect_continue: bool,
    ) -> None:
        self.conn = conn
        self.scope = scope
        self.app = app
        self.keep_alive = keep_alive
        """Whether the connection stays open after this answer (the
        request's wish; the app's ``connection: close`` or a shutdown
        turns it off)."""
        self.http10 = scope["http_version"] == "1.0"
        self.head_only = scope["method"] == "HEAD"
        self.expect_continue = expect_continue
        """Whether the client waits for ``100 Continue`` before its body:
        sent when the app first asks for the body."""
        # The request body, as the parser hands it over.
        self.body: list[bytes] = []
        self.body_size = 0
        self.more_body = True
        self.last_body_given = False
        self.waiter: asyncio.Future[None] | None = None
        """The future a waiting ``receive`` sleeps on, if one waits."""
        self.disconnected = False
        """The client went away (or its body was too late): ``receive``
        says ``http.disconnect`` and ``send`` writes nothing."""
        # The answer.
        self.head: bytes | None = None
        self.head_written = False
        self.complete = False
        self.chunked = False
        self.until_close = False
        """The body ends with the connection (an HTTP/1.0 client, no length)."""
        self.left = 0
        """Body bytes the answer's ``content-length`` still owes."""

    def wake(self) -> None:
        """Let a waiting ``receive`` look again (body came, the request
        ended, the client went, the answer is complete)."""
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def add_body(self, chunk: bytes) -> None:
        if self.complete:
            return  # answered without reading it: dropped
        self.body.append(chunk)
        self.body_size += len(chunk)
        if self.body_size > HIGH_WATER:
            self.conn.pause_reading()
        self.wake()

    def end_body(self) -> None:
        self.more_body = False
        self.wake()

    async def receive(self) -> dict[str, Any]:
        if self.expect_continue:
            self.expect_continue = False
            transport = self.conn.transport
            if not transport.is_closing():
                transport.write(CONTINUE)
        while True:
            if self.disconnected or self.complete:
                return {"type": "http.disconnect"}
            chunks = self.body
            if chunks or not (self.more_body or self.last_body_given):
                body = chunks[0] if len(chunks) == 1 else b"".join(chunks)
                self.body = []
                self.body_size = 0
                more = self.more_body
                if not more:
                    self.last_body_given = True
                return {"type": "http.request", "body": body, "more_body": more}
            # Nothing to give yet: read the socket again and wait for it.
            self.conn.resume_reading()
            waiter = self.waiter = self.conn.loop.create_future()
            try:
                await waiter
            finally:
                self.waiter = None

    async def send(self, message: dict[str, Any]) -> None:
        conn = self.conn
        if conn.write_paused and not self.disconnected:
            await conn.drain()
        if self.disconnected:
            return
        kind = message["type"]
        if self.complete:
            raise RuntimeError(
                f"Unexpected ASGI message '{kind}' sent, after response already completed."
            )
        if not self.head_written:
            if kind == "http.response.start":
                self.head = self._head(message)  # held until the first body message
                self.expect_continue = False
                return
            if self.head is None:
                raise RuntimeError(
                    f"Expected ASGI message 'http.response.start', but got '{kind}'."
                )
        if kind != "http.response.body":
            raise RuntimeError(f"Expected ASGI message 'http.response.body', but got '{kind}'.")
        more: bool = message.get("more_body", False)
        data = self._frame(message.get("body", b""), more)
        transport = conn.transport
        head = self.head
        if head is not None:
            self.head = None
            self.head_written = True
            transport.write(head + data)
        elif data:
            transport.write(data)
        if not more:
            self.complete = True
            conn.server_state.total_requests += 1
            if not self.keep_alive:
                transport.close()
            self.wake()

    def _frame(self, body: bytes, more: bool) -> bytes:
        """``body`` as it goes on the wire: chunked, or counted against the
        ``content-length`` (nothing for a HEAD request)."""
        if self.head_only:
            return b""
        if self.chunked:
            data = b"%x\r\n%b\r\n" % (len(body), body) if body else b""
            return data if more else data + b"0\r\n\r\n"
        if self.until_close:
            return body
        left = self.left - len(body)
        if left < 0:
            raise RuntimeError("Response content longer than Content-Length")
        if left and not more:
            raise RuntimeError("Response content shorter than Content-Length")
        self.left = left
        return body

    def _head(self, message: dict[str, Any]) -> bytes:
        """The status line and headers for ``message``; notes the framing
        the body will need."""
        status: int = message["status"]
        conn = self.conn
        parts = [status_line(status), conn.door.default_head.of(conn.server_state.default_headers)]
        length: int | None = None
        chunked = False
        close_said = False
        bad_name, bad_value = _BAD_NAME, _BAD_VALUE
        for name, value in message.get("headers", ()):
            if bad_name(name):
                raise RuntimeError("Invalid HTTP header name.")
            if bad_value(value):
                raise RuntimeError("Invalid HTTP header value.")
            name = name.lower()
            parts.append(name + b": " + value + b"\r\n")
            if name not in _FRAMING:
                continue
            if name == b"content-length":
                if length is None and not chunked:
                    length = int(value)
            elif name == b"transfer-encoding":
                if value.lower() == b"chunked":
                    chunked = True
                    length = None
            elif b"close" in [token.strip() for token in value.lower().split(b",")]:
                self.keep_alive = False
                close_said = True
        until_close = False
        if length is None and not chunked and not self.head_only and status not in (204, 304):
            if self.http10:
                # No chunked framing for an HTTP/1.0 client (RFC 9112 §6.1):
                # the end of the connection ends the body.
                until_close = True
                self.keep_alive = False
            else:
                chunked = True
                parts.append(b"transfer-encoding: chunked\r\n")
        if not self.keep_alive:
            if not close_said:
                parts.append(b"connection: close\r\n")
        elif self.http10:
            parts.append(b"connection: keep-alive\r\n")  # 1.0 closes unless told
        parts.append(b"\r\n")
        self.chunked = chunked
        self.until_close = until_close
        self.left = 0 if (chunked or self.head_only or length is None) else length
        return b"".join(parts)
