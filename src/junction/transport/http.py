"""The one HTTP client: a shared connection pool, timeouts, streaming.

Everything upstream goes through :class:`Transport`. It knows nothing of
codecs or providers: it sends an :class:`HttpRequest` and hands back status,
headers and bytes, turning network failures into :class:`UpstreamError`
(retryable, since nothing reached the client yet).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from types import TracebackType

import aiohttp

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
    (or use ``async with``): closing early cancels the upstream call.

    One timer per attempt, not one per read: it fires at the total deadline
    or, with an idle timeout, when the last read is ``idle`` seconds old. A
    read only notes the time; the timer, when it fires and finds a read more
    recent than ``idle``, re-arms itself for the new idle deadline (once per
    idle period at most). On expiry it closes the response, and the read that
    was waiting fails; :meth:`chunks` then reports which timeout it was.
    """

    __slots__ = (
        "_deadline",
        "_expired",
        "_idle",
        "_label",
        "_last",
        "_loop",
        "_max_body",
        "_response",
        "_timer",
        "headers",
        "status",
    )

    def __init__(
        self, response: aiohttp.ClientResponse, label: str, deadline: float, limits: Limits
    ) -> None:
        self._response = response
        self._label = label
        self._deadline = deadline
        self._idle = limits.idle
        self._max_body = limits.max_body
        self.status = response.status
        self.headers: Mapping[str, str] = response.headers
        self._expired: str | None = None
        """Which timeout closed the response: "total" or "idle"."""
        loop = self._loop = asyncio.get_running_loop()
        self._last = loop.time()
        self._timer = loop.call_at(self._next_check(), self._check)

    def _next_check(self) -> float:
        if self._idle is None:
            return self._deadline
        return min(self._deadline, self._last + self._idle)

    def _check(self) -> None:
        now = self._loop.time()
        if now >= self._deadline:
            self._expired = "total"
        elif self._idle is not None and now >= self._last + self._idle:
            self._expired = "idle"
        else:
            self._timer = self._loop.call_at(self._next_check(), self._check)
            return
        self._response.close()

    async def read(self) -> bytes:
        """The whole body, refused past ``Limits.max_body`` bytes."""
        limit = self._max_body
        declared = self._response.content_length
        if declared is not None and declared > limit:
            raise _too_large(self._label, limit)
        parts: list[bytes] = []
        size = 0
        async for data in self.chunks():
            size += len(data)
            if size > limit:
                raise _too_large(self._label, limit)
            parts.append(data)
        return b"".join(parts)

    async def chunks(self) -> AsyncIterator[bytes]:
        """Bytes as they arrive (no re-chunking)."""
        content = self._response.content
        loop = self._loop
        while True:
            try:
                data = await content.readany()
            except aiohttp.ClientError as exc:
                raise self._failure(exc) from None
            if not data:
                if self._expired is None:
                    return
                raise self._timeout()
            self._last = loop.time()
            yield data

    def _timeout(self) -> UpstreamError:
        if self._expired == "idle":
            return _timeout(self._label, "idle", self._idle)
        return _timeout(self._label, "total")

    def _failure(self, exc: BaseException) -> UpstreamError:
        return self._timeout() if self._expired is not None else _cut(self._label, exc)

    async def close(self) -> None:
        self._timer.cancel()
        self._response.close()

    async def __aenter__(self) -> StreamReply:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._timer.cancel()
        self._response.close()


class Transport:
    """One pooled client for the process; create once, ``await close()`` at exit."""

    def __init__(self, *, pool_size: int = 512) -> None:
        self._pool_size = pool_size
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(
                limit=self._pool_size,
                limit_per_host=0,
                ttl_dns_cache=300,
                enable_cleanup_closed=True,
            )
            self._session = aiohttp.ClientSession(
                connector=connector,
                auto_decompress=True,
                skip_auto_headers=("User-Agent",),
                timeout=aiohttp.ClientTimeout(total=None),
            )
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def send(self, request: HttpRequest, limits: Limits, label: str) -> Reply:
        """Send and read the whole body."""
        async with await self.open(request, limits, label) as reply:
            body = await reply.read()
            return Reply(reply.status, reply.headers, body)

    async def open(self, request: HttpRequest, limits: Limits, label: str) -> StreamReply:
        """Send and return once the response headers are in."""
        deadline = _now() + limits.total
        timeout = aiohttp.ClientTimeout(
            total=None, connect=None, sock_connect=limits.connect, sock_read=None
        )
        try:
            async with asyncio.timeout(min(limits.first_token, limits.total)):
                response = await self._client().request(
                    request.method,
                    request.url,
                    data=request.body,
                    headers=request.headers,
                    timeout=timeout,
                    allow_redirects=False,
                )
        except aiohttp.ConnectionTimeoutError:  # a TimeoutError too: before it
            raise _timeout(label, "connect", limits.connect) from None
        except TimeoutError:
            raise _timeout(label, "first_token") from None
        except aiohttp.ClientConnectorError as exc:
            raise UpstreamError(
                "provider_unavailable",
                f"{label}: could not connect ({exc.os_error or exc})",
                provider=label,
                status=502,
                retryable=True,
            ) from None
        except (aiohttp.ClientError, OSError) as exc:
            raise _cut(label, exc, before_first_byte=True) from None
        return StreamReply(response, label, deadline, limits)


def _now() -> float:
    return asyncio.get_running_loop().time()


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
    return UpstreamError(
        "provider_unavailable",
        f"{label}: the response body is larger than junction's limit of {limit} bytes "
        "(limits.max_body_bytes)",
        provider=label,
        status=502,
        retryable=True,
    )


def _cut(label: str, exc: BaseException, *, before_first_byte: bool = False) -> UpstreamError:
    detail = type(exc).__name__ + (f": {exc}" if str(exc) else "")
    if before_first_byte:
        where = "the connection failed before a response"
    else:
        where = "the connection was cut mid-response"
    return UpstreamError(
        "provider_unavailable",
        f"{label}: {where} ({detail})",
        provider=label,
        status=502,
        retryable=True,
    )
