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
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time

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
    await gateway.admission.drain()
    return (time.process_time() - start) / n * 1e6


async def main(n: int, rounds: int) -> None:
    on, off = await setup(True), await setup(False)
    await per_request(on, 1000)  # warm the key cache and the interpreter
    await per_request(off, 1000)
    results: dict[str, list[float]] = {"on": [], "off": []}
    for _ in range(rounds):
        results["on"].append(await per_request(on, n))
        results["off"].append(await per_request(off, n))
    added = [a - b for a, b in zip(results["on"], results["off"], strict=True)]
    for label, values in (
        ("keys, limits, budgets on", results["on"]),
        ("keys off", results["off"]),
        ("added by the policy", added),
    ):
        spread = f"{statistics.median(values):6.1f} ({min(values):.1f}-{max(values):.1f})"
        print(f"{label:<26} {spread} µs CPU per request, median (range) of {rounds} rounds")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=20000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    asyncio.run(main(args.requests, args.rounds))
