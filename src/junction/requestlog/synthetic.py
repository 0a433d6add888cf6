"""Synthetic log rows (deterministic per seed) for the benchmark and the tests."""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

import msgspec

from junction.requestlog.rows import COLUMNS

KEYS = [f"key-{i:03d}" for i in range(200)]
TEAMS = [f"team-{i:02d}" for i in range(20)]
USERS = [f"user-{i:04d}" for i in range(2000)]  # ten per key
MODELS = ["gpt-4o-mini", "claude-sonnet-4-5", "gemini-2.5-flash", "llama-3.3-70b", "gpt-4.1"]
PROVIDERS = ["openai", "anthropic", "gemini", "groq", "azure"]
TAGS = ["prod", "staging", "batch", "chat", "eval"]


def synthetic_rows(
    n: int, *, start: float, span: float, seed: int = 1
) -> Iterator[tuple[Any, ...]]:
    """``n`` rows spread over ``[start, start + span)`` seconds, in time order."""
    rnd = random.Random(seed)
    step = span / max(n, 1)
    weights = [1 / (k + 1) for k in range(len(KEYS))]  # a few busy keys, a long tail
    keys = rnd.choices(range(len(KEYS)), weights, k=n)
    for i in range(n):
        key = keys[i]
        # Each key has its users and mostly one model, as real traffic does.
        model = key % len(MODELS) if rnd.random() < 0.8 else rnd.randrange(len(MODELS))
        failed = rnd.random() < 0.03
        prompt = rnd.randrange(10, 4000)
        completion = 0 if failed else rnd.randrange(1, 800)
        cached = rnd.randrange(0, prompt // 2 + 1) if rnd.random() < 0.3 else 0
        tags = [TAGS[rnd.randrange(len(TAGS))]] if rnd.random() < 0.5 else []
        latency = rnd.uniform(50, 5000)
        ttft = None if failed else rnd.uniform(20, 800)
        streamed = rnd.random() < 0.5
        endpoint = f"{PROVIDERS[model]}-1"
        attempt = {
            "endpoint": endpoint,
            "provider": endpoint,
            "status": 502 if failed else 200,
            "error": "upstream 502" if failed else None,
            "timeout": False,
            "latency_ms": round(latency, 3),
            "ttft_ms": None if ttft is None else round(ttft, 3),
        }
        row = {
            "id": f"gen-syn-{seed}-{i:08d}",
            "time": start + i * step,
            "key_id": KEYS[key],
            "key_name": KEYS[key],
            "team": TEAMS[key % len(TEAMS)],
            "user_id": USERS[key * 10 + rnd.randrange(10)],
            "door": "openai_chat",
            "model_asked": MODELS[model],
            "model_used": MODELS[model],
            "provider": PROVIDERS[model],
            "endpoint": endpoint,
            "attempts": msgspec.json.encode([attempt]).decode(),
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "cached_tokens": cached,
            "cache_write_tokens": 0,
            "reasoning_tokens": completion // 4,
            "cost": None if failed else round((prompt + 4 * completion) * 1e-6, 9),
            "latency_ms": latency,
            "ttft_ms": ttft,
            "status": 502 if failed else 200,
            "error": "provider_unavailable" if failed else None,
            "cache_hit": False,
            "streamed": streamed,
            "cancelled": False,
            "router": None,
            "request_user": None,
            "metadata": None,
            "tags": msgspec.json.encode(tags).decode(),
            "upstream_id": None,
            "finish_reason": None if failed else "stop",
            "body": None,
            "saved_cost": None,
        }
        yield tuple(row[c] for c in COLUMNS)
