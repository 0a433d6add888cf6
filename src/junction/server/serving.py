"""Running the app: junction's front door in uvicorn's server process, with a
draining shutdown.

``junction serve`` and the tests both build their server here, so the
limits the tests check are the ones production runs with.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import socket
from typing import Any

import uvicorn

from junction.config import Server
from junction.server.protocol import FrontDoor, FrontDoorConfig, LimitedHttpProtocol

log = logging.getLogger("junction.server")


class GatewayServer(uvicorn.Server):
    """uvicorn's server (listening sockets, signals, lifespan, the date
    header), whose connections are the front door's and whose shutdown
    drains.

    ``server_state.tasks`` holds the requests in flight: a connection's
    worker is in it while it runs a request (server/protocol.py), so the
    drain below waits for answers, not for connections.

    On SIGTERM (or ``should_exit``): idle connections close, new requests
    get 503, requests in flight have ``server.shutdown_grace`` seconds to
    finish; then the listeners close, what is left is cancelled, and the
    app's shutdown runs (its ``on_shutdown`` callbacks first).
    """

    def __init__(self, config: FrontDoorConfig, *, freeze_heap: bool = False) -> None:
        super().__init__(config)
        self.front_door = config.front_door
        self.freeze_heap = freeze_heap

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.freeze_heap and self.started:
            # What start-up built (config, catalog, price tables, codecs,
            # imported modules) lives as long as the process. Frozen, the
            # collector stops walking it: a full collection under load then
            # scans only what requests left alive -- without this, those
            # collections put the p99 at 16 connections over 100 ms
            # (docs/decisions.md §13).
            gc.collect()
            gc.freeze()

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        door = self.front_door
        door.draining = True
        state = self.server_state
        for connection in list(state.connections):
            connection.shutdown()  # idle ones close; busy ones close after their answer
        loop = asyncio.get_running_loop()
        deadline = loop.time() + door.limits.shutdown_grace
        if state.tasks:
            log.info(
                "draining %d request(s), up to %gs", len(state.tasks), door.limits.shutdown_grace
            )
        while state.tasks and not self.force_exit and (wait := deadline - loop.time()) > 0:
            # New requests (answered 503) join the set: look again often.
            await asyncio.wait(list(state.tasks), timeout=min(wait, 0.1))
        for server in self.servers:
            server.close()
        for sock in sockets or []:
            sock.close()
        left = list(state.tasks)
        if left:
            log.warning("cancelling %d request(s) still running after the grace period", len(left))
            for connection in list(state.connections):
                if isinstance(connection, LimitedHttpProtocol):
                    connection.abandon()
            await asyncio.wait(left, timeout=1.0)
            for task in state.tasks:  # those that had not read their body yet
                task.cancel()
        for connection in list(state.connections):
            connection.shutdown()
        if not self.force_exit:
            await self.lifespan.shutdown()


def build_server(
    app: Any, limits: Server, *, freeze_heap: bool = False, **uvicorn_options: Any
) -> GatewayServer:
    """A server for ``app`` held to ``limits`` (the config's ``server:``).

    ``freeze_heap``: after start-up, move every object alive into the
    collector's permanent generation (for a process that serves until it
    exits, as ``junction serve``; not for tests building many apps)."""
    # proxy_headers off: uvicorn's middleware for it rewrites the client
    # address from X-Forwarded-For on every request, and junction reads no
    # client address (one layer less per request).
    options: dict[str, Any] = {
        "lifespan": "on",
        "access_log": False,
        "proxy_headers": False,
        **uvicorn_options,
    }
    config = FrontDoorConfig(app, FrontDoor(limits), **options)
    return GatewayServer(config, freeze_heap=freeze_heap)


def listen(host: str, port: int) -> socket.socket:
    """A bound listening socket; OSError says why it could not be had."""
    family, kind, proto, _, address = socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(2048)
    except OSError:
        sock.close()
        raise
    return sock
