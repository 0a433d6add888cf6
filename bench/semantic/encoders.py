"""Encoders compared by quality per millisecond: which one junction uses by default.

    python bench/semantic/encoders.py --data gsm8k.jsonl --data mt-bench.jsonl \\
        [--encoder lexical --encoder e5] [--router linear --router knn] [--timed 200]

For each dataset and encoder: every router's APGR under 5-fold cross-validation (seed 0;
e5's vectors from the vector cache, ``junction router embed`` fills it), the length
baseline's, and the encoder's time for one prompt (the gateway encodes one at a time),
median and p99 over ``--timed`` prompts, with BLAS and e5 on the threads they choose.
Quality per millisecond is the best router's APGR gain over the length baseline divided by
the median time of one prompt.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from junction.semantic import CachedEncoder, evaluate
from junction.semantic.dataset import load_dataset
from junction.semantic.encoders import make_encoder
from junction.semantic.protocols import Protocol
from junction.semantic.vector_cache import cacheable


def one_prompt_ms(name: str, texts: list[str]) -> tuple[float, float]:
    encoder = make_encoder(name)
    if not cacheable(encoder):  # lexical: fitted first, as a trained artifact's is
        encoder.fit(encoder.stage(texts))  # type: ignore[attr-defined]
    encoder.encode(texts[:3])  # warm up
    times = []
    for text in texts:
        start = time.perf_counter_ns()
        encoder.encode([text])
        times.append((time.perf_counter_ns() - start) / 1e6)
    p50, p99 = np.percentile(times, [50, 99])
    return float(p50), float(p99)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", action="append", required=True)
    parser.add_argument("--encoder", action="append")
    parser.add_argument("--router", action="append")
    parser.add_argument("--timed", type=int, default=200, help="prompts timed one at a time")
    args = parser.parse_args()
    encoders = args.encoder or ["lexical", "e5"]
    routers = args.router or ["linear", "knn"]
    for path in args.data:
        data = load_dataset(path)
        print(f"{path}: {len(data)} prompts, 5-fold cv, seed 0")
        for name in encoders:
            encoder = make_encoder(name)
            used = CachedEncoder(encoder) if cacheable(encoder) else encoder
            result = evaluate.evaluate(data, routers, used, Protocol("cv", 5, seed=0))
            apgr = {o.router: o.binary.apgr for o in result.routers if o.binary}
            length = next(
                o.binary.apgr for o in result.baselines if o.router == "length" and o.binary
            )
            p50, p99 = one_prompt_ms(name, data.texts[: args.timed])
            best = max(apgr, key=lambda r: apgr[r])
            gain = apgr[best] - length
            shown = "  ".join(f"{r} {v:.3f}" for r, v in apgr.items())
            print(
                f"  {name:8s} APGR {shown}  (length {length:.3f})  one prompt p50 {p50:.3f} ms"
                f" p99 {p99:.3f} ms  gain/ms {gain / p50:.4f}"
            )


if __name__ == "__main__":
    main()
