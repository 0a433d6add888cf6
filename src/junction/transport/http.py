"""The one HTTP client: a shared connection pool, timeouts, streaming.

Everything upstream goes through :class:`Transport`. It knows nothing of
codecs or providers: it sends an :class:`HttpRequest` and hands back status,
headers and bytes, turning network failures into :class:`UpstreamError`
(retryable, since nothing reached the client yet).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Mapping
from types import TracebackType
from urllib.parse import urlsplit

from junction.transport.connection import (
    ConnectFailed,
    Connection,
    ConnectTimeout,
    Origin,
    Pool,
    ResponseHeadError,
)
from junction.types import HttpRequest, UpstreamError

MIB = 1024 * 1024


class Limits:
    """Timeouts (seconds) and the largest body (bytes) for one attempt.

    ``idle``: the longest silence between two reads of the response body
    (None: no idle timeout); ``max_body``: the most bytes read as a whole
    body (a non-streaming answer, an error body)."""

    __slots__ = ("connect", "first_token", "idle", "max_body", "total")

    def __init__(
        self,
        connect: float,
        first_token: float,
        total: float,
        *,
        idle: float | None = None,
        max_body: int = 64 * MIB,
    ) -> None:
        self.connect = connect
        self.first_token = first_token
        self.total = total
        self.idle = idle
        self.max_body = max_body


class Reply:
    """A response whose body has been read in full."""

    __slots__ = ("body", "headers", "status")

    def __init__(self, status: int, headers: Mapping[str, str], body: bytes) -> None:
        self.status = status
        self.headers = headers
        self.body = body


class StreamReply:
    """An open streaming response. Iterate :meth:`chunks`; always ``close``
    (or use ``async with``): closing early closes the connection, which
    cancels the upstream call; a response read to its end leaves the
    connection in the pool.

    One timer per attempt, not one per read, armed when the request is
    sent: it fires at the first-token deadline while the response head has
    not come, then at the total deadline or, with an idle timeout, when the
    last read is ``idle`` seconds old. A read only notes the time; the timer,
    when it fires and finds a read more recent than ``idle``, re-arms itself
    for the new idle deadline (once per idle period at most). On expiry it
    closes the connection, and the read that was waiting fails; the caller
    then reports which timeout it was.
    """

    __slots__ = (
        "_conn",
        "_deadline",
        "_expired",
        "_first",
        "_idle",
        "_label",
        "_last",
        "_loop",
        "_max_body",
        "_timer",
        "headers",
        "status",
    )

    def __init__(
        self, conn: Connection, label: str, first: float, deadline: float, limits: Limits
    ) -> None:
        self._conn = conn
        self._label = label
        self._first = first
        self._deadline = deadline
        self._idle = limits.idle
        self._max_body = limits.max_body
        self.status = 0
        self.headers: Mapping[str, str] = conn.headers
        self._expired: str | None = None
        """Which timeout closed the response: "first_token", "total" or "idle"."""
        loop = self._loop = asyncio.get_running_loop()
        self._last = loop.time()
        self._timer = loop.call_at(min(first, self._next_check()), self._check)

    async def head(self) -> None:
        """Until the response head is in (TimeoutError past the first-token deadline)."""
        conn = self._conn
        await conn.head()
        self.status = conn.status
        self.headers = conn.headers
        self._last = self._loop.time()

    def _next_check(self) -> float:
        if self._idle is None:
            return self._deadline
        return min(self._deadline, self._last + self._idle)

    def _check(self) -> None:
        now = self._loop.time()
        if not self._conn.head_done:
            if now >= self._first:
                self._expired = "first_token"
                self._conn.abort(TimeoutError("first_token"))
            else:
                self._timer = self._loop.call_at(min(self._first, self._next_check()), self._check)
            return
        if now >= self._deadline:
            self._expired = "total"
        elif self._idle is not None and now >= self._last + self._idle:
            self._expired = "idle"
        else:
            self._timer = self._loop.call_at(self._next_check(), self._check)
            return
        self._conn.abort(TimeoutError(self._expired))

    async def read(self) -> bytes:
        """The whole body, refused past ``Limits.max_body`` bytes."""
        limit = self._max_body
        declared = self._conn.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            raise _too_large(self._label, limit)
        parts: list[bytes] = []
        size = 0
        while data := await self._next():  # not chunks(): an async generator costs a registration
            size += len(data)
            if size > limit:
                raise _too_large(self._label, limit)
            parts.append(data)
        return parts[0] if len(parts) == 1 else b"".join(parts)

    async def chunks(self) -> AsyncIterator[bytes]:
        """Bytes as they arrive (no re-chunking)."""
        while data := await self._next():
            yield data

    async def _next(self) -> bytes:
        """The bytes that arrived since the last read (``b""`` at the end),
        noting the time for the idle timeout."""
        try:
            data = await self._conn.read()
        except (OSError, TimeoutError, ResponseHeadError) as exc:
            raise self._failure(exc) from None
        self._last = self._loop.time()
        return data

    def cancel_timer(self) -> None:
        self._timer.cancel()

    def _timeout(self) -> UpstreamError:
        if self._expired == "idle":
            return _timeout(self._label, "idle", self._idle)
        return _timeout(self._label, "total")

    def _failure(self, exc: BaseException) -> UpstreamError:
        return self._timeout() if self._expired is not None else _cut(self._label, exc)

    async def close(self) -> None:
        self._timer.cancel()
        self._conn.finish()

    async def __aenter__(self) -> StreamReply:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._timer.cancel()
        self._conn.finish()


class Transport:
    """One pooled client for the process; create once, ``await close()`` at exit."""

    def __init__(self, *, pool_size: int = 512) -> None:
        self._pool = Pool(pool_size)
        self._targets: dict[tuple[str, str], tuple[Origin, bytes]] = {}
        """Per method and URL: the origin and the start of the request head (bounded)."""

    async def close(self) -> None:
        self._pool.close()

    async def send(self, request: HttpRequest, limits: Limits, label: str) -> Reply:
        """Send and read the whole body."""
        async with await self.open(request, limits, label) as reply:
            body = await reply.read()
            return Reply(reply.status, reply.headers, body)

    async def open(self, request: HttpRequest, limits: Limits, label: str) -> StreamReply:
        """Send and return once the response headers are in."""
        loop = asyncio.get_running_loop()
        now = loop.time()
        deadline = now + limits.total
        first = now + min(limits.first_token, limits.total)
        origin, start = self._target(request, label)
        data = _encode(start, request, label)
        conn: Connection | None = None
        try:
            conn = self._pool.idle(origin)
            if conn is None:
                conn = await self._connect(origin, limits.connect, first)
            conn.send(data)
            reply = StreamReply(conn, label, first, deadline, limits)
            # No silent second send when a kept connection fails unanswered:
            # each failure is an attempt the gateway sees, retries or fails
            # over (kept connections older than IDLE_SECONDS are not reused,
            # so a server's own idle close rarely races a request).
            try:
                await reply.head()
            except BaseException:
                reply.cancel_timer()
                raise
        except ConnectTimeout:
            raise _timeout(label, "connect", limits.connect) from None
        except TimeoutError:
            if conn is not None:
                conn.close()
            raise _timeout(label, "first_token") from None
        except ConnectFailed as exc:
            raise _unavailable(label, f"could not connect ({exc})") from None
        except (OSError, ResponseHeadError) as exc:
            if conn is not None:
                conn.close()
            raise _cut(label, exc, before_first_byte=True) from None
        except BaseException:
            if conn is not None:
                conn.close()
            raise
        return reply

    async def _connect(self, origin: Origin, connect: float, first: float) -> Connection:
        """A new connection, waiting for a place in the pool and connecting
        within the first-token deadline."""
        async with asyncio.timeout_at(first):
            return await self._pool.connect(origin, connect)

    def _target(self, request: HttpRequest, label: str) -> tuple[Origin, bytes]:
        url = request.url
        found = self._targets.get((request.method, url))
        if found is not None:
            return found
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme not in ("http", "https") or not parts.hostname:
            raise _misconfigured(label, "its URL is not http:// or https:// with a host")
        port = parts.port or (443 if scheme == "https" else 80)
        host = parts.hostname
        default = port == (443 if scheme == "https" else 80)
        host_header = (f"[{host}]" if ":" in host else host) + ("" if default else f":{port}")
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        if any(c in target for c in " \r\n") or any(c in host for c in "\r\n"):
            raise _misconfigured(label, "its URL holds a space or a line break")
        start = f"{request.method} {target} HTTP/1.1\r\nhost: {host_header}\r\n"
        found = ((scheme, host, port), start.encode("latin-1"))
        if len(self._targets) < 4096:  # URLs come from config and model names: few
            self._targets[(request.method, url)] = found
        return found


def _encode(start: bytes, request: HttpRequest, label: str) -> bytes:
    """The request's head and body as one write."""
    lines = [start]
    accept_encoding = False
    for name, value in request.headers.items():
        if _UNSAFE.search(name) or "\r" in value or "\n" in value:
            raise _misconfigured(label, f"its header {name!r} holds a line break or a colon")
        lower = name.lower()
        if lower in _SET_HERE:
            continue
        accept_encoding = accept_encoding or lower == "accept-encoding"
        lines.append(f"{name}: {value}\r\n".encode("latin-1", "replace"))
    if not accept_encoding:
        lines.append(b"accept-encoding: gzip, deflate\r\n")
    lines.append(b"content-length: %d\r\n\r\n" % len(request.body))
    lines.append(request.body)
    return b"".join(lines)


