"""Process helpers shared by the server and client benchmarks (Linux /proc only)."""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
_TICK = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(cmd: list[str], log_name: str) -> subprocess.Popen[bytes]:
    """Start cmd in its own process group (so its workers can be stopped with it).

    Its output goes to $TMPDIR/junction-bench-<log_name>.log: servers log
    the streams that wrk cuts off at the end of a run, which is expected.
    """
    log = Path(tempfile.gettempdir()) / f"junction-bench-{log_name}.log"
    with log.open("wb") as out:
        return subprocess.Popen(
            cmd, cwd=HERE, start_new_session=True, stdout=out, stderr=subprocess.STDOUT
        )


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)  # the group we created in start()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def wait_ready(port: int, path: str, body: bytes, timeout: float = 20.0) -> bytes:
    """POST body until the server answers 200; return the response body."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("POST", path, body=body, headers={"content-type": "application/json"})
            resp = conn.getresponse()
            data = resp.read()
            conn.close()
            if resp.status == 200:
                return data
            raise RuntimeError(f"{path} on :{port} answered {resp.status}")
        except (ConnectionError, OSError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def _stat(pid: int) -> tuple[int, int] | None:
    """(ppid, utime+stime ticks) of one process, or None if it is gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = raw[raw.rindex(")") + 2 :].split()
    return int(fields[1]), int(fields[11]) + int(fields[12])


def tree_cpu_seconds(root: int) -> float:
    """CPU seconds (user+sys, all threads) used so far by root and its live descendants."""
    table = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            st = _stat(int(entry))
            if st:
                table[int(entry)] = st
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        if pid in table:
            total += table[pid][1]
            todo.extend(p for p, (ppid, _) in table.items() if ppid == pid)
    return total / _TICK
