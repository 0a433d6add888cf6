"""The thinnest Python proxy: the yardstick for any Python gateway on this stack.

An aiohttp server on uvloop that forwards each request's bytes to one
upstream through one pooled aiohttp client and relays the answer as it
arrives. No parsing, no auth, no logging: what is left is the cost of the
server, the client and the event loop.

    python bench/overhead/thin_proxy.py --port 8001 --upstream http://127.0.0.1:8000
"""

from __future__ import annotations

import argparse

import aiohttp
import uvloop
from aiohttp import web

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "host"}


def make_app(upstream: str) -> web.Application:
    app = web.Application()

    async def start(app: web.Application) -> None:
        connector = aiohttp.TCPConnector(limit=0, keepalive_timeout=60)
        app["client"] = aiohttp.ClientSession(upstream, connector=connector, auto_decompress=False)

    async def stop(app: web.Application) -> None:
        await app["client"].close()

    async def forward(request: web.Request) -> web.StreamResponse:
        headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP}
        client: aiohttp.ClientSession = app["client"]
        async with client.request(
            request.method, request.rel_url, data=await request.read(), headers=headers
        ) as upstream_answer:
            answer = web.StreamResponse(status=upstream_answer.status)
            for key, value in upstream_answer.headers.items():
                if key.lower() not in HOP_BY_HOP:
                    answer.headers[key] = value
            await answer.prepare(request)
            async for chunk in upstream_answer.content.iter_any():
                await answer.write(chunk)
            await answer.write_eof()
            return answer

    app.on_startup.append(start)
    app.on_cleanup.append(stop)
    app.router.add_route("*", "/{tail:.*}", forward)
    return app


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--upstream", required=True, help="base URL, e.g. http://127.0.0.1:8000")
    args = ap.parse_args()
    uvloop.install()
    web.run_app(make_app(args.upstream), host="127.0.0.1", port=args.port, access_log=None)


if __name__ == "__main__":
    main()
