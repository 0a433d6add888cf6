"""The front door: uvicorn's httptools protocol with limits and deadlines.

uvicorn reads headers without bound and without time limits, and accepts
any number of connections. :class:`LimitedHttpProtocol` adds what a server
facing the network needs before a request reaches the app: caps on the
request target, the header block and the header count, one ``Host`` on
HTTP/1.1, deadlines for the headers, the body, a silent new connection and
a client that stops reading, and caps on connections and on requests in
flight. Each limit is a ``server:`` key (docs/security.md says what each
defends). Refusals are built once per server, in the OpenAI error shape
the 404 already uses. On the hot path a request that arrives in one read
costs one pass over its header list and no timer.
"""

from __future__ import annotations

import asyncio
import http
from asyncio import TimerHandle
from collections.abc import Callable
from typing import Any

import httptools
from uvicorn.config import Config as UvicornConfig
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol, RequestResponseCycle
from uvicorn.server import ServerState

from junction.codecs import openai_chat
from junction.config import Server
from junction.server.asgi import DISCONNECT_EXTENSION
from junction.types import ErrorKind, GatewayError

LINGER_SECONDS = 0.5
LINGER_BYTES = 256 * 1024
"""After a refusal the connection is half-closed and what the client still
sends is read and dropped, up to these, so the answer reaches a client
that is still writing (closing with unread input would reset it first)."""


_IDLE, _HEADERS, _BODY = 0, 1, 2
"""Where a connection is in reading its current request."""


class Refusal:
    """A canned answer: raw bytes for the protocol to write and close, and
    an ASGI app for when the request is otherwise well-formed."""

    __slots__ = ("body", "headers", "raw", "status")

    def __init__(
        self,
        status: int,
        kind: ErrorKind,
        message: str,
        *,
        retry_after: int | None = None,
        close: bool = True,
    ) -> None:
        self.status = status
        self.body = openai_chat.encode_error(GatewayError(kind, message, status=status))
        self.headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(self.body)).encode()),
        ]
        if retry_after is not None:
            self.headers.append((b"retry-after", str(retry_after).encode()))
        if close:
            self.headers.append((b"connection", b"close"))
        phrase = http.HTTPStatus(status).phrase
        lines = [f"HTTP/1.1 {status} {phrase}".encode()]
        lines += [name + b": " + value for name, value in self.headers]
        if not close:
            lines.append(b"connection: close")  # raw answers always close
        self.raw = b"\r\n".join([*lines, b"", self.body])

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": self.status, "headers": self.headers})
        await send({"type": "http.response.body", "body": self.body})


class FrontDoor:
    """What the connections of one server share: the limits, the refusals
    built from them, and whether the server is draining for shutdown."""

    def __init__(self, limits: Server) -> None:
        self.limits = limits
        self.draining = False
        self.raw_header_limit = limits.max_url_bytes + limits.max_header_bytes
        """Bytes a request may send before its headers end."""
        self.unfinished_limit = min(limits.max_url_bytes, limits.max_header_bytes)
        """Unfinished headers below this many bytes cannot be over any limit."""
        n = limits
        self.url_too_long = Refusal(
            414,
            "invalid_request",
            f"The request target (path and query) is longer than this gateway's limit "
            f"of {n.max_url_bytes} bytes (server.max_url_bytes).",
        )
        self.headers_too_large = Refusal(
            431,
            "invalid_request",
            f"The request headers are larger than this gateway's limit of "
            f"{n.max_header_bytes} bytes (server.max_header_bytes).",
        )
        self.too_many_headers = Refusal(
            431,
            "invalid_request",
            f"The request has more than {n.max_headers} header lines (server.max_headers).",
        )
        self.no_host = Refusal(
            400, "invalid_request", "An HTTP/1.1 request needs exactly one Host header."
        )
        self.malformed = Refusal(
            400, "invalid_request", "The request is not valid HTTP/1.1; check how it is framed."
        )
        self.header_timeout = Refusal(
            408,
            "invalid_request",
            f"The request headers did not arrive within {n.header_timeout:g} s "
            "(server.header_timeout).",
        )
        self.body_timeout = Refusal(
            408,
            "invalid_request",
            f"The request body did not arrive within {n.body_timeout:g} s (server.body_timeout).",
        )
        self.too_many_connections = Refusal(
            503,
            "overloaded",
            f"junction has {n.max_connections} connections open, its limit "
            "(server.max_connections); retry shortly.",
            retry_after=1,
        )
        self.too_many_requests = Refusal(
            503,
            "overloaded",
            f"junction is handling {n.max_concurrent_requests} requests, its limit "
            "(server.max_concurrent_requests); retry shortly.",
            retry_after=1,
            close=False,
        )
        self.shutting_down = Refusal(
            503,
            "overloaded",
            "junction is shutting down; retry on another instance.",
            retry_after=1,
        )


