"""The front door's HTTP/1.1, driven through the connection protocol with a
recording transport: what goes on the wire for each kind of answer, how
requests on one connection are run, and what an app's failures become."""

from __future__ import annotations

import asyncio
import contextvars
import logging
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import pytest
from uvicorn.server import ServerState

from junction.config import Server
from junction.server.protocol import FrontDoor, FrontDoorConfig, LimitedHttpProtocol

App = Callable[[dict[str, Any], Any, Any], Awaitable[None]]

GET = b"GET /x HTTP/1.1\r\nHost: h\r\n\r\n"


class Wire:
    """A transport that records each write and closes as a socket would."""

    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.closing = False
        self.eof = False
        self.protocol: LimitedHttpProtocol | None = None

    def write(self, data: bytes) -> None:
        if not self.closing:
            self.writes.append(bytes(data))

    def close(self) -> None:
        if not self.closing:
            self.closing = True
            assert self.protocol is not None
            asyncio.get_running_loop().call_soon(self.protocol.connection_lost, None)

    abort = close

    def is_closing(self) -> bool:
        return self.closing

    def can_write_eof(self) -> bool:
        return True

    def write_eof(self) -> None:
        self.eof = True

    def get_write_buffer_size(self) -> int:
        return 0

    reading = True

    def pause_reading(self) -> None:
        self.reading = False

    def resume_reading(self) -> None:
        self.reading = True

    def get_extra_info(self, key: str, default: Any = None) -> Any:
        return {"sockname": ("127.0.0.1", 4000), "peername": ("127.0.0.1", 5555)}.get(key)

    @property
    def data(self) -> bytes:
        return b"".join(self.writes)


class Connection:
    def __init__(self, app: App, **limits: Any) -> None:
        config = FrontDoorConfig(
            app, FrontDoor(Server(**limits)), lifespan="off", proxy_headers=False, log_config=None
        )
        self.state = ServerState()
        self.protocol = LimitedHttpProtocol(config, self.state, {"shared": "lifespan"})
        self.wire = Wire()
        self.wire.protocol = self.protocol
        self.protocol.connection_made(self.wire)  # type: ignore[arg-type]

    async def feed(self, data: bytes, settle: int = 20) -> bytes:
        """Send ``data``, let the worker run, and return what was written since."""
        before = len(self.wire.writes)
        self.protocol.data_received(data)
        for _ in range(settle):
            await asyncio.sleep(0)
        return b"".join(self.wire.writes[before:])


