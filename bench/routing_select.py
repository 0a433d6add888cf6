"""How long provider selection takes: ``python bench/routing_select.py``.

Measures ``junction.routing.select`` over 3 and 20 endpoints in the default
(load-balanced) mode, with ``sort: "throughput"`` and with a constrained
request (only / max_price / require_parameters / preferred latency), with
stats recorded for every endpoint, and prints microseconds per call.
"""

from __future__ import annotations

import functools
import random
import timeit

from junction.catalog import EndpointInfo, Price
from junction.routing import EndpointStats, ProviderPreferences, parse_preferences, select

PARAMS = frozenset({"max_tokens", "temperature", "tools", "tool_choice", "stream"})


def endpoints(n: int) -> list[EndpointInfo]:
    rng = random.Random(n)
    return [
        EndpointInfo(
            id=f"m@p{i}",
            model="m",
            provider=f"p{i}",
            upstream_model="m",
            context_length=128_000,
            supported_parameters=PARAMS if i % 3 else PARAMS - {"tools"},
            price=Price(input=rng.uniform(0.1, 3.0), output=rng.uniform(0.5, 10.0)),
        )
        for i in range(n)
    ]


def stats_for(eps: list[EndpointInfo]) -> EndpointStats:
    stats = EndpointStats()
    rng = random.Random(7)
    for t in range(600):
        for e in eps:
            ttft = rng.uniform(100, 900)
            stats.record(
                e.id,
                ok=rng.random() > 0.02,
                timeout=False,
                status=200,
                ttft_ms=ttft,
                latency_ms=ttft + rng.uniform(500, 3000),
                output_tokens=rng.randint(50, 500),
                now=float(t),
            )
    return stats


CASES: dict[str, ProviderPreferences] = {
    "default (1/p² draw)": ProviderPreferences(),
    "sort throughput": parse_preferences({"sort": "throughput"}),
    "constrained": parse_preferences(
        {
            "ignore": ["p1"],
            "max_price": {"prompt": "2.5"},
            "require_parameters": True,
            "preferred_max_latency": 0.8,
        }
    ),
}


def main() -> None:
    for n in (3, 20):
        eps = endpoints(n)
        stats = stats_for(eps)
        rng = random.Random(1)
        for label, prefs in CASES.items():
            call = functools.partial(
                select,
                eps,
                prefs,
                params={"max_tokens", "tools"},
                needs={"tools"},
                prompt_tokens_estimate=2_000,
                stats=stats,
                rng=rng,
                now=600.0,
            )
            call()  # warm the stats caches
            number = 20_000 if n == 3 else 5_000
            best = min(timeit.repeat(call, number=number, repeat=5)) / number
            print(f"select over {n:2d} endpoints, {label:20s}: {best * 1e6:7.2f} µs/call")


if __name__ == "__main__":
    main()
