"""HTTP/1.1 to upstreams: one connection as an asyncio protocol, and the pool.

The gateway asks one thing of an HTTP client: send a request it already
encoded, hand back the status, the headers and the body bytes as they
arrive, and keep the connection for the next request. A general client
(aiohttp's) builds a request object, a response object, a stream reader,
header multidicts, timers and tracing hooks around that; measured behind
the gateway it was the largest single cost of a request (docs/decisions.md
§13). Here a request is one ``write`` of a prebuilt head and body, and a
response is httptools' parser (the one the front door uses) feeding a
queue of body chunks that the reader drains with flow control.

Bounded: the response head (bytes, field count), decompressed growth per
read; the body cap and the timeouts are the caller's (transport/http.py).
"""

from __future__ import annotations

import asyncio
import ssl
import zlib
from collections import deque
from typing import cast

import httptools
from multidict import CIMultiDict, CIMultiDictProxy

MAX_HEAD_BYTES = 32 * 1024
"""The most bytes of response header fields accepted (names and values)."""
MAX_FIELD_BYTES = 8 * 1024
"""The most bytes of one response header field (name and value)."""
MAX_HEAD_FIELDS = 256
"""The most response header fields accepted."""
MAX_INFLATE = 8 * 1024 * 1024
"""The most bytes one compressed read may inflate to (a decompression bomb
is cut here, not held in memory)."""
HIGH_WATER = 256 * 1024
"""Buffered body bytes past which the socket stops being read until the
consumer's next read takes them."""
IDLE_SECONDS = 15.0
"""An idle pooled connection older than this is closed, not reused (servers
close idle keep-alive connections after 5-120 s; reusing one they just
closed costs the request)."""


class ResponseHeadError(Exception):
    """The upstream's response head broke a bound or could not be parsed."""


class Connection(asyncio.Protocol):
    """One keep-alive connection to one origin, one request at a time."""

    def __init__(self, pool: Pool, origin: Origin) -> None:
        self._pool = pool
        self.origin = origin
        self._loop = asyncio.get_running_loop()
        self._transport: asyncio.Transport | None = None
        self._parser = httptools.HttpResponseParser(self)
        self._chunks: deque[bytes] = deque()
        self._buffered = 0
        self._paused = False
        self._waiter: asyncio.Future[None] | None = None
        self._fields: list[tuple[str, str]] = []
        self._head_bytes = self._head_read = 0
        self._inflate: zlib._Decompress | None = None
        self.status = 0
        self.headers: CIMultiDictProxy[str] = _EMPTY
        self.head_done = False
        self.done = False
        """The whole response is in (its last chunk may still be queued)."""
        self.error: BaseException | None = None
        self.closed = False
        self.idle_since = 0.0
        self._keep_alive = False

    # -- asyncio.Protocol --------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        if self.closed:
            return
        if not self.head_done:
            # httptools gathers a header field however long it is: bound the
            # bytes read before the head is in (a head, plus what may follow it).
            self._head_read += len(data)
            if self._head_read > MAX_HEAD_BYTES + HIGH_WATER:
                self._fail(ResponseHeadError("the response head never ended"))
                return
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserCallbackError as exc:
            self._fail(exc.__context__ or exc)
        except httptools.HttpParserError as exc:
            self._fail(ResponseHeadError(f"malformed HTTP response ({exc})"))

    def eof_received(self) -> bool:
        return False  # close the transport; connection_lost follows

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._pool.lost(self)
        if self.done:
            return
        if self.head_done and self._reads_to_eof():
            self.done = True  # a body delimited by the end of the connection
        elif self.error is None:
            self.error = exc or ConnectionResetError("the server closed the connection")
        self._wake()

    # -- httptools callbacks -----------------------------------------------

    def on_header(self, name: bytes, value: bytes) -> None:
        size = len(name) + len(value)
        self._head_bytes += size
        if (
            size > MAX_FIELD_BYTES
            or self._head_bytes > MAX_HEAD_BYTES
            or len(self._fields) >= MAX_HEAD_FIELDS
        ):
            raise ResponseHeadError(
                f"the response head breaks junction's bounds ({MAX_FIELD_BYTES} bytes a "
                f"field, {MAX_HEAD_BYTES} bytes and {MAX_HEAD_FIELDS} fields in all)"
            )
        self._fields.append((name.decode("latin-1"), value.decode("latin-1")))

    def on_headers_complete(self) -> None:
        self.status = self._parser.get_status_code()
        headers = CIMultiDict(self._fields)
        self.headers = CIMultiDictProxy(headers)
        encoding = headers.get("content-encoding", "").lower()
        if encoding in ("gzip", "x-gzip"):
            self._inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif encoding == "deflate":
            self._inflate = zlib.decompressobj(zlib.MAX_WBITS)
        self.head_done = True
        self._wake()

    def on_body(self, body: bytes) -> None:
        if self._inflate is not None:
            inflate = self._inflate
            body = inflate.decompress(body, MAX_INFLATE)
            if inflate.unconsumed_tail:
                raise ResponseHeadError(
                    f"a compressed read of the response expands past {MAX_INFLATE} bytes"
                )
            if not body:
                return
        self._chunks.append(body)
        self._buffered += len(body)
        if self._buffered > HIGH_WATER and not self._paused and self._transport is not None:
            self._paused = True
            self._transport.pause_reading()
        self._wake()

    def on_message_complete(self) -> None:
        if self._inflate is not None:
            tail = self._inflate.flush()
            if tail:
                self._chunks.append(tail)
        self.done = True
        self._keep_alive = self._parser.should_keep_alive()
        self._wake()

    # -- the request ---------------------------------------------------------

    def send(self, data: bytes) -> None:
        """Start a request: its head and body, already encoded."""
        self._parser = httptools.HttpResponseParser(self)
        self._chunks.clear()
        self._buffered = 0
        self._fields = []
        self._head_bytes = self._head_read = 0
        self._inflate = None
        self.status = 0
        self.headers = _EMPTY
        self.head_done = self.done = False
        self._keep_alive = False
        self.error = None
        assert self._transport is not None
        self._transport.write(data)

    async def head(self) -> None:
        """Until the response head is in (raises what broke the connection,
        or what :meth:`abort` was given: the caller's deadlines)."""
        while not self.head_done:
            if self.error is not None:
                raise self.error
            await self._wait()

    async def read(self) -> bytes:
        """The body bytes that arrived since the last read (all of them, so a
        burst of events is relayed as one write); ``b""`` at the end."""
        while True:
            chunks = self._chunks
            if chunks:
                data = chunks.popleft() if len(chunks) == 1 else b"".join(chunks)
                chunks.clear()
                self._buffered = 0
                if self._paused and self._transport is not None:
                    self._paused = False
                    self._transport.resume_reading()
                return data
            if self.error is not None:
                raise self.error
            if self.done:
                return b""
            await self._wait()

    def finish(self) -> None:
        """The caller is done with the response: back to the pool when it was
        read to its end and the server keeps the connection, else closed."""
        if self.done and self._keep_alive and not self._chunks and not self.closed:
            self.idle_since = self._loop.time()
            self._pool.put_back(self)
        else:
            self.close()

    def abort(self, error: BaseException) -> None:
        """Fail the read in progress (a timeout) and close the connection."""
        if self.error is None:
            self.error = error
        self.close()
        self._wake()

    def close(self) -> None:
        if self._transport is not None and not self.closed:
            self._transport.close()
            self.closed = True
            self._pool.lost(self)

    # -- internals -------------------------------------------------------------

    def _reads_to_eof(self) -> bool:
        headers = self.headers
        return "content-length" not in headers and "chunked" not in headers.get(
            "transfer-encoding", ""
        )

    def _fail(self, error: BaseException) -> None:
        self.error = error
        self.close()
        self._wake()

    async def _wait(self) -> None:
        waiter = self._waiter = self._loop.create_future()
        try:
            await waiter
        finally:
            self._waiter = None

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)


