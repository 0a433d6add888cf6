"""The gateway under soak: ``junction serve``'s server (uvicorn, uvloop,
httptools) on a config, plus a sampler that appends one JSON line a second
to a file: resident memory, open file descriptors and sockets, asyncio tasks.

    python bench/soak/gateway.py CONFIG PORT SAMPLES
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from pathlib import Path

import uvicorn
import uvloop

from junction.config import load_config
from junction.server.app import create_app


def sample() -> dict[str, float]:
    """This process now: RSS (KiB), fds, sockets, asyncio tasks (Linux /proc)."""
    rss = 0
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            rss = int(line.split()[1])
    fds = os.listdir("/proc/self/fd")
    sockets = 0
    for fd in fds:
        try:
            sockets += os.readlink(f"/proc/self/fd/{fd}").startswith("socket:")
        except OSError:
            continue
    return {
        "t": time.time(),
        "rss_kib": rss,
        "fds": len(fds),
        "sockets": sockets,
        "tasks": len(asyncio.all_tasks()),
    }


async def sampler(path: Path) -> None:
    with path.open("a", buffering=1) as out:
        while True:
            out.write(json.dumps(sample()) + "\n")
            await asyncio.sleep(1.0)


async def main(config_path: str, port: int, samples: Path) -> None:
    config = load_config(config_path, dict(os.environ))
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(config),
            host="127.0.0.1",
            port=port,
            log_level="warning",
            access_log=False,
            http="httptools",
            lifespan="on",
            timeout_graceful_shutdown=5,
        )
    )
    watcher = asyncio.create_task(sampler(samples))
    try:
        await server.serve()
    finally:
        watcher.cancel()


if __name__ == "__main__":
    uvloop.run(main(sys.argv[1], int(sys.argv[2]), Path(sys.argv[3])))
