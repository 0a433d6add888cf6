"""Header, request-line and body limits, through raw sockets."""

from __future__ import annotations

import asyncio

from _front import (
    answer_while,
    chat_request,
    connect,
    dribble,
    error_message,
    exchange,
    header_of,
    rss_bytes,
    serving,
    status_of,
    unreachable_upstream,
)

HEALTH = b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n"


async def test_a_header_block_over_the_limit_gets_431() -> None:
    async with serving(unreachable_upstream(), max_header_bytes=4096) as front:
        big = HEALTH + b"x-filler: " + b"a" * 5000 + b"\r\n\r\n"
        answer = await exchange(front.port, big)
        assert status_of(answer) == 431
        assert "server.max_header_bytes" in error_message(answer)
        # Just under the limit is served.
        fits = HEALTH + b"x-filler: " + b"a" * 3000 + b"\r\nconnection: close\r\n\r\n"
        assert status_of(await exchange(front.port, fits)) == 200


async def test_unfinished_headers_are_not_held_in_memory() -> None:
    """Ten connections each sending 40 MB of headers that never end: each
    is answered 431 and dropped; the process does not grow by what they
    sent (before the limit, 400 MB would have been held)."""
    async with serving(unreachable_upstream(), max_header_bytes=16 * 1024) as front:
        line = b"x-more: " + b"b" * 1000 + b"\r\n"

        async def flood() -> bytes:
            reader, writer = await connect(front.port)

            async def send() -> None:
                writer.write(HEALTH)
                try:
                    for _ in range(40 * 1024 // 64):
                        writer.write(line * 64)
                        await writer.drain()
                except (ConnectionError, OSError):
                    pass

            try:
                return await answer_while(send(), reader)
            finally:
                writer.close()

        before = rss_bytes()
        answers = await asyncio.gather(*[flood() for _ in range(10)])
        grown = rss_bytes() - before
        assert [status_of(a) for a in answers] == [431] * 10
        assert grown < 64 * 1024 * 1024, grown


async def test_one_header_line_growing_without_end_is_cut_off() -> None:
    """The parser keeps a header value until its line ends: a value that
    never ends must be stopped by the byte count, not the header count."""
    async with serving(unreachable_upstream(), max_header_bytes=8192) as front:
        reader, writer = await connect(front.port)

        async def send() -> None:
            writer.write(HEALTH + b"x-endless: ")
            try:
                for _ in range(200):
                    writer.write(b"c" * 4096)
                    await writer.drain()
            except (ConnectionError, OSError):
                pass

        answer = await answer_while(send(), reader)
        writer.close()
        assert status_of(answer) == 431


async def test_too_many_header_lines_get_431() -> None:
    async with serving(unreachable_upstream(), max_headers=20) as front:
        many = HEALTH + b"".join(b"x-h%d: v\r\n" % i for i in range(30)) + b"\r\n"
        answer = await exchange(front.port, many)
        assert status_of(answer) == 431
        assert "more than 20 header lines" in error_message(answer)
        few = (
            HEALTH + b"".join(b"x-h%d: v\r\n" % i for i in range(10)) + b"connection: close\r\n\r\n"
        )
        assert status_of(await exchange(front.port, few)) == 200


async def test_a_long_request_target_gets_414() -> None:
    async with serving(unreachable_upstream(), max_url_bytes=1024) as front:
        # Unfinished (the line never ends) and finished (headers and all).
        answer = await exchange(front.port, b"GET /health?" + b"q" * 2000)
        assert status_of(answer) == 414
        assert "server.max_url_bytes" in error_message(answer)
        whole = b"GET /health?" + b"q" * 2000 + b" HTTP/1.1\r\nHost: x\r\n\r\n"
        assert status_of(await exchange(front.port, whole)) == 414
        fits = b"GET /health?" + b"q" * 500 + b" HTTP/1.1\r\nHost: x\r\nconnection: close\r\n\r\n"
        assert status_of(await exchange(front.port, fits)) == 200


async def test_http11_needs_exactly_one_host() -> None:
    async with serving(unreachable_upstream()) as front:
        none = b"GET /health HTTP/1.1\r\nconnection: close\r\n\r\n"
        answer = await exchange(front.port, none)
        assert status_of(answer) == 400
        assert "Host" in error_message(answer)
        two = b"GET /health HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"
        assert status_of(await exchange(front.port, two)) == 400
        # HTTP/1.0 predates Host: still served.
        old = b"GET /health HTTP/1.0\r\n\r\n"
        assert status_of(await exchange(front.port, old)) == 200


async def test_405_names_the_allowed_methods() -> None:
    async with serving(unreachable_upstream()) as front:
        post_only = b"GET /v1/chat/completions HTTP/1.1\r\nHost: x\r\nconnection: close\r\n\r\n"
        answer = await exchange(front.port, post_only)
        assert status_of(answer) == 405
        assert header_of(answer, "allow") == "POST"
        get_only = (
            b"DELETE /api/v1/models/test/chat/endpoints HTTP/1.1\r\nHost: x\r\n"
            b"connection: close\r\n\r\n"
        )
        answer = await exchange(front.port, get_only)
        assert status_of(answer) == 405
        assert header_of(answer, "allow") == "GET"


async def test_a_body_dribbled_past_the_body_timeout_gets_408() -> None:
    async with serving(unreachable_upstream(), body_timeout=0.5) as front:
        request = chat_request()
        head, body = request.split(b"\r\n\r\n", 1)
        reader, writer = await connect(front.port)
        writer.write(head + b"\r\n\r\n")
        loop = asyncio.get_running_loop()
        started = loop.time()
        answer = await answer_while(dribble(writer, body, 0.1), reader)
        writer.close()
        assert status_of(answer) == 408
        assert "server.body_timeout" in error_message(answer)
        assert loop.time() - started < 5.0


async def test_headers_dribbled_past_the_header_timeout_get_408() -> None:
    async with serving(unreachable_upstream(), header_timeout=0.5) as front:
        reader, writer = await connect(front.port)
        loop = asyncio.get_running_loop()
        started = loop.time()
        answer = await answer_while(
            dribble(writer, HEALTH + b"x-slow: " + b"s" * 100, 0.05), reader
        )
        writer.close()
        assert status_of(answer) == 408
        assert "server.header_timeout" in error_message(answer)
        assert loop.time() - started < 5.0


async def test_an_endless_chunked_body_gets_413_and_is_dropped() -> None:
    async with serving(unreachable_upstream(), max_body_bytes=64 * 1024, body_timeout=1.0) as front:
        reader, writer = await connect(front.port)
        writer.write(
            b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n"
            b"content-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n"
        )
        chunk = b"%x\r\n%s\r\n" % (8192, b"z" * 8192)
        loop = asyncio.get_running_loop()
        started = loop.time()

        async def send() -> None:
            try:
                while loop.time() - started < 15:
                    writer.write(chunk)
                    await writer.drain()
                    await asyncio.sleep(0.001)
            except (ConnectionError, OSError):
                pass

        answer = await answer_while(send(), reader)
        writer.close()
        assert status_of(answer) == 413
        # The body timeout ended the connection well before the 15 s the client would go on.
        assert loop.time() - started < 8.0


async def test_malformed_requests_get_400_in_the_error_shape() -> None:
    async with serving(unreachable_upstream()) as front:
        smuggle = (
            b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\ncontent-length: 5\r\n"
            b"transfer-encoding: chunked\r\n\r\n0\r\n\r\n"
        )
        for request in (
            smuggle,
            b"GET /h\xc3\xa9alth HTTP/1.1\r\nHost: x\r\n\r\n",
            b"GARBAGE\r\n\r\n",
        ):
            answer = await exchange(front.port, request)
            assert status_of(answer) == 400, request
            assert "not valid HTTP/1.1" in error_message(answer)
