"""The transport against small aiohttp servers on loopback: body caps, the
idle timeout between reads, one timer per attempt."""

from __future__ import annotations

import asyncio
import socket
import time
import tracemalloc
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from aiohttp import web

from junction.transport import Limits, Transport
from junction.transport.http import StreamReply
from junction.types import HttpRequest, UpstreamError

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
KIB = 1024


async def serve(handler: Handler) -> tuple[web.AppRunner, str]:
    app = web.Application()
    app.router.add_post("/", handler)
    runner = web.AppRunner(app, shutdown_timeout=0.5)
    await runner.setup()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    await web.SockSite(runner, sock).start()
    return runner, f"http://127.0.0.1:{sock.getsockname()[1]}/"


@pytest.fixture
async def transport() -> AsyncIterator[Transport]:
    t = Transport()
    yield t
    await t.close()


def limits(**kw: float) -> Limits:
    idle = kw.pop("idle", None)
    max_body = int(kw.pop("max_body", 64 * KIB))
    return Limits(2, 2, kw.pop("total", 10), idle=idle, max_body=max_body)


async def endless(request: web.Request) -> web.StreamResponse:
    """A chunked body that never ends (until the client hangs up)."""
    response = web.StreamResponse()
    await response.prepare(request)
    sent = 0  # bytes written
    try:
        while sent < 256 * 1024 * KIB:
            await response.write(b"x" * (16 * KIB))
            sent += 16 * KIB
    except (ConnectionResetError, RuntimeError, OSError):
        pass
    return response


async def test_a_declared_oversized_body_is_refused_before_reading(
    transport: Transport,
) -> None:
    async def big(request: web.Request) -> web.Response:
        return web.Response(body=b"x" * (256 * KIB))

    runner, url = await serve(big)
    try:
        with pytest.raises(UpstreamError) as caught:
            await transport.send(HttpRequest("POST", url, {}, b"{}"), limits(), "big")
    finally:
        await runner.cleanup()
    assert caught.value.status == 502
    assert caught.value.retryable
    assert "larger than junction's limit of 65536 bytes (limits.max_body_bytes)" in str(
        caught.value
    )


async def test_an_endless_body_is_cut_at_the_limit_with_bounded_memory(
    transport: Transport,
) -> None:
    runner, url = await serve(endless)
    tracemalloc.start()
    try:
        with pytest.raises(UpstreamError, match=r"limits\.max_body_bytes"):
            await transport.send(
                HttpRequest("POST", url, {}, b"{}"), limits(max_body=1024 * KIB), "endless"
            )
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        await runner.cleanup()
    # At most the limit, a read's worth past it, and the joined copy never made.
    assert peak < 4 * 1024 * KIB


async def drain(reply: StreamReply, into: list[bytes]) -> None:
    async for chunk in reply.chunks():
        into.append(chunk)


async def test_a_stall_after_two_chunks_is_an_idle_timeout(transport: Transport) -> None:
    async def stall(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        await response.prepare(request)
        await response.write(b"one")
        await asyncio.sleep(0.05)
        await response.write(b"two")
        await asyncio.sleep(5)
        return response

    runner, url = await serve(stall)
    got: list[bytes] = []
    started = time.monotonic()
    try:
        reply = await transport.open(HttpRequest("POST", url, {}, b""), limits(idle=0.3), "st")
        async with reply:
            with pytest.raises(UpstreamError) as caught:
                await drain(reply, got)
            elapsed = time.monotonic() - started
    finally:
        await runner.cleanup()  # waits for the stalled handler
    assert b"".join(got) == b"onetwo"
    assert caught.value.kind == "timeout"
    assert caught.value.status == 504
    assert "sent nothing for 0.3 s mid-response (the idle timeout)" in caught.value.message
    assert 0.3 <= elapsed < 3


async def test_a_whole_body_that_stalls_is_an_idle_timeout(transport: Transport) -> None:
    async def half(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"content-type": "application/json"})
        await response.prepare(request)
        await response.write(b'{"id": "x", ')
        await asyncio.sleep(5)
        return response

    runner, url = await serve(half)
    started = time.monotonic()
    try:
        with pytest.raises(UpstreamError, match="the idle timeout"):
            await transport.send(HttpRequest("POST", url, {}, b""), limits(idle=0.3), "half")
        elapsed = time.monotonic() - started
    finally:
        await runner.cleanup()
    assert elapsed < 3


