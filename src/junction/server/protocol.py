"""The front door: junction's HTTP/1.1 connection, on httptools, with
limits and deadlines.

uvicorn runs the process (listening sockets, signals, lifespan, the date
header); each connection is a :class:`LimitedHttpProtocol`. It parses with
httptools and runs the app for each request in turn in one worker task per
connection (requests on an HTTP/1.1 connection are sequential; pipelined
ones queue): no task, event or timer per request, which is most of what
uvicorn's own protocol costs per request (docs/decisions.md §2).

It holds requests to what a server facing the network needs before they
reach the app: caps on the request target, the header block and the
header count, one ``Host`` on HTTP/1.1, deadlines for the headers, the
body, a silent new connection and a client that stops reading, and caps on
connections and on requests in flight. Each limit is a ``server:`` key
(docs/security.md says what each defends). Refusals are built once per
server, in the OpenAI error shape the 404 already uses. On the hot path a
request that arrives in one read costs one pass over its header list and
no timer.
"""

from __future__ import annotations

import asyncio
import contextvars
import http
import logging
import urllib.parse
from asyncio import TimerHandle
from collections import deque
from typing import TYPE_CHECKING, Any

import httptools
from uvicorn.config import Config as UvicornConfig

from junction.server.exchange import DefaultHead, Exchange

if TYPE_CHECKING:
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

_NOTHING, _QUIET, _HEADERS_DUE, _BODY_DUE, _LINGER = 0, 1, 2, 3, 4
"""What the connection's one timer watches for: nothing; a connection
without a request (new, or kept alive after an answer) that stays silent;
unfinished headers; an unfinished body; the end of a refusal's linger."""

log = logging.getLogger("uvicorn.error")
"""Where an app's failure is logged (the name uvicorn logs under, which
the redaction filter in junction/redact.py covers)."""


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
        self.default_head = DefaultHead()


class FrontDoorConfig(UvicornConfig):
    """uvicorn's config, carrying the front door to every connection."""

    def __init__(self, app: Any, front_door: FrontDoor, **kwargs: Any) -> None:
        super().__init__(app, http=LimitedHttpProtocol, ws="none", **kwargs)
        self.front_door = front_door


class _Refused(Exception):
    """Raised from a parser callback to stop parsing; the refusal is kept
    on the protocol."""


_FAILED_HEAD = {
    "type": "http.response.start",
    "status": 500,
    "headers": [
        (b"content-type", b"text/plain; charset=utf-8"),
        (b"content-length", b"21"),
        (b"connection", b"close"),
    ],
}
_FAILED_BODY = {"type": "http.response.body", "body": b"Internal Server Error"}


def _address(transport: asyncio.Transport, key: str) -> tuple[str, int] | None:
    """A socket's (host, port) from the transport, or None (a Unix socket)."""
    info = transport.get_extra_info(key)
    if isinstance(info, (tuple, list)) and len(info) >= 2:
        return str(info[0]), int(info[1])
    return None


