"""Routing data with a known answer: the weak models fail on one topic only."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from junction.semantic.dataset import Dataset, RoutingRow, write_rows

HARD = ["integral", "derivative", "theorem", "matrix", "prove", "equation", "limit", "series"]
EASY = ["recipe", "holiday", "weather", "garden", "movie", "birthday", "coffee", "music"]
FILLER = ["the", "a", "please", "about", "my", "with", "for", "some", "and", "today"]


def prompts(n: int, seed: int) -> tuple[list[str], np.ndarray]:  # type: ignore[type-arg]
    rng = np.random.default_rng(seed)
    hard = rng.random(n) < 0.5
    texts = []
    for is_hard in hard:
        topic = HARD if is_hard else EASY
        words = list(rng.choice(topic, 3)) + list(rng.choice(FILLER, rng.integers(3, 12)))
        rng.shuffle(words)
        texts.append(" ".join(words))
    return texts, hard


def two_models(n: int = 300, seed: int = 0) -> Dataset:
    """Strong right 90% everywhere; weak 90% on easy prompts, 20% on hard ones."""
    texts, hard = prompts(n, seed)
    rng = np.random.default_rng(seed + 1)
    strong = (rng.random(n) < 0.9).astype(float)
    weak = (rng.random(n) < np.where(hard, 0.2, 0.9)).astype(float)
    return Dataset(
        texts=texts,
        models=["big", "small"],
        quality=np.stack([strong, weak], axis=1),
        costs=None,
        groups=["hard" if h else "easy" for h in hard],
    )


def four_models(n: int = 300, seed: int = 0) -> Dataset:
    """tiny and mid are as good as big on easy prompts; on hard ones only big and huge are."""
    texts, hard = prompts(n, seed)
    rng = np.random.default_rng(seed + 2)
    p_right = {
        "tiny": np.where(hard, 0.1, 0.9),
        "mid": np.where(hard, 0.5, 0.9),
        "big": np.full(n, 0.9),
        "huge": np.full(n, 0.92),
    }
    price = {"tiny": 0.1, "mid": 0.5, "big": 2.0, "huge": 8.0}
    models = list(p_right)
    quality = np.stack([(rng.random(n) < p_right[m]).astype(float) for m in models], axis=1)
    tokens = rng.integers(50, 150, n)[:, None]
    costs = tokens * np.array([price[m] for m in models]) / 1e6
    return Dataset(texts, models, quality, costs, ["hard" if h else "easy" for h in hard])


def write_jsonl(data: Dataset, path: Path) -> Path:
    rows = []
    for i, text in enumerate(data.texts):
        costs = None
        if data.costs is not None:
            costs = dict(zip(data.models, data.costs[i].tolist(), strict=True))
        scores = dict(zip(data.models, data.quality[i].tolist(), strict=True))
        rows.append(RoutingRow(prompt=text, scores=scores, costs=costs, group=data.groups[i]))
    write_rows(path, rows)
    return path
