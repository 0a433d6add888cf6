"""CPU the policy stages add per request, on the embedded stores.

In one process, no network: for each of N requests, what a request pays
between the door and the attempt loop. That is authentication (a virtual
key, cached), the stages' enter (permissions, rpm/tpm/parallel checks for
the key and its team, a daily budget on each, one admission on the memory
counters) and their leave (the settle, run by the admission's background
task). The same calls are timed with keys off, in the same rounds. It prints
the median and range over rounds of CPU microseconds per request, and of
the difference (what the policy adds), taken round by round.

    python bench/overhead/policy.py --requests 20000 --rounds 5
    python bench/overhead/policy.py --before /path/to/other/checkout/src

With ``--before`` each round runs in a fresh interpreter, alternating
between the other source tree and this one, and the ratio of what the
policy adds is printed round by round (the machine's load then weighs on
both alike).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from junction.config import key_digest, parse_config
from junction.gateway import Gateway, Trace
from junction.stores import KeyRecord, Limits, TeamRecord
from junction.transport import Transport
from junction.types import ChatRequest, Message, TextPart, Usage

CONFIG = """
models:
  m/x:
    deployments:
      - {provider: openai, model: gpt-4o-mini, base_url: 'http://127.0.0.1:9/v1', api_key: k}
"""
SECRET = "sk-jx-bench-0001"
LIMITS = Limits(
    models=["m/*"],
    rpm=10**9,
    tpm=10**12,
    max_parallel=10**6,
    budget_usd=10**9,
    soft_budget_usd=10**8,
    budget_period="daily",
)


async def setup(keys: bool) -> Gateway:
    env = {"JUNCTION_MASTER_KEY": "sk-master-bench"} if keys else {}
    gateway = Gateway(parse_config(CONFIG, {}), Transport(), env=env)
    if keys:
        records = gateway.stores.records
        await records.add_team(TeamRecord(id="team_1", name="t", created_at=0, limits=LIMITS))
        await records.add_key(
            KeyRecord(
                id="key_1",
                name="bench",
                key_hash=key_digest(SECRET),
                prefix="sk-jx-bench",
                created_at=0,
                team="team_1",
                limits=LIMITS,
            )
        )
    return gateway


async def per_request(gateway: Gateway, n: int) -> float:
    usage = Usage(prompt_tokens=12, completion_tokens=30, cost=0.0001)
    start = time.process_time()
    for _ in range(n):
        principal = await gateway.authenticate(SECRET)
        request = ChatRequest(
            model="m/x", messages=[Message(role="user", content=[TextPart(text="hello there")])]
        )
        trace = gateway._start(Trace(key=principal))
        call = await gateway._enter(trace, request)
        gateway._leave(call, usage)
        await asyncio.sleep(0)  # the loop runs the settle, as a server's would between requests
    await gateway.admission.drain()
    return (time.process_time() - start) / n * 1e6


async def measure(n: int, rounds: int) -> dict[str, list[float]]:
    on, off = await setup(True), await setup(False)
    await per_request(on, 1000)  # warm the key cache and the interpreter
    await per_request(off, 1000)
    results: dict[str, list[float]] = {"on": [], "off": []}
    for _ in range(rounds):
        results["on"].append(await per_request(on, n))
        results["off"].append(await per_request(off, n))
    return results


def spread(values: list[float], digits: int = 1) -> str:
    low, mid, high = (
        f"{v:.{digits}f}" for v in (min(values), statistics.median(values), max(values))
    )
    return f"{mid} ({low}-{high})"


def report(results: dict[str, list[float]], rounds: int) -> list[float]:
    added = [a - b for a, b in zip(results["on"], results["off"], strict=True)]
    for label, values in (
        ("keys, limits, budgets on", results["on"]),
        ("keys off", results["off"]),
        ("added by the policy", added),
    ):
        print(
            f"{label:<26} {spread(values):>20} µs CPU per request, median (range), {rounds} rounds"
        )
    return added


def one_round(src: str, n: int) -> dict[str, list[float]]:
    """One round in a fresh interpreter importing junction from ``src``."""
    env = {**os.environ, "PYTHONPATH": src}
    out = subprocess.run(
        [sys.executable, __file__, "--one", "--requests", str(n)],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    found: dict[str, list[float]] = json.loads(out.strip().splitlines()[-1])
    return found


def compare(before: str, n: int, rounds: int) -> None:
    """Rounds of this checkout and of ``before`` interleaved (the same load on both)."""
    after = str(Path(__file__).resolve().parents[2] / "src")
    runs: dict[str, dict[str, list[float]]] = {
        "before": {"on": [], "off": []},
        "after": {"on": [], "off": []},
    }
    for _ in range(rounds):
        for name, src in (("before", before), ("after", after)):
            got = one_round(src, n)
            for k in ("on", "off"):
                runs[name][k] += got[k]
    added = {}
    for name in ("before", "after"):
        print(f"{name} ({before if name == 'before' else after}):")
        added[name] = report(runs[name], rounds)
    ratios = [a / b for a, b in zip(added["after"], added["before"], strict=True)]
    print(f"{'added, after / before':<26} {spread(ratios, 2):>20} (per round)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=20000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument(
        "--before",
        metavar="PATH/src",
        help="also measure the junction in another source tree, rounds interleaved, "
        "and print the ratio of what the policy adds",
    )
    parser.add_argument("--one", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:  # a round of compare(): JSON on stdout
        print(json.dumps(asyncio.run(measure(args.requests, 1))))
    elif args.before:
        compare(args.before, args.requests, args.rounds)
    else:
        report(asyncio.run(measure(args.requests, args.rounds)), args.rounds)
