"""Decision overhead of ``junction/auto`` in the gateway: the hook the request path runs.

    python bench/semantic/gateway_overhead.py --data gsm8k.jsonl --router linear [--router knn]

Trains each router on the whole file (lexical encoder, calibrated to half strong calls),
saves the artifact, builds a :class:`~junction.gateway.Gateway` from a config whose
``routers:`` names it (loaded once, as at start-up), decodes each prompt as an OpenAI chat
request body and times ``gateway.auto.apply(request)`` (the prompt's text, the ``route``
object, encoder, router and decision) inside a running event loop, over ``--repeat`` passes
of up to ``--limit`` prompts. Prints p50 / p99 / max in milliseconds of wall time and of
the thread's CPU time (on a shared machine, wall-time tails are the scheduler's: another
process took the core), and the share of requests sent to the strong model.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import statistics
import tempfile
import time
from pathlib import Path

import msgspec
import numpy as np

from junction.codecs import openai_chat
from junction.config import parse_config
from junction.gateway import Gateway
from junction.semantic import artifact
from junction.semantic.dataset import load_dataset
from junction.transport import Transport

CONFIG = """
models:
  cheap:
    deployments: [{{provider: openai, model: cheap, base_url: 'http://127.0.0.1:9/v1'}}]
  strong:
    deployments: [{{provider: openai, model: strong, base_url: 'http://127.0.0.1:9/v1'}}]
routers:
  auto:
    artifact: {folder}
    candidates: {{{strong}: strong, {weak}: cheap}}
"""


async def time_router(data_path: str, name: str, limit: int, repeat: int) -> str:
    data = load_dataset(data_path)
    trained = artifact.train(data, name, "lexical", calibrate_to=("share", 0.5))
    strong = trained.manifest.strong or data.models[0]
    weak = next(m for m in data.models if m != strong)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / name
        artifact.save(trained, folder)
        text = CONFIG.format(folder=folder, strong=f"'{strong}'", weak=f"'{weak}'")
        gateway = Gateway(parse_config(text, {}), Transport())
    bodies = [
        msgspec.json.encode(
            {"model": "junction/auto", "messages": [{"role": "user", "content": prompt}]}
        )
        for prompt in data.texts[:limit]
    ]
    decode = openai_chat.SERVER.decode_request
    gc.collect()
    gc.freeze()  # the start-up objects (catalog, artifact) out of the collector's way
    for body in bodies[:10]:  # warm up
        gateway.auto.apply(decode(body))
    wall, cpu, strong_calls = [], [], 0
    for _ in range(repeat):
        for body in bodies:
            request = decode(body)
            start, start_cpu = time.perf_counter_ns(), time.thread_time_ns()
            gateway.auto.apply(request)
            cpu.append(time.thread_time_ns() - start_cpu)
            wall.append(time.perf_counter_ns() - start)
            strong_calls += request.model == "strong"
    await gateway.transport.close()
    share = strong_calls / len(wall)
    return (
        f"{name:9s} wall {_figures(wall)}  cpu {_figures(cpu)}  strong {share:.0%}  n={len(wall)}"
    )


def _figures(ns: list[int]) -> str:
    ms = np.array(ns) / 1e6
    p50, p99 = np.percentile(ms, [50, 99])
    return f"p50 {p50:.3f} p99 {p99:.3f} max {ms.max():.3f} ms"


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True)
    parser.add_argument("--router", action="append", required=True)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--limit", type=int, default=1000, help="prompts timed per pass")
    args = parser.parse_args()
    prompts = load_dataset(args.data).texts[: args.limit]
    median = statistics.median(map(len, prompts))
    print(f"{args.data}: {len(prompts)} prompts, median {median} chars")
    for name in args.router:
        print(await time_router(args.data, name, args.limit, args.repeat))


if __name__ == "__main__":
    asyncio.run(main())
