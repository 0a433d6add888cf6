"""The transport's own HTTP/1.1 client (transport/connection.py) against raw
asyncio servers on loopback, which show exactly what went over the wire:
keep-alive reuse, a kept connection the server closed, the pool's bound,
gzip, bodies that end with the connection, and the bounds on what an
upstream sends."""

from __future__ import annotations

import asyncio
import gzip
import zlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import pytest

from junction.transport import Limits, Transport
from junction.types import HttpRequest, UpstreamError

OK = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}"


@dataclass
class Wire:
    """A raw server: each connection's requests (as bytes), answered by ``answer``."""

    answer: Callable[[int, int, bytes], bytes | None]
    """(connection number, request number on it, request) -> bytes to write;
    None closes the connection without answering."""
    connections: list[list[bytes]] = field(default_factory=list)
    close_after: set[tuple[int, int]] = field(default_factory=set)
    """(connection, request) answers after which the server hangs up."""
    open_now: int = 0
    most_open: int = 0
    server: asyncio.Server | None = None

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        seen: list[bytes] = []
        self.connections.append(seen)
        number = len(self.connections) - 1
        self.open_now += 1
        self.most_open = max(self.most_open, self.open_now)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = next(
                    int(line.split(b":")[1])
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length:")
                )
                request = head + await reader.readexactly(length)
                seen.append(request)
                reply = self.answer(number, len(seen) - 1, request)
                if reply is None:
                    break
                writer.write(reply)
                await writer.drain()
                if (number, len(seen) - 1) in self.close_after:
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            self.open_now -= 1
            writer.close()

    @property
    def url(self) -> str:
        assert self.server is not None
        port = self.server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}/v1/chat"


@pytest.fixture
async def transport() -> AsyncIterator[Transport]:
    t = Transport()
    yield t
    await t.close()


async def wire(answer: Callable[[int, int, bytes], bytes | None]) -> Wire:
    w = Wire(answer)
    w.server = await asyncio.start_server(w.handle, "127.0.0.1", 0)
    return w


LIMITS = Limits(2, 2, 10)


def post(url: str, body: bytes = b'{"a":1}', **headers: str) -> HttpRequest:
    return HttpRequest("POST", url, {"content-type": "application/json", **headers}, body)


async def test_requests_reuse_one_kept_connection(transport: Transport) -> None:
    w = await wire(lambda c, n, r: OK)
    for _ in range(3):
        reply = await transport.send(post(w.url), LIMITS, "t")
        assert (reply.status, reply.body) == (200, b"{}")
    assert len(w.connections) == 1
    assert len(w.connections[0]) == 3
    head = w.connections[0][0].split(b"\r\n\r\n")[0].decode()
    assert head.startswith("POST /v1/chat HTTP/1.1\r\n")
    lines = head.lower().split("\r\n")
    assert f"host: 127.0.0.1:{w.url.split(':')[2].split('/')[0]}" in lines
    assert "content-length: 7" in lines
    assert w.connections[0][0].endswith(b'{"a":1}')


async def test_the_method_is_the_requests_own_on_a_url_seen_before(
    transport: Transport,
) -> None:
    w = await wire(lambda c, n, r: OK)
    await transport.send(post(w.url), LIMITS, "t")
    await transport.send(HttpRequest("GET", w.url, {}, b""), LIMITS, "t")
    assert [r.split(b" ", 1)[0] for r in w.connections[0]] == [b"POST", b"GET"]


async def test_a_kept_connection_that_fails_unanswered_is_one_failed_attempt(
    transport: Transport,
) -> None:
    """The server reads the second request on the kept connection and hangs
    up without a byte of answer: a retryable failure for the gateway to
    retry or fail over (never a silent second send, which would hide the
    failure from the log and the endpoint statistics); the next request
    opens a new connection."""
    w = await wire(lambda c, n, r: None if (c, n) == (0, 1) else OK)
    assert (await transport.send(post(w.url), LIMITS, "t")).status == 200
    with pytest.raises(UpstreamError, match="failed before a response") as caught:
        await transport.send(post(w.url), LIMITS, "t")
    assert caught.value.retryable
    assert (await transport.send(post(w.url), LIMITS, "t")).status == 200
    assert [len(c) for c in w.connections] == [2, 1]


async def test_a_new_connection_that_closes_unanswered_is_a_retryable_failure(
    transport: Transport,
) -> None:
    w = await wire(lambda c, n, r: None)
    with pytest.raises(UpstreamError, match="failed before a response") as caught:
        await transport.send(post(w.url), LIMITS, "t")
    assert caught.value.retryable  # the gateway may fail over
    assert len(w.connections) == 1