_SET_HERE = frozenset({"host", "content-length", "transfer-encoding", "connection"})
"""Headers the transport writes itself (a request is framed by its length)."""
_UNSAFE = re.compile(r"[:\r\n]|^$|^\s|\s$")
"""What a header name must not hold."""


def _misconfigured(label: str, what: str) -> UpstreamError:
    return _unavailable(
        label,
        f"the request to this deployment cannot be sent: {what} "
        "(check its base_url and headers in the config)",
    )


# Transport failures are all retryable from the transport's point of view:
# the gateway knows whether anything already reached the client, and only
# fails over when nothing did.


def _timeout(label: str, which: str, seconds: float | None = None) -> UpstreamError:
    if which == "connect":
        what = f"could not connect within {seconds:g} s (the connect timeout)"
    elif which == "first_token":
        what = "no response before the first-token timeout"
    elif which == "idle":
        what = f"the provider sent nothing for {seconds:g} s mid-response (the idle timeout)"
    else:
        what = "the attempt ran past its total timeout"
    return UpstreamError("timeout", f"{label}: {what}", provider=label, status=504, retryable=True)


def _too_large(label: str, limit: int) -> UpstreamError:
    return _unavailable(
        label,
        f"the response body is larger than junction's limit of {limit} bytes "
        "(limits.max_body_bytes)",
    )


def _unavailable(label: str, what: str) -> UpstreamError:
    """A 502 the gateway may fail over from: ``label`` could not answer."""
    return UpstreamError(
        "provider_unavailable", f"{label}: {what}", provider=label, status=502, retryable=True
    )


def _cut(label: str, exc: BaseException, *, before_first_byte: bool = False) -> UpstreamError:
    detail = type(exc).__name__ + (f": {exc}" if str(exc) else "")
    if before_first_byte:
        where = "the connection failed before a response"
    else:
        where = "the connection was cut mid-response"
    return _unavailable(label, f"{where} ({detail})")