class FrontDoorConfig(UvicornConfig):
    """uvicorn's config, carrying the front door to every connection."""

    def __init__(self, app: Any, front_door: FrontDoor, **kwargs: Any) -> None:
        super().__init__(app, http=LimitedHttpProtocol, ws="none", **kwargs)
        self.front_door = front_door


class _Refused(Exception):
    """Raised from a parser callback to stop parsing; the refusal is kept
    on the protocol."""


class LimitedHttpProtocol(HttpToolsProtocol):
    """One client connection, held to the front door's limits."""

    def __init__(
        self,
        config: UvicornConfig,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        if not isinstance(config, FrontDoorConfig):
            raise TypeError("LimitedHttpProtocol needs a FrontDoorConfig")
        self.door = config.front_door
        self.limits = config.front_door.limits
        self.timeout_keep_alive = self.limits.keep_alive_timeout  # type: ignore[assignment]
        self._in_headers = True
        self._phase = _IDLE
        self._timed = _IDLE
        """The phase the deadline timer was set for."""
        self._raw_header_bytes = 0
        self._refusal: Refusal | None = None
        self._deadline: TimerHandle | None = None
        self._write_stall: TimerHandle | None = None
        self._unwritten = 0
        self._linger_left: int | None = None
        # The app's disconnect signal (asgi.DisconnectSignal) is this
        # protocol: no object per request.
        self._extensions = {DISCONNECT_EXTENSION: self}
        self._handler: asyncio.Task[Any] | None = None
        self.fired = False

    # --- connection -------------------------------------------------------

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if len(self.connections) > self.limits.max_connections:
            self._refuse(self.door.too_many_connections)
            return
        self.timeout_keep_alive_task = self.loop.call_later(
            self.limits.idle_timeout, self.timeout_keep_alive_handler
        )

    def connection_lost(self, exc: Exception | None) -> None:
        if self.cycle is not None and not self.cycle.response_complete:
            self._client_gone()
        self._disarm()
        if self._write_stall is not None:
            self._write_stall.cancel()
            self._write_stall = None
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._linger_left is not None:  # refused: drop what still comes
            self._linger_left -= len(data)
            if self._linger_left < 0:
                self.transport.close()
            return
        self._unset_keepalive_if_required()
        if self._in_headers:
            self._raw_header_bytes += len(data)
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            pass  # no upgrades here: the request is served as plain HTTP
        except httptools.HttpParserError:
            # Callback errors included: a limit's refusal, else the request
            # could not be parsed (a non-ASCII path, say).
            self._refuse(self._refusal or self.door.malformed)
            return
        if self._in_headers and self._raw_header_bytes > self.door.unfinished_limit:
            # Unfinished headers past a limit: what the parser holds is cut here.
            if len(self.url) > self.limits.max_url_bytes:
                self._refuse(self.door.url_too_long)
                return
            if self._raw_header_bytes > self.door.raw_header_limit:
                self._refuse(self.door.headers_too_large)
                return
        if self._phase != self._timed:
            # A deadline only for a request left unfinished by this read: a
            # request that arrives whole sets no timer.
            self._time_phase()

    def abandon(self) -> None:
        """Shutdown's last word: answer a request not yet answered with 503
        (cut a started answer short), and cancel its handler as if the
        client had gone."""
        cycle = self.cycle
        if cycle is not None and not cycle.response_complete:
            if not cycle.response_started:
                self.transport.write(self.door.shutting_down.raw)
            cycle.disconnected = True
            self._client_gone()
        self.transport.close()

    # --- the app's disconnect signal --------------------------------------

    def arm(self, task: asyncio.Task[Any]) -> None:
        self._handler = task
        self.fired = False
        self.flow.resume_reading()  # to see the client's end of the socket

    def stop(self) -> None:
        self._handler = None

    def _client_gone(self) -> None:
        self.fired = True
        task, self._handler = self._handler, None
        if task is not None:
            task.cancel()

    # --- parser callbacks -------------------------------------------------

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._phase = _HEADERS

    # Headers are checked once they are complete (what they hold while
    # unfinished is bounded by data_received's byte count): one pass per
    # request instead of a Python call per header line.
    def on_headers_complete(self) -> None:
        self._in_headers = False
        self._phase = _BODY
        self._check_headers()
        self.scope["extensions"] = self._extensions  # type: ignore[typeddict-item]
        door = self.door
        if door.draining or len(self.tasks) >= self.limits.max_concurrent_requests:
            refusal = door.shutting_down if door.draining else door.too_many_requests
            app, self.app = self.app, refusal
            try:
                super().on_headers_complete()
            finally:
                self.app = app
        else:
            super().on_headers_complete()
        cycle = self.cycle
        if cycle is not None and not cycle.response_started:
            cycle.send = OneWrite(cycle)  # type: ignore[method-assign]

    def _check_headers(self) -> None:
        limits, headers = self.limits, self.headers
        if len(self.url) > limits.max_url_bytes:
            self._stop(self.door.url_too_long)
        if len(headers) > limits.max_headers:
            self._stop(self.door.too_many_headers)
        # Fewer bytes arrived than the limit: the headers cannot exceed it.
        if self._raw_header_bytes > limits.max_header_bytes:
            size = sum(len(name) + len(value) for name, value in headers)
            if size > limits.max_header_bytes:
                self._stop(self.door.headers_too_large)
        hosts = [name for name, _ in headers if name == b"host"]
        if len(hosts) != 1 and (hosts or self.parser.get_http_version() == "1.1"):
            self._stop(self.door.no_host)

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._disarm()
        self._in_headers = True
        self._phase = self._timed = _IDLE
        self._raw_header_bytes = 0

    # --- a client that stops reading ----------------------------------------

    def pause_writing(self) -> None:
        super().pause_writing()
        if self._write_stall is None:
            self._watch_writes()

    def _watch_writes(self) -> None:
        self._unwritten = self.transport.get_write_buffer_size()
        self._write_stall = self.loop.call_later(self.limits.write_timeout, self._stalled)

    def resume_writing(self) -> None:
        super().resume_writing()
        if self._write_stall is not None:
            self._write_stall.cancel()
            self._write_stall = None

    def _stalled(self) -> None:
        self._write_stall = None
        if self.transport.get_write_buffer_size() < self._unwritten:
            self._watch_writes()  # slow, but reading: look again later
            return
        self.transport.abort()  # close() would wait for the client to read

    # --- deadlines and refusals -------------------------------------------

    def _time_phase(self) -> None:
        self._timed = phase = self._phase
        if phase == _HEADERS:
            self._arm(self.limits.header_timeout, self._headers_late)
        elif phase == _BODY:
            self._arm(self.limits.body_timeout, self._body_late)
        else:
            self._disarm()

    def _arm(self, delay: float, callback: Callable[[], None]) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
        self._deadline = self.loop.call_later(delay, callback)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _answering(self) -> bool:
        """Whether an earlier request on this connection is still being answered."""
        return self.cycle is not None and not self.cycle.response_complete

    def _headers_late(self) -> None:
        self._deadline = None
        if self._answering():  # pipelined behind a response still going
            self._arm(self.limits.header_timeout, self._headers_late)
            return
        self._refuse(self.door.header_timeout)

    def _body_late(self) -> None:
        self._deadline = None
        if self.pipeline:  # queued behind a response: its body is not being read yet
            self._arm(self.limits.body_timeout, self._body_late)
            return
        cycle = self.cycle
        if cycle.response_started:
            self.transport.close()
            return
        cycle.disconnected = True  # the handler's receive() now reports a disconnect
        cycle.message_event.set()
        self._write_and_close(self.door.body_timeout)

    def _stop(self, refusal: Refusal) -> None:
        self._refusal = refusal
        raise _Refused

    def _refuse(self, refusal: Refusal) -> None:
        self._disarm()
        if self._answering():
            self.transport.close()  # no second answer in the middle of one
            return
        self._write_and_close(refusal)

    def _write_and_close(self, refusal: Refusal) -> None:
        transport = self.transport
        if transport.is_closing() or self._linger_left is not None:
            return
        transport.write(refusal.raw)
        if not transport.can_write_eof():
            transport.close()
            return
        transport.write_eof()
        self._linger_left = LINGER_BYTES
        self.flow.resume_reading()
        self._arm(LINGER_SECONDS, transport.close)


class OneWrite:
    """A request's ASGI ``send`` that puts the response head and the first
    body message in one socket write.

    uvicorn writes the status line and headers as soon as
    ``http.response.start`` arrives, then each body message: two writes,
    two system calls and two TCP segments for every plain answer (and for
    a stream's first event). This holds the start message until the first
    body message and lets uvicorn write both into a collector, then writes
    what it collected at once; everything after goes straight through.
    """

    __slots__ = ("_cycle", "_held", "_send")

    def __init__(self, cycle: RequestResponseCycle) -> None:
        self._cycle = cycle
        self._send = cycle.send
        self._held: Any = None

    async def __call__(self, message: Any) -> None:
        held = self._held
        if held is None:
            if message["type"] == "http.response.start" and not self._cycle.response_started:
                self._held = message
                return
            await self._send(message)
            return
        if message["type"] == "http.response.start":
            # A second start (uvicorn's 500 after the app failed before its
            # body): the held head never left, this one replaces it.
            self._held = message
            return
        self._held = None
        cycle = self._cycle
        transport = cycle.transport
        collected = _Collected()
        cycle.transport = collected  # type: ignore[assignment]
        try:
            await self._send(held)
            await self._send(message)
        finally:
            cycle.transport = transport
        if collected.parts:
            transport.write(b"".join(collected.parts))
        if collected.closing:
            transport.close()


class _Collected:
    """Stands in for the transport while uvicorn writes a head and a body."""

    __slots__ = ("closing", "parts")

    def __init__(self) -> None:
        self.parts: list[bytes] = []
        self.closing = False

    def write(self, data: bytes) -> None:
        self.parts.append(data)

    def close(self) -> None:
        self.closing = True

    def is_closing(self) -> bool:
        return self.closing
