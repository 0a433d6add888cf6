"""Clients that go away or stop reading: the upstream call is cancelled,
memory stays bounded."""

from __future__ import annotations

import asyncio
import socket

import uvicorn
from aiohttp import web

from _front import (
    Upstream,
    chat_request,
    connect,
    endless_stream,
    fake_upstream,
    hang,
    models_at,
    serving,
)
from _serving import serve_on_loopback
from junction.server.app import create_app


async def test_a_client_gone_during_a_plain_request_cancels_the_upstream_call() -> None:
    """The upstream never answers (first_token is 120 s): the client's
    going away must close the upstream request within a bound."""
    async with fake_upstream(hang) as upstream, serving(models_at(upstream.url)) as front:
        _, writer = await connect(front.port)
        writer.write(chat_request(stream=False))
        await asyncio.wait_for(upstream.received.wait(), 5)
        await asyncio.sleep(0.1)
        assert front.in_flight == 1
        writer.close()
        loop = asyncio.get_running_loop()
        gone = loop.time()
        await asyncio.wait_for(upstream.closed.wait(), 5)
        assert loop.time() - gone < 5  # first_token would have waited 120 s
        for _ in range(50):
            if front.in_flight == 0:
                break
            await asyncio.sleep(0.02)
        assert front.in_flight == 0


async def test_a_client_gone_during_a_stream_cancels_the_upstream_call() -> None:
    async with (
        fake_upstream(endless_stream) as upstream,
        serving(models_at(upstream.url)) as front,
    ):
        reader, writer = await connect(front.port)
        writer.write(chat_request(stream=True))
        await reader.readuntil(b"data: ")
        writer.close()
        await asyncio.wait_for(upstream.closed.wait(), 5)


async def test_a_stream_nobody_reads_stops_the_upstream_instead_of_buffering() -> None:
    """A client that asks for an endless stream and reads nothing: the
    gateway's writes stall, so it stops reading the upstream. What the
    upstream managed to send stays at the socket buffers' size, where an
    unbounded relay would have taken hundreds of MB in the same time."""
    async with (
        fake_upstream(endless_stream) as upstream,
        serving(models_at(upstream.url), write_timeout=30) as front,
    ):
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
        sock.setblocking(False)
        await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", front.port))
        reader, writer = await asyncio.open_connection(sock=sock)
        writer.write(chat_request(stream=True))
        await asyncio.wait_for(upstream.received.wait(), 5)
        transport = writer.transport
        transport.pause_reading()  # read nothing from here on
        # The socket buffers on the way fill (a few MB on loopback), then
        # the upstream is stalled: nothing more for half a second.
        sent, stalled = 0, False
        for _ in range(40):
            await asyncio.sleep(0.5)
            stalled = upstream.bytes_sent - sent < 64 * 1024
            sent = upstream.bytes_sent
            if stalled:
                break
        assert stalled, sent
        assert sent < 32 * 1024 * 1024, sent
        stalled_at = upstream.bytes_sent
        # Reading again lets it flow again.
        transport.resume_reading()
        await reader.readexactly(4 * 1024 * 1024)
        assert upstream.bytes_sent > stalled_at
        writer.close()
        await asyncio.wait_for(upstream.closed.wait(), 5)


async def test_a_client_that_stops_reading_is_dropped_after_the_write_timeout() -> None:
    async with (
        fake_upstream(endless_stream) as upstream,
        serving(models_at(upstream.url), write_timeout=0.5) as front,
    ):
        _, writer = await connect(front.port)
        writer.write(chat_request(stream=True))
        await asyncio.wait_for(upstream.received.wait(), 5)
        writer.transport.pause_reading()
        # The gateway gives up on the client and so cancels the upstream stream.
        await asyncio.wait_for(upstream.closed.wait(), 5)
        for _ in range(50):
            if front.connections == 0:
                break
            await asyncio.sleep(0.02)
        assert front.connections == 0
        writer.close()


async def test_under_plain_uvicorn_a_gone_client_still_cancels_the_upstream_call() -> None:
    """Another ASGI server has no junction.disconnect extension: the app
    watches receive() for http.disconnect instead."""
    async with fake_upstream(hang) as upstream:
        app = create_app(models_at(upstream.url))
        config = uvicorn.Config(app, lifespan="on", log_level="warning", http="h11")
        server = uvicorn.Server(config)
        task, port = await serve_on_loopback(server)
        try:
            _, writer = await connect(port)
            writer.write(chat_request(stream=False))
            await asyncio.wait_for(upstream.received.wait(), 5)
            writer.close()
            await asyncio.wait_for(upstream.closed.wait(), 5)
        finally:
            server.should_exit = True
            await task


async def big_answer(request: web.Request, state: Upstream) -> web.StreamResponse:
    message = {"role": "assistant", "content": "y" * (4 * 1024 * 1024)}
    choice = {"index": 0, "message": message, "finish_reason": "stop"}
    usage = {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}
    body = {"id": "c", "object": "chat.completion", "created": 1, "model": "m"}
    return web.json_response({**body, "choices": [choice], "usage": usage})


async def test_a_slow_reader_that_keeps_reading_is_not_dropped() -> None:
    """4 MB read at about 1 MB/s takes seconds, far past a 0.5 s
    write_timeout: the timeout is for no progress, not for slowness."""
    async with (
        fake_upstream(big_answer) as upstream,
        serving(models_at(upstream.url), write_timeout=0.5) as front,
    ):
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
        sock.setblocking(False)
        loop = asyncio.get_running_loop()
        await loop.sock_connect(sock, ("127.0.0.1", front.port))
        reader, writer = await asyncio.open_connection(sock=sock, limit=64 * 1024)
        writer.write(chat_request())
        await upstream.received.wait()
        # Small kernel buffers on the server's side too, so what the client
        # reads shows as progress at once (the kernel would otherwise take
        # up to 4 MB and wake the writer only when a third of it is free).
        (protocol,) = front.server.server_state.connections
        server_socket = protocol.transport.get_extra_info("socket")
        server_socket.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 64 * 1024)
        started = loop.time()
        answer = b""
        while chunk := await reader.read(64 * 1024):
            answer += chunk
            await asyncio.sleep(0.05)
        writer.close()
        assert loop.time() - started > 1.5  # it was slow
        assert answer.startswith(b"HTTP/1.1 200")
        assert len(answer) > 4 * 1024 * 1024, len(answer)
        assert answer.endswith(b"}")
