"""``junction serve --workers N``: N processes on one listening socket.

The parent binds the port once and forks the workers, which inherit the
socket; the kernel hands each new connection to one worker that is waiting
in ``accept`` (docs/decisions.md says why not ``SO_REUSEPORT``). The parent
runs no event loop and serves nothing: it supervises.

* SIGTERM / SIGINT to the parent: each worker gets SIGTERM and drains
  (``server.shutdown_grace``); one still alive a few seconds after that is
  killed. Workers run in their own process group, so a terminal's Ctrl-C
  reaches them once, through the parent.
* A worker that exits while the gateway is not stopping is started again.
  One that dies within ``START_WINDOW_S`` of its start counts as a failed
  start; after ``MAX_FAILED_STARTS`` in a row the parent stops the others
  and exits 1 (a config or port problem will not fix itself).
* Each worker has ``JUNCTION_WORKER`` (0..N-1) and ``JUNCTION_WORKERS`` (N)
  in its environment; a worker whose parent disappears (SIGKILL) drains and
  stops by itself. With N > 1 the parent points ``PROMETHEUS_MULTIPROC_DIR``
  at a fresh directory before the first fork and removes it at exit.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from types import FrameType

log = logging.getLogger("junction.workers")

START_WINDOW_S = 5.0
MAX_FAILED_STARTS = 5
KILL_AFTER_S = 5.0
"""Seconds past ``shutdown_grace`` before a worker that is still draining is killed."""

Worker = Callable[[int], int]
"""Serves on the inherited socket until told to stop; its exit code."""


@dataclass(slots=True)
class _Child:
    index: int
    pid: int
    started: float


@dataclass(slots=True)
class Supervisor:
    count: int
    grace_s: float
    worker: Worker
    children: dict[int, _Child] = field(default_factory=dict)
    stopping: bool = False
    failed_starts: int = 0
    metrics_dir: str | None = None

    def run(self) -> int:
        """Start the workers and keep them running until a signal; the exit code."""
        previous = {s: signal.signal(s, self._stop) for s in (signal.SIGTERM, signal.SIGINT)}
        if self.count > 1 and "PROMETHEUS_MULTIPROC_DIR" not in os.environ:
            self.metrics_dir = tempfile.mkdtemp(prefix="junction-metrics-")
            os.environ["PROMETHEUS_MULTIPROC_DIR"] = self.metrics_dir
        try:
            for index in range(self.count):
                self._spawn(index)
            return self._supervise()
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            if self.metrics_dir is not None:
                shutil.rmtree(self.metrics_dir, ignore_errors=True)
                os.environ.pop("PROMETHEUS_MULTIPROC_DIR", None)

    def _stop(self, signum: int, frame: FrameType | None) -> None:
        if not self.stopping:
            log.info("stopping %d worker(s) (signal %d)", len(self.children), signum)
        self.stopping = True
        for child in self.children.values():
            _kill(child.pid, signal.SIGTERM)

    def _spawn(self, index: int) -> None:
        pid = os.fork()
        if pid == 0:  # the worker
            code = 1
            try:
                os.setpgid(0, 0)
                for sig in (signal.SIGTERM, signal.SIGINT):
                    signal.signal(sig, signal.SIG_DFL)
                os.environ["JUNCTION_WORKER"] = str(index)
                os.environ["JUNCTION_WORKERS"] = str(self.count)
                _leave_with(os.getppid())
                code = self.worker(index)
            except BaseException as exc:
                print(f"junction worker {index}: {type(exc).__name__}: {exc}", file=sys.stderr)
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)
        self.children[pid] = _Child(index, pid, time.monotonic())
        log.info("worker %d started (pid %d)", index, pid)

    def _supervise(self) -> int:
        deadline: float | None = None
        while self.children:
            if self.stopping and deadline is None:
                deadline = time.monotonic() + self.grace_s + KILL_AFTER_S
            if deadline is not None and time.monotonic() > deadline:
                for child in self.children.values():
                    log.warning("worker %d did not stop in time: killed", child.index)
                    _kill(child.pid, signal.SIGKILL)
                deadline = time.monotonic() + 60.0
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                time.sleep(0.05)
                continue
            if pid not in self.children:
                continue
            child = self.children.pop(pid)
            _mark_dead(pid)
            if self.stopping:
                continue
            if self._crashed(child, status):
                self._stop(signal.SIGTERM, None)
                self._wait_all()
                return 1
            self._spawn(child.index)
        return 0

    def _crashed(self, child: _Child, status: int) -> bool:
        """Note a worker's unexpected exit; True when starting keeps failing."""
        how = (
            f"exit code {os.waitstatus_to_exitcode(status)}"
            if os.WIFEXITED(status)
            else f"signal {os.WTERMSIG(status)}"
        )
        if time.monotonic() - child.started < START_WINDOW_S:
            self.failed_starts += 1
        else:
            self.failed_starts = 0
        log.error("worker %d (pid %d) ended unexpectedly (%s)", child.index, child.pid, how)
        if self.failed_starts >= MAX_FAILED_STARTS:
            print(
                f"junction: workers keep failing at start ({self.failed_starts} in a row, "
                f"last: {how}); stopping",
                file=sys.stderr,
            )
            return True
        return False

    def _wait_all(self) -> None:
        deadline = time.monotonic() + self.grace_s + KILL_AFTER_S
        while self.children:
            try:
                pid, _ = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid:
                self.children.pop(pid, None)
                _mark_dead(pid)
                continue
            if time.monotonic() > deadline:
                for child in self.children.values():
                    _kill(child.pid, signal.SIGKILL)
            time.sleep(0.05)


def _leave_with(parent: int) -> None:
    """Drain and stop (SIGTERM to this worker) if the parent dies without telling us
    (SIGKILL): a worker in its own process group would otherwise serve on, orphaned."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="junction-parent-watch", daemon=True).start()


def _kill(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)


def _mark_dead(pid: int) -> None:
    """Let prometheus_client's multiprocess mode drop a dead worker's live gauges."""
    if "PROMETHEUS_MULTIPROC_DIR" not in os.environ:
        return
    try:
        from prometheus_client import multiprocess
    except ImportError:  # pragma: no cover - a runtime dependency
        return
    multiprocess.mark_process_dead(pid)  # type: ignore[no-untyped-call]


def serve_workers(count: int, grace_s: float, worker: Worker) -> int:
    """Run ``worker`` in ``count`` supervised processes; the parent's exit code."""
    return Supervisor(count, grace_s, worker).run()
