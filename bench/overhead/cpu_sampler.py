"""Run a Python module under a CPU-time stack sampler (stdlib only).

    python cpu_sampler.py --out stacks.txt [--hz 500] -m junction.cli serve --config ...

A SIGPROF interval timer fires every 1/hz seconds of *CPU time* used by the
process, so a sample is taken only while the process runs: time spent
waiting for a core, for I/O or for the event loop to wake up is never
sampled (unlike a wall-clock sampler such as py-spy, which on a busy machine
also samples a thread that is runnable but descheduled). The handler records
the Python stack it interrupts; CPU used in C code (a C extension, a system
call, uvloop's loop) counts to the Python frame that runs next, usually the
caller.

Sampling starts on SIGUSR1 and stops on SIGUSR2, which also writes the
samples to --out as collapsed stacks ("frame;frame;frame count", root first,
frames as "function (file:first line)"): the format flamegraph.pl,
speedscope and hotpath.py read.
"""

from __future__ import annotations

import argparse
import runpy
import signal
import sys
from collections import Counter
from types import CodeType, FrameType

_counts: Counter[tuple[CodeType, ...]] = Counter()


def _on_prof(signum: int, frame: FrameType | None) -> None:
    codes = []
    while frame is not None:
        codes.append(frame.f_code)
        frame = frame.f_back
    _counts[tuple(codes)] += 1


def _name(code: CodeType) -> str:
    return f"{code.co_qualname} ({code.co_filename}:{code.co_firstlineno})"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", required=True)
    ap.add_argument("--hz", type=int, default=500)
    ap.add_argument("-m", dest="module", required=True)
    ap.add_argument("args", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    interval = 1 / a.hz

    def start(signum: int, frame: FrameType | None) -> None:
        _counts.clear()
        signal.setitimer(signal.ITIMER_PROF, interval, interval)

    def stop(signum: int, frame: FrameType | None) -> None:
        signal.setitimer(signal.ITIMER_PROF, 0, 0)
        with open(a.out, "w") as out:
            for codes, n in _counts.items():
                out.write(";".join(_name(c) for c in reversed(codes)) + f" {n}\n")

    signal.signal(signal.SIGPROF, _on_prof)
    signal.signal(signal.SIGUSR1, start)
    signal.signal(signal.SIGUSR2, stop)
    sys.argv = [a.module, *a.args]
    runpy.run_module(a.module, run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
