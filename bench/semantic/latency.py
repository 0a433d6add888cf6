"""Decision latency of a trained router: one prompt at a time, as a gateway would call it.

    python bench/semantic/latency.py --data gsm8k.jsonl --router linear [--router knn ...]

Trains each router on the whole file (lexical encoder), calibrates it to half strong calls,
then times ``TrainedRouter.choose([prompt])`` over the file's prompts (``--repeat`` passes)
and prints p50 / p99 / max in milliseconds, and the prompts' median length.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from junction.semantic import artifact
from junction.semantic.dataset import load_dataset


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True)
    parser.add_argument("--router", action="append", required=True)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--limit", type=int, default=1000, help="prompts timed per pass")
    args = parser.parse_args()
    data = load_dataset(args.data)
    prompts = data.texts[: args.limit]
    print(
        f"{args.data}: {len(prompts)} prompts, median {statistics.median(map(len, prompts))} chars"
    )
    for name in args.router:
        trained = artifact.train(data, name, "lexical", calibrate_to=("share", 0.5))
        trained.choose(prompts[:10])  # warm up
        times = []
        for _ in range(args.repeat):
            for prompt in prompts:
                start = time.perf_counter_ns()
                trained.choose([prompt])
                times.append(time.perf_counter_ns() - start)
        ms = np.array(times) / 1e6
        p50, p99 = np.percentile(ms, [50, 99])
        print(f"{name:9s} p50 {p50:.3f} ms  p99 {p99:.3f} ms  max {ms.max():.3f} ms  n={len(ms)}")


if __name__ == "__main__":
    main()