async def test_a_slow_but_steady_stream_is_not_idle(transport: Transport) -> None:
    async def steady(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        await response.prepare(request)
        for _ in range(12):  # 1.2 s in all, never silent for 0.3 s
            await response.write(b".")
            await asyncio.sleep(0.1)
        return response

    runner, url = await serve(steady)
    try:
        reply = await transport.open(HttpRequest("POST", url, {}, b""), limits(idle=0.3), "ok")
        async with reply:
            body = b"".join([c async for c in reply.chunks()])
    finally:
        await runner.cleanup()
    assert body == b"." * 12


async def test_a_slow_but_steady_whole_body_is_not_idle(transport: Transport) -> None:
    """A whole-body read (``send``) notes every read for the idle timeout too."""

    async def steady(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"content-type": "application/json"})
        await response.prepare(request)
        for _ in range(12):  # 1.2 s in all, never silent for 0.3 s
            await response.write(b" ")
            await asyncio.sleep(0.1)
        await response.write(b"{}")
        return response

    runner, url = await serve(steady)
    try:
        reply = await transport.send(HttpRequest("POST", url, {}, b""), limits(idle=0.3), "ok")
    finally:
        await runner.cleanup()
    assert reply.body == b" " * 12 + b"{}"


async def test_the_total_timeout_still_applies_with_an_idle_timeout(
    transport: Transport,
) -> None:
    async def trickle(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        await response.prepare(request)
        for _ in range(100):
            await response.write(b".")
            await asyncio.sleep(0.05)
        return response

    runner, url = await serve(trickle)
    try:
        reply = await transport.open(
            HttpRequest("POST", url, {}, b""), limits(idle=0.3, total=0.5), "t"
        )
        async with reply:
            with pytest.raises(UpstreamError, match="total timeout"):
                async for _ in reply.chunks():
                    pass
    finally:
        await runner.cleanup()


async def test_reads_arm_no_timer(transport: Transport, monkeypatch: pytest.MonkeyPatch) -> None:
    """One timer per attempt: a fast stream of many reads never wakes it."""
    checks = 0
    original = StreamReply._check

    def counting(self: StreamReply) -> None:
        nonlocal checks
        checks += 1
        original(self)

    monkeypatch.setattr(StreamReply, "_check", counting)

    async def fast(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        await response.prepare(request)
        for _ in range(2000):
            await response.write(b"x" * 64)
            await asyncio.sleep(0)
        return response

    runner, url = await serve(fast)
    reads = 0
    try:
        reply = await transport.open(HttpRequest("POST", url, {}, b""), limits(idle=30), "f")
        async with reply:
            async for _ in reply.chunks():
                reads += 1
    finally:
        await runner.cleanup()
    assert reads > 10
    assert checks == 0


@pytest.mark.parametrize(
    "headers",
    [{"x-big": "a" * 20_000}, {f"x-{i}": "a" for i in range(5_000)}],
    ids=["one huge header", "thousands of headers"],
)
async def test_an_upstream_header_flood_is_a_502(
    transport: Transport, headers: dict[str, str]
) -> None:
    async def flood(request: web.Request) -> web.Response:
        return web.Response(text="{}", headers=headers)

    runner, url = await serve(flood)
    try:
        with pytest.raises(UpstreamError) as caught:
            await transport.send(HttpRequest("POST", url, {}, b""), limits(), "flood")
    finally:
        await runner.cleanup()
    assert caught.value.status == 502
    assert caught.value.retryable