async def test_a_half_answer_then_a_hang_up_is_not_retried(transport: Transport) -> None:
    """Bytes of an answer arrived: sending again could run the request twice."""
    half = b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n{"
    w = await wire(lambda c, n, r: OK if n == 0 else half)
    w.close_after = {(0, 1)}
    await transport.send(post(w.url), LIMITS, "t")
    with pytest.raises(UpstreamError, match="cut mid-response"):
        await transport.send(post(w.url), LIMITS, "t")
    assert [len(c) for c in w.connections] == [2]


async def test_the_pool_bounds_the_connections_open_at_once() -> None:
    w = await wire(lambda c, n, r: OK)
    transport = Transport(pool_size=2)
    try:
        replies = await asyncio.gather(
            *(transport.send(post(w.url), LIMITS, "t") for _ in range(20))
        )
    finally:
        await transport.close()
    assert [r.status for r in replies] == [200] * 20
    assert w.most_open <= 2
    assert sum(len(c) for c in w.connections) == 20


async def test_gzip_and_deflate_answers_are_decoded(transport: Transport) -> None:
    body = b'{"text": "' + b"compressible " * 500 + b'"}'
    for encoding, packed in (
        ("gzip", gzip.compress(body)),
        ("deflate", zlib.compress(body)),
    ):
        answer = (
            f"HTTP/1.1 200 OK\r\ncontent-encoding: {encoding}\r\n"
            f"content-length: {len(packed)}\r\n\r\n"
        ).encode() + packed
        w = await wire(lambda c, n, r, a=answer: a)
        reply = await transport.send(post(w.url), LIMITS, "t")
        assert reply.body == body
        request = w.connections[0][0].lower()
        assert b"accept-encoding: gzip, deflate" in request


async def test_a_decompression_bomb_is_cut_not_inflated(transport: Transport) -> None:
    packed = gzip.compress(b"\0" * (64 * 1024 * 1024))  # 64 MiB of zeros in ~64 KiB
    answer = (
        f"HTTP/1.1 200 OK\r\ncontent-encoding: gzip\r\ncontent-length: {len(packed)}\r\n\r\n"
    ).encode() + packed
    w = await wire(lambda c, n, r: answer)
    with pytest.raises(UpstreamError) as caught:
        await transport.send(post(w.url), Limits(2, 2, 10, max_body=1024 * 1024 * 1024), "t")
    assert caught.value.status == 502


async def test_a_body_that_ends_with_the_connection_is_read_whole(transport: Transport) -> None:
    answer = b"HTTP/1.1 200 OK\r\nconnection: close\r\n\r\n" + b"x" * 100_000
    w = await wire(lambda c, n, r: answer if n == 0 else None)
    w.close_after = {(0, 0), (1, 0)}
    reply = await transport.send(post(w.url), LIMITS, "t")
    assert reply.body == b"x" * 100_000
    assert (await transport.send(post(w.url), LIMITS, "t")).body == b"x" * 100_000
    assert len(w.connections) == 2  # "connection: close" is not kept


async def test_a_chunked_stream_arrives_chunk_by_chunk(transport: Transport) -> None:
    events = [b"data: %d\n\n" % i for i in range(5)]
    answer = b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n"
    answer += b"".join(b"%x\r\n%s\r\n" % (len(e), e) for e in events) + b"0\r\n\r\n"
    w = await wire(lambda c, n, r: answer)
    async with await transport.open(post(w.url), LIMITS, "t") as reply:
        data = b"".join([c async for c in reply.chunks()])
    assert data == b"".join(events)
    # Read to its end, the connection went back to the pool.
    await transport.send(post(w.url), LIMITS, "t")
    assert len(w.connections) == 1


@pytest.mark.parametrize(
    "headers",
    [{"x-evil": "a\r\nx-injected: 1"}, {"x-evil\r\nx-injected": "1"}, {"bad:name": "1"}],
    ids=["line break in a value", "line break in a name", "colon in a name"],
)
async def test_a_header_that_would_split_the_request_is_refused(
    transport: Transport, headers: dict[str, str]
) -> None:
    w = await wire(lambda c, n, r: OK)
    with pytest.raises(UpstreamError, match="cannot be sent") as caught:
        await transport.send(post(w.url, **headers), LIMITS, "dep")
    assert caught.value.status == 502
    assert w.connections == []  # nothing was sent


async def test_a_head_that_never_ends_is_cut(transport: Transport) -> None:
    endless = b"HTTP/1.1 200 OK\r\nx-long: " + b"a" * (2 * 1024 * 1024)
    w = await wire(lambda c, n, r: endless)
    with pytest.raises(UpstreamError) as caught:
        await transport.send(post(w.url), LIMITS, "t")
    assert caught.value.status == 502


async def test_no_head_before_the_first_token_timeout(transport: Transport) -> None:
    async def never(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(65536)
        await asyncio.sleep(5)
        writer.close()

    server = await asyncio.start_server(never, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    with pytest.raises(UpstreamError, match="first-token timeout"):
        await transport.send(post(f"http://127.0.0.1:{port}/"), Limits(2, 0.2, 10), "t")
    server.close()


async def test_an_unreachable_upstream_is_a_connect_failure(transport: Transport) -> None:
    with pytest.raises(UpstreamError, match="could not connect") as caught:
        await transport.send(post("http://127.0.0.1:9/"), LIMITS, "t")
    assert caught.value.retryable
