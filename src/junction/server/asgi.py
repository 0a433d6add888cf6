"""A small ASGI layer: exact-path routing, bounded bodies, direct SSE writes.

Measured in docs/decisions.md: a framework's per-request and per-chunk work
costs about as much as the rest of the gateway, so junction speaks ASGI
itself. What it needs is little: a route table, a bounded body reader,
JSON responses and a streaming response that writes each frame straight to
``send``. Once a request's body is read, a client that goes away cancels
its handler (and so the upstream call), streamed or not.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from typing import Any, Protocol

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

log = logging.getLogger("junction.server")


class TooLarge(Exception):
    def __init__(self, limit: int) -> None:
        super().__init__(limit)
        self.limit = limit


class Disconnected(Exception):
    """The client went away before its request body was read."""


DISCONNECT_EXTENSION = "junction.disconnect"


class DisconnectSignal(Protocol):
    """How a server that sees its client go away tells the app without a
    ``receive`` call per request: found at
    ``scope["extensions"]["junction.disconnect"]`` (junction's front door,
    server/protocol.py, puts itself there; under any other server the app
    uses a :class:`DisconnectWatch`)."""

    @property
    def fired(self) -> bool:
        """Whether the client went away since :meth:`arm`."""
        ...

    def arm(self, task: asyncio.Task[Any]) -> None:
        """Cancel ``task`` if the client goes away (the server keeps
        reading the socket, so it sees the end of it)."""
        ...

    def stop(self) -> None:
        """Cancel nothing any more."""
        ...


class DisconnectWatch:
    """Cancels ``task`` when the client goes away, seen by a task waiting
    on ``receive`` for ``http.disconnect``."""

    __slots__ = ("_watcher",)

    def __init__(self, receive: Receive, task: asyncio.Task[Any]) -> None:
        loop = asyncio.get_running_loop()
        self._watcher = loop.create_task(_cancel_on_disconnect(receive, task))

    @property
    def fired(self) -> bool:
        """Whether the client went away and the task was cancelled for it."""
        return self._watcher.done() and not self._watcher.cancelled()

    def stop(self) -> None:
        self._watcher.cancel()


class Request:
    __slots__ = ("_headers", "params", "principal", "receive", "scope", "watch")

    watch: DisconnectSignal | DisconnectWatch | None

    def __init__(self, scope: Scope, receive: Receive, params: dict[str, str]) -> None:
        self.scope = scope
        self.receive = receive
        self.params = params
        self._headers: dict[str, str] | None = None
        self.principal: Any = None
        """Who is calling, once authenticated (the app's business)."""
        self.watch = None
        """Set once the body is read: from then on a disconnect cancels the handler."""

    @property
    def method(self) -> str:
        method: str = self.scope["method"]
        return method

    @property
    def path(self) -> str:
        path: str = self.scope["path"]
        return path

    @property
    def query(self) -> str:
        raw: bytes = self.scope.get("query_string", b"")
        return raw.decode("latin-1")

    @property
    def headers(self) -> dict[str, str]:
        if self._headers is None:
            self._headers = {
                k.decode("latin-1"): v.decode("latin-1") for k, v in self.scope["headers"]
            }
        return self._headers

    async def body(self, limit: int) -> bytes:
        declared = self.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            raise TooLarge(limit)
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await self.receive()
            if message["type"] == "http.disconnect":
                raise Disconnected
            chunk: bytes = message.get("body", b"")
            if chunk:
                size += len(chunk)
                if size > limit:
                    raise TooLarge(limit)
                chunks.append(chunk)
            if not message.get("more_body", False):
                break
        self.watch_disconnect()
        return chunks[0] if len(chunks) == 1 else b"".join(chunks)

    def watch_disconnect(self) -> DisconnectSignal | DisconnectWatch:
        """Cancel the running task (the handler) if the client goes away.

        Only once nothing more is to be read: a watcher is then the one
        caller of ``receive``."""
        if self.watch is None:
            task = asyncio.current_task()
            assert task is not None
            extensions = self.scope.get("extensions")
            signal: DisconnectSignal | None = (
                extensions.get(DISCONNECT_EXTENSION) if extensions else None
            )
            if signal is not None:
                signal.arm(task)
                self.watch = signal
            else:
                self.watch = DisconnectWatch(self.receive, task)
        return self.watch


class Response:
    __slots__ = ("body", "headers", "status")

    def __init__(
        self,
        body: bytes,
        status: int = 200,
        headers: Iterable[tuple[str, str]] = (),
        media_type: str = "application/json",
    ) -> None:
        self.body = body
        self.status = status
        self.headers = [(b"content-type", media_type.encode())]
        self.headers += [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = [*self.headers, (b"content-length", str(len(self.body)).encode())]
        await send({"type": "http.response.start", "status": self.status, "headers": headers})
        await send({"type": "http.response.body", "body": self.body})


class StreamingResponse:
    """Writes each frame of ``frames`` as it is produced.

    The router sets ``watch`` first: a client that goes away cancels the
    writing task (which closes the upstream call) and ``frames`` is closed.
    ``send`` waits while the client's socket is full, so a slow reader
    slows the producer instead of growing a buffer.

    When ``over()`` says the frame just produced is the last, it goes out
    with ``tail()`` as the end of the body, and then ``frames`` runs to its
    end (its producer's bookkeeping) with the client already answered.
    """

    __slots__ = ("frames", "headers", "over", "status", "tail", "watch")

    watch: DisconnectSignal | DisconnectWatch | None

    def __init__(
        self,
        frames: AsyncIterator[bytes],
        status: int = 200,
        headers: Iterable[tuple[str, str]] = (),
        media_type: str = "text/event-stream",
        tail: Callable[[], bytes] | None = None,
        over: Callable[[], bool] | None = None,
    ) -> None:
        self.frames = frames
        self.tail = tail
        """The last frame, asked for once ``frames`` ends (or is over): it
        goes out in one write with the end of the body."""
        self.over = over
        self.status = status
        self.headers = [(b"content-type", media_type.encode())]
        self.headers += [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers]
        self.watch = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        over, answered = self.over, False
        try:
            await send(
                {"type": "http.response.start", "status": self.status, "headers": self.headers}
            )
            async for frame in self.frames:
                if over is not None and over():
                    answered = True
                    body = frame + self.tail() if self.tail else frame
                    await send({"type": "http.response.body", "body": body})
                    break
                await send({"type": "http.response.body", "body": frame, "more_body": True})
            else:
                answered = True
                await send(
                    {"type": "http.response.body", "body": self.tail() if self.tail else b""}
                )
        except OSError:
            pass  # the client went away while a frame was being written
        finally:
            # Stopped before closing: the end of the answer also wakes it.
            if self.watch is not None:
                self.watch.stop()
            if answered:
                await _run_out(self.frames)
            else:
                aclose = getattr(self.frames, "aclose", None)
                if aclose is not None:
                    with contextlib.suppress(Exception):
                        await aclose()


async def _run_out(frames: AsyncIterator[bytes]) -> None:
    """The frames' producer after the answer is written: its bookkeeping,
    with nothing more to send (a frame it still makes is dropped)."""
    try:
        async for _ in frames:
            pass
    except Exception:
        log.exception("a stream's bookkeeping failed after its answer was written")


async def _cancel_on_disconnect(receive: Receive, task: asyncio.Task[Any]) -> None:
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            task.cancel()
            return


Handler = Callable[[Request], Awaitable[Response | StreamingResponse]]
Fallback = Callable[[Request, int], Awaitable[Response]]


class Router:
    """Exact paths in a dict; parametrised paths as prefix + suffix matches."""

    def __init__(self, not_found: Fallback) -> None:
        self._exact: dict[str, dict[str, Handler]] = {}
        self._patterns: list[tuple[str, str, str, str, Handler]] = []
        self._not_found = not_found

    def add(self, method: str, path: str, handler: Handler) -> None:
        if "{" not in path:
            self._exact.setdefault(path, {})[method] = handler
            return
        prefix, rest = path.split("{", 1)
        name, suffix = rest.split("}", 1)
        self._patterns.append((method, prefix, suffix, name, handler))

    def match(self, method: str, path: str) -> tuple[Handler | None, dict[str, str], bool]:
        """The handler, path params, and whether the path exists at all."""
        methods = self._exact.get(path)
        if methods is not None:
            return methods.get(method), {}, True
        found_path = False
        for m, prefix, suffix, name, handler in self._patterns:
            if path.startswith(prefix) and path.endswith(suffix):
                value = path[len(prefix) : len(path) - len(suffix)]
                if not value:
                    continue
                found_path = True
                if m == method:
                    return handler, {name: value}, True
        return None, {}, found_path

    def allowed(self, path: str) -> str:
        """The methods ``path`` takes, for a 405's ``Allow`` header."""
        methods = set(self._exact.get(path, ()))
        for m, prefix, suffix, _, _ in self._patterns:
            long_enough = len(path) > len(prefix) + len(suffix)
            if long_enough and path.startswith(prefix) and path.endswith(suffix):
                methods.add(m)
        return ", ".join(sorted(methods))

    async def dispatch(self, scope: Scope, receive: Receive, send: Send) -> None:
        handler, params, exists = self.match(scope["method"], scope["path"])
        request = Request(scope, receive, params)
        try:
            if handler is None:
                response: Response | StreamingResponse = await self._not_found(
                    request, 405 if exists else 404
                )
                if exists:
                    response.headers.append((b"allow", self.allowed(request.path).encode()))
            else:
                response = await handler(request)
            if isinstance(response, StreamingResponse):
                response.watch = request.watch_disconnect()
            await response(scope, receive, send)
        except asyncio.CancelledError:
            # Cancelled because the client went away: nothing to answer.
            # Anything else (server shutdown) propagates.
            watch = request.watch
            if watch is None or not watch.fired:
                raise
            task = asyncio.current_task()
            assert task is not None
            task.uncancel()
        finally:
            if request.watch is not None:
                request.watch.stop()


Hook = Callable[[], Awaitable[None]]


class App:
    """The ASGI callable: lifespan hooks and the router."""

    def __init__(
        self, router: Router, startup: Hook, shutdown: Hook, context: object = None
    ) -> None:
        self.router = router
        self._startup = startup
        self._shutdown = shutdown
        self.context = context
        """What the app was built around (junction's Gatekeeper), for embedders."""
        self.on_shutdown: list[Hook] = []
        """Run in order at shutdown, after the last request has drained and
        before the gateway closes (a request log flushes here). One that
        fails is logged; the rest still run."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            await self.router.dispatch(scope, receive, send)
        elif kind == "lifespan":
            await self._lifespan(receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await self._startup()
                except Exception as exc:
                    await send({"type": "lifespan.startup.failed", "message": str(exc)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                for hook in self.on_shutdown:
                    try:
                        await hook()
                    except Exception:
                        log.exception("an on_shutdown callback failed")
                await self._shutdown()
                await send({"type": "lifespan.shutdown.complete"})
                return
