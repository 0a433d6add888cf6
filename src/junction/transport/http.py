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


class Limits:
    """Timeouts (seconds) for one attempt."""

    __slots__ = ("connect", "first_token", "total")

    def __init__(self, connect: float, first_token: float, total: float) -> None:
        self.connect = connect
        self.first_token = first_token
        self.total = total


class Reply:
    """A response whose body has been read in full."""

    __slots__ = ("body", "headers", "status")

    def __init__(self, status: int, headers: Mapping[str, str], body: bytes) -> None:
        self.status = status
        self.headers = headers
        self.body = body


class StreamReply:
    """An open streaming response. Iterate :meth:`chunks`; always ``close``
    (or use ``async with``): closing early cancels the upstream call."""

    __slots__ = ("_deadline", "_label", "_response", "_timer", "headers", "status")

    def __init__(self, response: aiohttp.ClientResponse, label: str, deadline: float) -> None:
        self._response = response
        self._label = label
        self._deadline = deadline
        self.status = response.status
        self.headers: Mapping[str, str] = response.headers
        # One timer for the whole attempt (not a timeout per read): at the
        # deadline the response is closed, and the read that was waiting
        # fails; chunks() then reports the total timeout.
        self._timer = asyncio.get_running_loop().call_at(deadline, response.close)

    async def read(self) -> bytes:
        return await self._response.read()

    async def chunks(self) -> AsyncIterator[bytes]:
        """Bytes as they arrive (no re-chunking)."""
        content = self._response.content
        while True:
            try:
                data = await content.readany()
            except aiohttp.ClientError as exc:
                raise self._failure(exc) from None
            if not data:
                if self._timer.cancelled() or not self._expired():
                    return
                raise _timeout(self._label, "total")
            yield data

    def _expired(self) -> bool:
        return asyncio.get_running_loop().time() >= self._deadline

    def _failure(self, exc: BaseException) -> UpstreamError:
        return _timeout(self._label, "total") if self._expired() else _cut(self._label, exc)

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
            try:
                body = await reply.read()
            except aiohttp.ClientError as exc:
                raise reply._failure(exc) from None
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
        return StreamReply(response, label, deadline)


def _now() -> float:
    return asyncio.get_running_loop().time()


# Transport failures are all retryable from the transport's point of view:
# the gateway knows whether anything already reached the client, and only
# fails over when nothing did.


def _timeout(label: str, which: str) -> UpstreamError:
    if which == "first_token":
        what = "no response before the first-token timeout"
    else:
        what = "the attempt ran past its total timeout"
    return UpstreamError("timeout", f"{label}: {what}", provider=label, status=504, retryable=True)


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
