"""Decision overhead of ``junction/auto`` in the gateway: the hook the request path runs.

    python bench/semantic/gateway_overhead.py --data gsm8k.jsonl --router linear [--router knn]
        [--encoder lexical|e5]

Trains each router on the whole file (``--encoder``, default lexical; e5's training vectors
come from the vector cache, ``junction router embed`` fills it; calibrated to half strong
calls),
saves the artifact, builds a :class:`~junction.gateway.Gateway` from a config whose
``routers:`` names it (loaded once, as at start-up), decodes each prompt as an OpenAI chat
request body and times ``gateway.auto.apply(request)`` (the prompt's text, the ``route``
object, encoder, router and decision) inside a running event loop, over ``--repeat`` passes
of up to ``--limit`` prompts. Prints p50 / p99 / max in milliseconds of wall time (what the
request waits: for e5, the hand-off to the router's thread included), of the event loop
thread's CPU time (what blocks other requests) and of the whole process's CPU time (e5's
worker thread and its kernels' threads included); on a shared machine, wall-time tails are
the scheduler's (another process took the core). And the share sent to the strong model.
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
from junction.semantic import CachedEncoder, artifact
from junction.semantic.dataset import load_dataset
from junction.semantic.encoders import make_encoder
from junction.semantic.vector_cache import cacheable
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


async def time_router(data_path: str, name: str, encoder_name: str, limit: int, repeat: int) -> str:
    data = load_dataset(data_path)
    encoder = make_encoder(encoder_name)
    training = CachedEncoder(encoder) if cacheable(encoder) else encoder
    trained = artifact.train(
        data, name, encoder_name, encoder=training, calibrate_to=("share", 0.5)
    )
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
        await gateway.auto.apply(decode(body))
    wall, loop_cpu, cpu, strong_calls = [], [], [], 0
    for _ in range(repeat):
        for body in bodies:
            request = decode(body)
            start, start_loop = time.perf_counter_ns(), time.thread_time_ns()
            start_cpu = time.process_time_ns()
            await gateway.auto.apply(request)
            cpu.append(time.process_time_ns() - start_cpu)
            loop_cpu.append(time.thread_time_ns() - start_loop)
            wall.append(time.perf_counter_ns() - start)
            strong_calls += request.model == "strong"
    await gateway.close()
    share = strong_calls / len(wall)
    return (
        f"{name:9s} {encoder_name}\n  wall      {_figures(wall)}\n  loop cpu  {_figures(loop_cpu)}"
        f"\n  all cpu   {_figures(cpu)}\n  strong {share:.0%}  n={len(wall)}"
    )


def _figures(ns: list[int]) -> str:
    ms = np.array(ns) / 1e6
    p50, p99 = np.percentile(ms, [50, 99])
    return f"p50 {p50:.3f} p99 {p99:.3f} max {ms.max():.3f} ms"


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True)
    parser.add_argument("--router", action="append", required=True)
    parser.add_argument("--encoder", default="lexical")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--limit", type=int, default=1000, help="prompts timed per pass")
    args = parser.parse_args()
    prompts = load_dataset(args.data).texts[: args.limit]
    median = statistics.median(map(len, prompts))
    print(f"{args.data}: {len(prompts)} prompts, median {median} chars")
    for name in args.router:
        print(await time_router(args.data, name, args.encoder, args.limit, args.repeat))


if __name__ == "__main__":
    asyncio.run(main())
