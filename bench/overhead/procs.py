"""Processes for the overhead benchmark: start, wait, stop, pin, CPU time and
memory (Linux /proc only)."""

from __future__ import annotations

import contextlib
import http.client
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

_TICK = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Proc:
    """A server in its own process group, its output in a log file."""

    def __init__(self, name: str, cmd: list[str], log: Path, env: dict[str, str] | None = None):
        self.name = name
        self.log = log
        with log.open("wb") as out:
            self.popen = subprocess.Popen(
                cmd,
                start_new_session=True,
                stdout=out,
                stderr=subprocess.STDOUT,
                env={**os.environ, **(env or {})},
            )

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self) -> None:
        """SIGTERM the group started here, SIGKILL what is left of it after 10 s
        (also what the group still holds when its leader has already exited)."""
        if self.popen.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.popen.wait(timeout=10)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.popen.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.popen.wait(timeout=10)


def pinned(cpu: int | None, cmd: list[str]) -> list[str]:
    """cmd under ``taskset -c cpu`` (taskset execs it: the pid is the command's)."""
    return cmd if cpu is None else ["taskset", "-c", str(cpu), *cmd]


def post(
    port: int,
    path: str,
    body: bytes,
    timeout: float = 10.0,
    headers: dict[str, str] | None = None,
) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        sent = {"content-type": "application/json", **(headers or {})}
        conn.request("POST", path, body=body, headers=sent)
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def wait_ready(
    proc: Proc,
    port: int,
    path: str,
    body: bytes,
    timeout: float,
    headers: dict[str, str] | None = None,
    poll: float = 0.25,
) -> float:
    """POST body until the server answers 200, every ``poll`` seconds; fail early
    if the process dies. Returns the time.perf_counter() of the 200."""
    deadline = time.monotonic() + timeout
    last = "no answer"
    while time.monotonic() < deadline:
        if not proc.alive():
            raise RuntimeError(f"{proc.name} exited while starting:\n{proc.tail()}")
        try:
            status, data = post(port, path, body, timeout=5, headers=headers)
            if status == 200:
                return time.perf_counter()
            last = f"HTTP {status}: {data[:300]!r}"
        except OSError as exc:
            last = repr(exc)
        time.sleep(poll)
    raise RuntimeError(f"{proc.name} not ready after {timeout:.0f}s ({last}):\n{proc.tail()}")


def _stat(pid: int) -> tuple[int, int] | None:
    """(ppid, utime+stime ticks) of one process, or None if it is gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = raw[raw.rindex(")") + 2 :].split()
    return int(fields[1]), int(fields[11]) + int(fields[12])


def _tree(root: int) -> dict[int, int]:
    """{pid: CPU ticks} of root and its live descendants."""
    table: dict[int, tuple[int, int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (st := _stat(int(entry))) is not None:
            table[int(entry)] = st
    found, todo = {}, [root]
    while todo:
        pid = todo.pop()
        if pid in table and pid not in found:
            found[pid] = table[pid][1]
            todo.extend(p for p, (ppid, _) in table.items() if ppid == pid)
    return found


def tree_cpu_seconds(root: int) -> float:
    """User+sys CPU seconds (all threads) used so far by root and its live descendants."""
    return sum(_tree(root).values()) / _TICK


def status_kib(pid: int, field: str) -> int:
    """A ``kB`` field of /proc/PID/status (VmRSS, VmHWM...), 0 if the process is gone."""
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        return 0
    for line in lines:
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def tree_status_kib(root: int, field: str) -> tuple[int, int]:
    """(sum of ``field`` over root and its live descendants, how many processes)."""
    pids = _tree(root)
    return sum(status_kib(pid, field) for pid in pids), len(pids)


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])