class LimitedHttpProtocol(asyncio.Protocol):
    """One client connection, held to the front door's limits.

    uvicorn's server makes one per accepted socket as
    ``config.http_protocol_class(config=..., server_state=..., app_state=...)``;
    the connection puts itself in ``server_state.connections`` while open.
    ``server_state.tasks`` holds the connection's worker while it is
    running a request (so its size is the requests in flight, what
    ``max_concurrent_requests`` counts and a shutdown waits for)."""

    def __init__(
        self,
        config: UvicornConfig,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        if not isinstance(config, FrontDoorConfig):
            raise TypeError("LimitedHttpProtocol needs a FrontDoorConfig")
        if not config.loaded:
            config.load()
        self.app: Any = config.loaded_app
        self.loop = _loop or asyncio.get_event_loop()
        self.door = config.front_door
        self.limits = config.front_door.limits
        self.server_state = server_state
        self.connections: set[Any] = server_state.connections
        self.in_flight = server_state.tasks
        self.app_state = app_state
        self.root_path: str = config.root_path
        self._asgi = {"version": config.asgi_version, "spec_version": "2.3"}
        self._fresh_context = bool(config.reset_contextvars)
        """Each worker in an empty context (uvicorn's opt-in workaround for
        context variables leaking between tasks)."""
        self.parser = httptools.HttpRequestParser(self)
        # Answer the first of pipelined requests even when it says close
        # and more follows it.
        self.parser.set_dangerous_leniencies(lenient_data_after_close=True)

        self.transport: asyncio.Transport = None  # type: ignore[assignment]
        self.server: tuple[str, int] | None = None
        self.client: tuple[str, int] | None = None
        self.scheme = "http"
        self._gone = False
        """The connection is closed (``connection_lost``)."""

        # The request being parsed.
        self._url = b""
        self._headers: list[tuple[bytes, bytes]] = []
        self._expect_continue = False
        self._hosts = 0
        self._in_headers = True
        self._phase = _IDLE
        self._timed = _IDLE
        """The phase the deadline was set for."""
        self._raw_header_bytes = 0
        self._refusal: Refusal | None = None
        self._parsing: Exchange | None = None
        """The exchange whose body the parser is reading."""

        # The requests being answered: one at a time, by one worker.
        self._current: Exchange | None = None
        self._queue: deque[Exchange] = deque()
        """Pipelined requests behind the current one."""
        self._worker: asyncio.Task[None] | None = None
        self._idle: asyncio.Future[None] | None = None
        """What the worker sleeps on between requests."""

        # The one timer: it fires at or before ``_due`` and does what
        # ``_watch`` says, or sets itself again for ``_due`` if that moved
        # later (an answer each second on a kept-alive connection moves
        # the idle deadline without a timer each).
        self._timer: TimerHandle | None = None
        self._watch = _NOTHING
        self._due = 0.0
        self._linger_left: int | None = None

        # Flow control.
        self._read_paused = False
        self.write_paused = False
        self._writable: asyncio.Future[None] | None = None
        self._write_stall: TimerHandle | None = None
        self._unwritten = 0

        # The app's disconnect signal (asgi.DisconnectSignal) is this
        # protocol: no object per request.
        self._extensions = {DISCONNECT_EXTENSION: self}
        self._handler: asyncio.Task[Any] | None = None
        self.fired = False

    # --- connection -------------------------------------------------------

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        self.connections.add(self)
        self.transport = transport
        self.server = _address(transport, "sockname")
        self.client = _address(transport, "peername")
        if transport.get_extra_info("sslcontext") is not None:
            self.scheme = "https"
        if len(self.connections) > self.limits.max_connections:
            self._refuse(self.door.too_many_connections)
            return
        self._expect(_QUIET, self.limits.idle_timeout)

    def connection_lost(self, exc: Exception | None) -> None:
        self.connections.discard(self)
        self._gone = True
        exchange = self._current
        if exchange is not None and not exchange.complete:
            exchange.disconnected = True
            self._client_gone()
            exchange.wake()
        self._queue.clear()
        self._watch = _NOTHING
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._write_stall is not None:
            self._write_stall.cancel()
            self._write_stall = None
        self._writable_again()
        idle = self._idle
        if idle is not None and not idle.done():
            idle.set_result(None)  # the worker ends
        self.parser = None  # type: ignore[assignment]  # it holds this protocol: a cycle

    def data_received(self, data: bytes) -> None:
        if self._linger_left is not None:  # refused: drop what still comes
            self._linger_left -= len(data)
            if self._linger_left < 0:
                self.transport.close()
            return
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
            if len(self._url) > self.limits.max_url_bytes:
                self._refuse(self.door.url_too_long)
                return
            if self._raw_header_bytes > self.door.raw_header_limit:
                self._refuse(self.door.headers_too_large)
                return
        if self._phase != self._timed:
            # A deadline only for a request left unfinished by this read: a
            # request that arrives whole sets no timer.
            self._time_phase()

    def shutdown(self) -> None:
        """The server is stopping: close now if no answer is under way,
        else once it is written."""
        exchange = self._current
        if exchange is None or exchange.complete:
            self.transport.close()
        else:
            exchange.keep_alive = False

    def abandon(self) -> None:
        """Shutdown's last word: answer a request not yet answered with 503
        (cut a started answer short), and cancel its handler as if the
        client had gone."""
        exchange = self._current
        if exchange is not None and not exchange.complete:
            if not exchange.head_written:
                self.transport.write(self.door.shutting_down.raw)
            exchange.disconnected = True
            self._client_gone()
            exchange.wake()
        self.transport.close()

    # --- the app's disconnect signal --------------------------------------

    def arm(self, task: asyncio.Task[Any]) -> None:
        exchange = self._current
        if exchange is not None and exchange.disconnected:
            # Gone between the end of its body and now: cancel at once.
            self._handler = task
            self._client_gone()
            return
        self._handler = task
        self.fired = False
        self.resume_reading()  # to see the client's end of the socket

    def stop(self) -> None:
        self._handler = None

    def _client_gone(self) -> None:
        self.fired = True
        task, self._handler = self._handler, None
        if task is not None:
            task.cancel()

    # --- parser callbacks -------------------------------------------------

    def on_message_begin(self) -> None:
        self._url = b""
        self._headers = []
        self._expect_continue = False
        self._hosts = 0
        self._phase = _HEADERS
        if self._watch == _QUIET:
            self._watch = _NOTHING  # a request has begun: its own deadlines apply

    def on_url(self, url: bytes) -> None:
        self._url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        name = name.lower()
        # The parser keeps a value's trailing whitespace, which is not part
        # of it (RFC 9110 §5.5).
        value = value.rstrip(b" \t")
        if name == b"host":
            self._hosts += 1
        elif name == b"expect" and value.lower() == b"100-continue":
            self._expect_continue = True
        self._headers.append((name, value))

    # Headers are checked once they are complete (what they hold while
    # unfinished is bounded by data_received's byte count): one pass per
    # request instead of a Python call per header line.
    def on_headers_complete(self) -> None:
        self._in_headers = False
        self._phase = _BODY
        parser = self.parser
        version = parser.get_http_version()
        self._check_headers(version)
        target = self._url
        if target[:1] == b"/" and b"#" not in target:  # origin form: /path?query
            raw_path, _, query = target.partition(b"?")
        else:  # absolute form, or a fragment to drop
            url = httptools.parse_url(target)
            raw_path, query = url.path, url.query or b""
        path = raw_path.decode("ascii")
        if "%" in path:
            path = urllib.parse.unquote(path)
        root = self.root_path
        scope = {
            "type": "http",
            "asgi": self._asgi,
            "http_version": version,
            "server": self.server,
            "client": self.client,
            "scheme": self.scheme,
            "method": parser.get_method().decode("ascii"),
            "root_path": root,
            "path": root + path if root else path,
            "raw_path": root.encode("ascii") + raw_path if root else raw_path,
            "query_string": query,
            "headers": self._headers,
            "state": self.app_state.copy(),
            "extensions": self._extensions,
        }
        door = self.door
        app = self.app
        if door.draining:
            app = door.shutting_down
        elif len(self.in_flight) >= self.limits.max_concurrent_requests:
            app = door.too_many_requests
        exchange = Exchange(self, scope, app, parser.should_keep_alive(), self._expect_continue)
        self._parsing = exchange
        if self._current is None:
            self._start(exchange)
        else:  # pipelined: answered after the one before it
            self._queue.append(exchange)
            self.pause_reading()

    def _check_headers(self, version: str) -> None:
        limits, headers = self.limits, self._headers
        if len(self._url) > limits.max_url_bytes:
            self._stop(self.door.url_too_long)
        if len(headers) > limits.max_headers:
            self._stop(self.door.too_many_headers)
        # Fewer bytes arrived than the limit: the headers cannot exceed it.
        if self._raw_header_bytes > limits.max_header_bytes:
            size = sum(len(name) + len(value) for name, value in headers)
            if size > limits.max_header_bytes:
                self._stop(self.door.headers_too_large)
        hosts = self._hosts
        if hosts != 1 and (hosts or version == "1.1"):
            self._stop(self.door.no_host)

    def on_body(self, body: bytes) -> None:
        exchange = self._parsing
        if exchange is not None:
            exchange.add_body(body)

    def on_message_complete(self) -> None:
        exchange = self._parsing
        if exchange is not None:
            exchange.end_body()
            self._parsing = None
        self._in_headers = True
        self._phase = self._timed = _IDLE
        self._raw_header_bytes = 0
        if self._watch in (_HEADERS_DUE, _BODY_DUE):
            self._watch = _NOTHING

    # --- the worker: the app, for one request after another ----------------

    def _start(self, exchange: Exchange) -> None:
        """Answer ``exchange`` now: wake the worker, or make it."""
        self._current = exchange
        worker = self._worker
        if worker is None:
            context = contextvars.Context() if self._fresh_context else None
            worker = self._worker = self.loop.create_task(self._serve(), context=context)
        else:
            idle = self._idle
            if idle is not None and not idle.done():
                idle.set_result(None)
        self.in_flight.add(worker)

    async def _serve(self) -> None:
        """Run the app for each request of the connection, until it closes."""
        task = asyncio.current_task()
        assert task is not None
        context = contextvars.copy_context()
        try:
            while not self._gone:
                exchange = self._current
                if exchange is None:
                    idle = self._idle = self.loop.create_future()
                    await idle
                    self._idle = None
                    continue
                await self._run(exchange, task)
                if not self._next(exchange, task):
                    return
                if contextvars.copy_context() != context:
                    # The app set a context variable: the next request must
                    # not see it, so it gets a worker of its own, in the
                    # context this one started with.
                    self._retire(task, context)
                    return
        except asyncio.CancelledError:
            # The server's cancel at shutdown (or the client's, caught
            # outside the app): the connection is over.
            self.transport.close()
            raise
        finally:
            self.in_flight.discard(task)
            if self._worker is task:
                self._worker = None
            self._idle = None

    async def _run(self, exchange: Exchange, task: asyncio.Task[None]) -> None:
        """The app for one request; its failures end in a 500 or a closed
        connection, never in the worker."""
        try:
            await exchange.app(exchange.scope, exchange.receive, exchange.send)
        except asyncio.CancelledError:
            if not exchange.disconnected:
                raise
            task.uncancel()  # the client went away: nothing to answer
            return
        except Exception as exc:
            log.error("Exception in ASGI application\n", exc_info=exc)
            await self._fail(exchange)
            return
        if exchange.disconnected:
            return
        if not exchange.head_written:
            log.error("ASGI callable returned without starting response.")
            await self._fail(exchange)
        elif not exchange.complete:
            log.error("ASGI callable returned without completing response.")
            self.transport.close()

    async def _fail(self, exchange: Exchange) -> None:
        """A 500 if nothing of the answer was written, else close."""
        if exchange.head_written:
            self.transport.close()
            return
        try:
            await exchange.send(_FAILED_HEAD)
            await exchange.send(_FAILED_BODY)
        except Exception:
            self.transport.close()

    def _next(self, finished: Exchange, task: asyncio.Task[None]) -> bool:
        """After ``finished``: whether the worker goes on (to the next
        pipelined request, or to wait for one)."""
        self._handler = None
        transport = self._transport_open()
        if transport is None or not (finished.complete and finished.keep_alive):
            self._current = None
            self._queue.clear()
            if transport is not None:
                transport.close()
            return False
        if self._queue:
            self._current = self._queue.popleft()
            self.resume_reading()
            return True
        self._current = None
        self.in_flight.discard(task)
        self.resume_reading()
        if self._phase == _IDLE:
            self._expect(_QUIET, self.limits.keep_alive_timeout)
        return True

    def _transport_open(self) -> asyncio.Transport | None:
        """The transport, unless the connection is closed, closing or
        lingering after a refusal."""
        transport = self.transport
        if self._gone or self._linger_left is not None or transport.is_closing():
            return None
        return transport

    def _retire(self, task: asyncio.Task[None], context: contextvars.Context) -> None:
        self.in_flight.discard(task)
        self._worker = None
        exchange = self._current
        if exchange is not None:
            self._worker = worker = self.loop.create_task(self._serve(), context=context)
            self.in_flight.add(worker)

    # --- flow control -------------------------------------------------------

    def pause_reading(self) -> None:
        if not self._read_paused:
            self._read_paused = True
            self.transport.pause_reading()

    def resume_reading(self) -> None:
        if self._read_paused:
            self._read_paused = False
            self.transport.resume_reading()

    async def drain(self) -> None:
        """Wait until the client has read enough of what was written."""
        writable = self._writable
        if writable is None or writable.done():
            writable = self._writable = self.loop.create_future()
        await writable

    def _writable_again(self) -> None:
        self.write_paused = False
        writable, self._writable = self._writable, None
        if writable is not None and not writable.done():
            writable.set_result(None)

    # --- a client that stops reading ----------------------------------------

    def pause_writing(self) -> None:
        self.write_paused = True
        if self._write_stall is None:
            self._watch_writes()

    def _watch_writes(self) -> None:
        self._unwritten = self.transport.get_write_buffer_size()
        self._write_stall = self.loop.call_later(self.limits.write_timeout, self._stalled)

    def resume_writing(self) -> None:
        self._writable_again()
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

    def _expect(self, watch: int, delay: float) -> None:
        """Watch for ``watch`` ``delay`` seconds from now; the timer is
        made again only if it would fire later than that."""
        if self._watch == _LINGER:
            return  # closing: nothing else matters
        due = self.loop.time() + delay
        self._watch = watch
        self._due = due
        timer = self._timer
        if timer is None or timer.when() > due:
            if timer is not None:
                timer.cancel()
            self._timer = self.loop.call_at(due, self._timer_fired)

    def _timer_fired(self) -> None:
        self._timer = None
        watch = self._watch
        if watch == _NOTHING:
            return
        if self._due - self.loop.time() > 0.001:  # moved later since the timer was set
            self._timer = self.loop.call_at(self._due, self._timer_fired)
            return
        self._watch = _NOTHING
        if watch == _QUIET:
            if self._current is None:
                self.transport.close()
        elif watch == _HEADERS_DUE:
            self._headers_late()
        elif watch == _BODY_DUE:
            self._body_late()
        else:
            self.transport.close()  # the linger is over

    def _time_phase(self) -> None:
        self._timed = phase = self._phase
        if phase == _HEADERS:
            self._expect(_HEADERS_DUE, self.limits.header_timeout)
        elif phase == _BODY:
            self._expect(_BODY_DUE, self.limits.body_timeout)
        elif self._watch in (_HEADERS_DUE, _BODY_DUE):
            self._watch = _NOTHING

    def _answering(self) -> bool:
        """Whether an earlier request on this connection is still being answered."""
        return self._current is not None and not self._current.complete

    def _headers_late(self) -> None:
        if self._answering():  # pipelined behind a response still going
            self._expect(_HEADERS_DUE, self.limits.header_timeout)
            return
        self._refuse(self.door.header_timeout)

    def _body_late(self) -> None:
        exchange = self._parsing
        if exchange is None:
            return
        if exchange.head_written:  # answered (or being answered) without it
            self.transport.close()
            return
        if (
            exchange is not self._current
        ):  # queued behind a response: its body is not being read yet
            self._expect(_BODY_DUE, self.limits.body_timeout)
            return
        exchange.disconnected = True  # the handler's receive() now reports a disconnect
        exchange.wake()
        self._write_and_close(self.door.body_timeout)

    def _stop(self, refusal: Refusal) -> None:
        self._refusal = refusal
        raise _Refused

    def _refuse(self, refusal: Refusal) -> None:
        if self._watch != _LINGER:
            self._watch = _NOTHING
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
        self.resume_reading()
        self._expect(_LINGER, LINGER_SECONDS)
