"""Connections: idle and keep-alive timeouts, the connection and request caps."""

from __future__ import annotations

import asyncio

from aiohttp import web

from _front import (
    Upstream,
    chat_request,
    connect,
    error_message,
    exchange,
    fake_upstream,
    header_of,
    models_at,
    read_all,
    serving,
    status_of,
    unreachable_upstream,
)

HEALTH = b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"


async def test_a_silent_connection_is_closed_after_the_idle_timeout() -> None:
    async with serving(unreachable_upstream(), idle_timeout=0.3) as front:
        reader, writer = await connect(front.port)
        loop = asyncio.get_running_loop()
        started = loop.time()
        assert await read_all(reader, within=5) == b""  # closed without a word
        assert 0.2 < loop.time() - started < 5.0
        writer.close()


async def test_an_idle_keep_alive_connection_is_closed() -> None:
    async with serving(unreachable_upstream(), keep_alive_timeout=0.3, idle_timeout=30) as front:
        reader, writer = await connect(front.port)
        writer.write(HEALTH)
        head = await reader.readuntil(b"\r\n\r\n")
        assert status_of(head) == 200
        loop = asyncio.get_running_loop()
        started = loop.time()
        rest = await read_all(reader, within=5)  # the body, then the close
        assert rest.endswith(b"}")
        assert 0.2 < loop.time() - started < 5.0
        writer.close()


async def test_two_thousand_idle_connections_are_all_closed_by_the_idle_timeout() -> None:
    async with serving(unreachable_upstream(), idle_timeout=1.0, max_connections=2500) as front:
        opened = await asyncio.gather(*[connect(front.port) for _ in range(2000)])
        # Each is closed by the server (EOF), none by the 20 s wait here.
        ends = await asyncio.gather(*[asyncio.wait_for(reader.read(), 20) for reader, _ in opened])
        assert ends == [b""] * 2000
        for _, writer in opened:
            writer.close()
        for _ in range(100):
            if front.connections == 0:
                break
            await asyncio.sleep(0.05)
        assert front.connections == 0


async def test_one_connection_over_the_cap_gets_503() -> None:
    async with serving(unreachable_upstream(), max_connections=5) as front:
        held = [await connect(front.port) for _ in range(5)]
        await asyncio.sleep(0.1)
        reader, writer = await connect(front.port)
        answer = await read_all(reader)
        writer.close()
        assert status_of(answer) == 503
        assert "server.max_connections" in error_message(answer)
        assert header_of(answer, "retry-after") == "1"
        # A connection given back makes room.
        held[0][1].close()
        await asyncio.sleep(0.1)
        answer = await exchange(
            front.port, HEALTH.replace(b"\r\n\r\n", b"\r\nconnection: close\r\n\r\n")
        )
        assert status_of(answer) == 200
        for _, w in held[1:]:
            w.close()


async def slow(request: web.Request, state: Upstream) -> web.StreamResponse:
    await asyncio.sleep(1.0)
    body = {
        "id": "c1",
        "object": "chat.completion",
        "created": 1,
        "model": "m",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "late"},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }
    return web.json_response(body)


async def test_requests_over_the_concurrency_cap_get_503() -> None:
    async with (
        fake_upstream(slow) as upstream,
        serving(models_at(upstream.url), max_concurrent_requests=2) as front,
    ):
        slow_ones = [
            asyncio.ensure_future(exchange(front.port, close(chat_request()))) for _ in range(2)
        ]
        await upstream.received.wait()
        await asyncio.sleep(0.1)
        assert front.in_flight == 2
        refused = await exchange(front.port, close(chat_request()))
        assert status_of(refused) == 503
        assert "server.max_concurrent_requests" in error_message(refused)
        assert header_of(refused, "retry-after") == "1"
        answers = await asyncio.gather(*slow_ones)
        assert [status_of(a) for a in answers] == [200, 200]
        # Room again once they are done.
        assert status_of(await exchange(front.port, close(chat_request()))) == 200


def close(request: bytes) -> bytes:
    """The request with ``connection: close`` (so the answer ends with EOF)."""
    return request.replace(b"\r\n", b"\r\nconnection: close\r\n", 1)