class Logged(logging.Handler):
    """What is logged on ``uvicorn.error``, where the protocol logs an
    app's failure (uvicorn's logger does not reach caplog's root handler)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    @property
    def text(self) -> str:
        lines = []
        for record in self.records:
            lines.append(record.getMessage())
            if record.exc_info and record.exc_info[1] is not None:
                lines.append(repr(record.exc_info[1]))
        return "\n".join(lines)


@pytest.fixture
def logged() -> Iterator[Logged]:
    handler = Logged()
    logger = logging.getLogger("uvicorn.error")
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)


async def answer(scope: dict[str, Any], receive: Any, send: Any) -> None:
    body = b""
    more = True
    while more:
        message = await receive()
        body += message.get("body", b"")
        more = message.get("more_body", False)
    text = scope["method"].encode() + b" " + scope["path"].encode() + b" " + body
    headers = [(b"content-type", b"text/plain"), (b"content-length", str(len(text)).encode())]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": text})


async def test_a_plain_answer_is_one_write_with_the_default_headers_first() -> None:
    conn = Connection(answer)
    conn.state.default_headers = [(b"date", b"today"), (b"server", b"junction")]
    out = await conn.feed(GET)
    assert len(conn.wire.writes) == 1
    assert out.startswith(b"HTTP/1.1 200 OK\r\ndate: today\r\nserver: junction\r\n")
    assert out.endswith(b"\r\n\r\nGET /x ")
    assert conn.state.total_requests == 1


async def test_requests_on_one_connection_run_in_one_task_in_order() -> None:
    tasks: list[asyncio.Task[Any] | None] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        tasks.append(asyncio.current_task())
        await answer(scope, receive, send)

    conn = Connection(app)
    pipelined = b"".join(b"GET /%d HTTP/1.1\r\nHost: h\r\n\r\n" % n for n in range(3))
    out = await conn.feed(pipelined)
    assert out.count(b"HTTP/1.1 200 OK") == 3
    assert out.index(b"GET /0 ") < out.index(b"GET /1 ") < out.index(b"GET /2 ")
    await conn.feed(GET)
    assert len(tasks) == 4
    assert len(set(tasks)) == 1  # one worker for the connection, not a task per request
    assert conn.state.total_requests == 4
    assert not conn.state.tasks  # nothing in flight between requests


async def test_scope_is_per_request_and_state_a_copy() -> None:
    scopes: list[dict[str, Any]] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        scopes.append(scope)
        scope["state"]["mine"] = len(scopes)
        await answer(scope, receive, send)

    conn = Connection(app)
    await conn.feed(b"GET /a%20b?q=1 HTTP/1.1\r\nHost: h\r\nX-Thing: v  \t\r\n\r\n")
    await conn.feed(GET)
    first, second = scopes
    assert first["path"] == "/a b"
    assert first["raw_path"] == b"/a%20b"
    assert first["query_string"] == b"q=1"
    assert (b"x-thing", b"v") in first["headers"]
    assert first["client"] == ("127.0.0.1", 5555)
    assert first["server"] == ("127.0.0.1", 4000)
    assert first["scheme"] == "http"
    assert first["http_version"] == "1.1"
    assert first["state"] == {"shared": "lifespan", "mine": 1}
    assert second["state"] == {"shared": "lifespan", "mine": 2}
    assert "junction.disconnect" in first["extensions"]


async def test_no_content_length_is_chunked_head_has_no_body_204_no_framing() -> None:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        status = 204 if scope["path"] == "/empty" else 200
        await send({"type": "http.response.start", "status": status, "headers": []})
        if status == 204:
            await send({"type": "http.response.body", "body": b""})
            return
        await send({"type": "http.response.body", "body": b"ab", "more_body": True})
        await send({"type": "http.response.body", "body": b"c", "more_body": False})

    conn = Connection(app)
    out = await conn.feed(GET)
    assert b"transfer-encoding: chunked\r\n" in out
    assert out.endswith(b"\r\n\r\n2\r\nab\r\n1\r\nc\r\n0\r\n\r\n")
    assert len(conn.wire.writes) == 2  # head and first body together, then the rest
    out = await conn.feed(b"HEAD /x HTTP/1.1\r\nHost: h\r\n\r\n")
    assert out.endswith(b"\r\n\r\n")
    assert b"transfer-encoding" not in out
    out = await conn.feed(b"GET /empty HTTP/1.1\r\nHost: h\r\n\r\n")
    assert out.startswith(b"HTTP/1.1 204 No Content\r\n")
    assert b"transfer-encoding" not in out
    assert b"content-length" not in out


async def test_connection_close_both_ways_and_http10() -> None:
    conn = Connection(answer)
    out = await conn.feed(b"GET /x HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")
    assert b"connection: close\r\n" in out
    assert conn.wire.closing

    async def closing(scope: dict[str, Any], receive: Any, send: Any) -> None:
        headers = [(b"content-length", b"2"), (b"Connection", b"Close")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b"ok"})

    conn = Connection(closing)
    await conn.feed(GET)
    assert conn.wire.closing

    conn = Connection(answer)
    out = await conn.feed(b"GET /x HTTP/1.0\r\n\r\n")
    assert b"connection: close\r\n" in out
    assert conn.wire.closing
    conn = Connection(answer)
    out = await conn.feed(b"GET /x HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
    assert b"connection: keep-alive\r\n" in out
    assert not conn.wire.closing


async def test_100_continue_is_sent_when_the_app_first_asks_for_the_body() -> None:
    asked = asyncio.Event()
    go = asyncio.Event()

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await go.wait()
        asked.set()
        await answer(scope, receive, send)

    conn = Connection(app)
    head = b"POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n"
    assert await conn.feed(head) == b""
    go.set()
    out = await conn.feed(b"")
    assert out == b"HTTP/1.1 100 Continue\r\n\r\n"
    out = await conn.feed(b"abc")
    assert out.endswith(b"POST /x abc")


async def test_a_body_in_many_reads_comes_in_many_messages() -> None:
    messages: list[dict[str, Any]] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        while True:
            messages.append(await receive())
            if not messages[-1]["more_body"]:
                break
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    conn = Connection(app)
    await conn.feed(b"POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 6\r\n\r\nab")
    await conn.feed(b"cd")
    await conn.feed(b"ef")
    assert b"".join(m["body"] for m in messages) == b"abcdef"
    assert len(messages) == 3


@pytest.mark.parametrize(
    ("name", "value"),
    [(b"x-ok\r\nx-evil", b"1"), (b"x-ok", b"1\r\nx-evil: 2"), (b"x-ok", b"a\x00b")],
)
async def test_header_injection_is_refused(name: bytes, value: bytes, logged: Logged) -> None:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        headers = [(name, value), (b"content-length", b"0")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b""})

    conn = Connection(app)
    out = await conn.feed(GET)
    assert b"x-evil" not in out
    assert out.startswith(b"HTTP/1.1 500 ")
    assert "Invalid HTTP header" in logged.text


async def test_content_length_mismatches_raise() -> None:
    raised: list[str] = []

    def app_sending(body: bytes, more: bool = False) -> App:
        async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
            headers = [(b"content-length", b"3")]
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            try:
                await send({"type": "http.response.body", "body": body, "more_body": more})
            except RuntimeError as exc:
                raised.append(str(exc))
                raise

        return app

    await Connection(app_sending(b"toolong")).feed(GET)
    await Connection(app_sending(b"ab")).feed(GET)
    assert raised == [
        "Response content longer than Content-Length",
        "Response content shorter than Content-Length",
    ]


async def test_an_app_failing_before_its_answer_gets_500_and_is_logged(
    logged: Logged,
) -> None:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        # Started, but failed before the body: the held head never left.
        await send({"type": "http.response.start", "status": 200, "headers": []})
        raise ValueError("boom")

    conn = Connection(app)
    out = await conn.feed(GET)
    assert out.startswith(b"HTTP/1.1 500 Internal Server Error\r\n")
    assert b"connection: close\r\n" in out
    assert out.endswith(b"Internal Server Error")
    assert conn.wire.closing
    assert "Exception in ASGI application" in logged.text
    assert "boom" in logged.text


async def test_an_app_failing_after_its_answer_started_closes_the_connection(
    logged: Logged,
) -> None:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"part", "more_body": True})
        raise ValueError("mid-answer")

    conn = Connection(app)
    out = await conn.feed(GET)
    assert out.startswith(b"HTTP/1.1 200 OK")
    assert b"500" not in out
    assert conn.wire.closing
    assert "mid-answer" in logged.text


async def test_a_client_gone_cancels_the_armed_worker_and_nothing_is_logged(
    logged: Logged,
) -> None:
    cancelled = asyncio.Event()

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await receive()
        task = asyncio.current_task()
        assert task is not None
        scope["extensions"]["junction.disconnect"].arm(task)
        try:
            await asyncio.Event().wait()  # an upstream call that never ends
        except asyncio.CancelledError:
            cancelled.set()
            raise

    conn = Connection(app)
    await conn.feed(GET)
    assert len(conn.state.tasks) == 1
    (worker,) = conn.state.tasks
    conn.wire.close()
    await asyncio.wait_for(cancelled.wait(), 1)
    await asyncio.wait_for(asyncio.wait([worker]), 1)
    assert worker.done()
    assert not conn.state.tasks
    assert not conn.state.connections
    assert not logged.records


async def test_a_context_variable_set_by_one_request_is_not_seen_by_the_next() -> None:
    var: contextvars.ContextVar[str] = contextvars.ContextVar("var", default="unset")
    seen: list[str] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        seen.append(var.get())
        var.set(scope["path"])
        await answer(scope, receive, send)

    conn = Connection(app)
    await conn.feed(b"GET /1 HTTP/1.1\r\nHost: h\r\n\r\nGET /2 HTTP/1.1\r\nHost: h\r\n\r\n")
    await conn.feed(GET)
    assert seen == ["unset", "unset", "unset"]
    assert conn.state.total_requests == 3


async def test_a_second_start_before_the_body_replaces_the_held_head() -> None:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        headers = [(b"content-length", b"2")]
        await send({"type": "http.response.start", "status": 201, "headers": headers})
        await send({"type": "http.response.body", "body": b"ok"})

    conn = Connection(app)
    out = await conn.feed(GET)
    assert out.startswith(b"HTTP/1.1 201 Created\r\n")
    assert b"transfer-encoding" not in out
    assert out.endswith(b"\r\n\r\nok")


async def test_the_keep_alive_deadline_moves_without_a_timer_per_answer() -> None:
    conn = Connection(answer, keep_alive_timeout=0.3, idle_timeout=0.3)
    timers: list[object] = []
    for _ in range(5):
        await conn.feed(GET)
        timers.append(conn.protocol._timer)  # the one timer: what this test is about
        await asyncio.sleep(0.05)
    assert len({id(t) for t in timers}) == 1  # the same timer, deadline moved
    await asyncio.sleep(0.6)
    assert conn.wire.closing  # and it still closes the idle connection


async def test_an_http10_answer_without_length_ends_with_the_connection() -> None:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ab", "more_body": True})
        await send({"type": "http.response.body", "body": b"c"})

    conn = Connection(app)
    out = await conn.feed(b"GET /x HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
    assert b"transfer-encoding" not in out  # a 1.0 client cannot read chunks
    assert b"connection: close\r\n" in out
    assert out.endswith(b"\r\n\r\nabc")
    assert conn.wire.closing


async def test_a_client_gone_before_the_handler_arms_is_cancelled_at_arm() -> None:
    gone = asyncio.Event()
    outcome: list[str] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await receive()  # the whole body
        await gone.wait()  # the client goes away here
        signal = scope["extensions"]["junction.disconnect"]
        task = asyncio.current_task()
        assert task is not None
        signal.arm(task)
        try:
            await asyncio.sleep(5)
            outcome.append("ran on")
        except asyncio.CancelledError:
            outcome.append("cancelled" if signal.fired else "cancelled, not fired")
            raise

    conn = Connection(app)
    await conn.feed(GET)
    conn.wire.close()
    await asyncio.sleep(0)
    gone.set()
    for _ in range(20):
        await asyncio.sleep(0)
    assert outcome == ["cancelled"]
    assert not conn.state.tasks


async def test_reading_pauses_past_the_high_water_mark_until_the_app_reads() -> None:
    go = asyncio.Event()
    got: list[int] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await go.wait()
        more = True
        while more:
            message = await receive()
            got.append(len(message["body"]))
            more = message["more_body"]
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    conn = Connection(app)
    size = 200 * 1024
    await conn.feed(b"POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: %d\r\n\r\n" % size)
    await conn.feed(b"z" * (100 * 1024))
    assert not conn.wire.reading  # 100 KiB unread: the socket is left alone
    go.set()
    await conn.feed(b"")
    assert conn.wire.reading  # the app took it: read on
    out = await conn.feed(b"z" * (100 * 1024))
    assert sum(got) == size
    assert out.startswith(b"HTTP/1.1 204 ")
