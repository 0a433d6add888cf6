"""Start an ASGI server (uvicorn's, or junction's front door) on a free
loopback port, the way every socket-level test does."""

from __future__ import annotations

import asyncio
import socket
from typing import Any


def free_port() -> int:
    """A loopback port nothing listens on (just now): for a process to bind, or
    for a client to find closed."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


async def serve_on_loopback(server: Any) -> tuple[asyncio.Task[None], int]:
    """``server.serve`` on 127.0.0.1, a free port, once it has started:
    the serving task and the port."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port: int = sock.getsockname()[1]
    task = asyncio.get_running_loop().create_task(server.serve(sockets=[sock]))
    for _ in range(500):
        if server.started:
            break
        if task.done():
            task.result()  # the server failed to start: its error, not a timeout
        await asyncio.sleep(0.01)
    assert server.started, "the server did not start"
    return task, port