_EMPTY: CIMultiDictProxy[str] = CIMultiDictProxy(CIMultiDict())

Origin = tuple[str, str, int]
"""(scheme, host, port)."""


class ConnectTimeout(Exception):
    """No connection within the connect timeout."""


class ConnectFailed(Exception):
    """The connection could not be made (the OSError is its cause)."""


class Pool:
    """Keep-alive connections per origin, at most ``size`` open at once
    (a request past that waits for one to close or come back)."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._open: set[Connection] = set()
        self._idle: dict[Origin, list[Connection]] = {}
        self._waiting: deque[asyncio.Future[None]] = deque()
        self._connecting = 0
        self._tls: ssl.SSLContext | None = None

    def idle(self, origin: Origin) -> Connection | None:
        """A kept connection to ``origin`` that is fresh enough to reuse."""
        idle = self._idle.get(origin)
        if idle:
            now = asyncio.get_running_loop().time()
            while idle:
                conn = idle.pop()
                if not conn.closed and now - conn.idle_since < IDLE_SECONDS:
                    return conn
                conn.close()
        return None

    async def connect(self, origin: Origin, connect_timeout: float) -> Connection:
        """A new connection to ``origin``."""
        loop = asyncio.get_running_loop()
        while len(self._open) + self._connecting >= self._size:
            kept = self.idle(origin)  # one came back while this waited
            if kept is not None:
                return kept
            if self._close_one_idle():  # room, at another origin's expense
                continue
            waiter = loop.create_future()
            self._waiting.append(waiter)
            await waiter
        scheme, host, port = origin
        tls = self._context() if scheme == "https" else None
        self._connecting += 1
        try:
            async with asyncio.timeout(connect_timeout):
                _, conn = await loop.create_connection(
                    lambda: Connection(self, origin),
                    host,
                    port,
                    ssl=tls,
                    server_hostname=host if tls else None,
                )
        except TimeoutError:
            raise ConnectTimeout from None
        except OSError as exc:
            raise ConnectFailed(exc.strerror or str(exc)) from exc
        else:
            if not conn.closed:
                self._open.add(conn)
            return conn
        finally:
            self._connecting -= 1
            self._next_waiter()

    def put_back(self, conn: Connection) -> None:
        self._idle.setdefault(conn.origin, []).append(conn)
        if self._waiting and len(self._open) + self._connecting >= self._size:
            self._wake_one()  # a request waiting for a place may take this one

    def _close_one_idle(self) -> bool:
        for idle in self._idle.values():
            if idle:
                idle.pop(0).close()
                return True
        return False

    def lost(self, conn: Connection) -> None:
        """``conn`` closed: no longer open, not reusable."""
        if conn in self._open:
            self._open.discard(conn)
            idle = self._idle.get(conn.origin)
            if idle and conn in idle:
                idle.remove(conn)
            self._next_waiter()

    def close(self) -> None:
        for conn in list(self._open):
            conn.close()
        self._idle.clear()

    def _next_waiter(self) -> None:
        if len(self._open) + self._connecting < self._size:
            self._wake_one()

    def _wake_one(self) -> None:
        while self._waiting:
            waiter = self._waiting.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return

    def _context(self) -> ssl.SSLContext:
        if self._tls is None:
            self._tls = ssl.create_default_context()
        return self._tls
