"""Twenty models with USD costs (the size of a real leaderboard), a whole evaluation run
twice for determinism, and routers learning from rows that score one model each (logged
traffic)."""

from __future__ import annotations

import numpy as np
import pytest
from tests.semantic._synthetic import prompts, two_models

from junction.semantic import artifact, evaluate
from junction.semantic.dataset import Dataset
from junction.semantic.decide import Decider, Target
from junction.semantic.encoders import featurize
from junction.semantic.lexical import LexicalEncoder
from junction.semantic.protocols import Protocol
from junction.semantic.routers import make_router


def twenty_models(n: int = 300, seed: int = 0) -> Dataset:
    """Twenty models, price rising with the index: every model is right on easy prompts 90% of
    the time; on hard ones the fourteen cheapest mostly fail (10-40%), m14 and dearer are
    right 90% (the dearest few barely better: buying them is waste)."""
    texts, hard = prompts(n, seed)
    rng = np.random.default_rng(seed + 3)
    m = 20
    skill = np.concatenate([np.linspace(0.1, 0.4, 14), np.linspace(0.9, 0.93, 6)])
    p_right = np.where(hard[:, None], skill[None, :], 0.9)
    quality = (rng.random((n, m)) < p_right).astype(float)
    price = np.geomspace(0.05, 30.0, m)  # USD per million tokens
    tokens = rng.integers(50, 400, n)[:, None]
    costs = tokens * price[None, :] / 1e6
    models = [f"m{j:02d}" for j in range(m)]
    return Dataset(texts, models, quality, costs, ["hard" if h else "easy" for h in hard])


def test_twenty_models_beat_the_single_models_and_the_shares_do_not_collapse() -> None:
    data = twenty_models()
    result = evaluate.evaluate(data, ["knn", "linear"], LexicalEncoder(), Protocol("cv"))
    aiq = {o.router: o.aiq for o in result.routers + result.baselines}
    for name in ("knn", "linear"):
        assert aiq["single models"] < aiq[name] <= aiq["oracle"]  # type: ignore[operator]
        assert aiq[name] > aiq["random"]  # type: ignore[operator]
    assert result.top_cost is not None
    (knn, _) = result.routers
    _, richest = evaluate.budget_shares(knn.sweep, result.top_cost)[-1]
    assert richest.shares.sum() == pytest.approx(1.0)
    assert richest.shares[-3:].sum() < 0.5  # not everything to the dearest models


def test_twenty_model_artifact_decides_within_a_cost_ceiling_and_candidates() -> None:
    data = twenty_models()
    mean_costs = data.costs.mean(axis=0)  # type: ignore[union-attr]
    ceiling = float(mean_costs[14] / 2 + mean_costs[0] / 2)
    decider = Decider(artifact.train(data, "linear", "lexical", calibrate_to=("max-cost", ceiling)))
    hard = decider.decide("prove the theorem about the integral of this series")
    easy = decider.decide("a coffee recipe for my birthday")
    rank = decider.models.index
    assert rank(hard.model) > rank(easy.model)  # the hard prompt gets a dearer model
    only = ["m00", "m05"]
    assert decider.decide("prove the theorem", allowed=only).model in only
    cheap = decider.decide("prove the theorem", Target("max-cost", 0.0))
    assert cheap.model == "m00"  # no swept price fits a zero ceiling: the cheapest


def test_the_same_data_seed_and_config_give_the_same_numbers() -> None:
    data = twenty_models(n=200)
    routers = ["knn", "linear", "logistic", "mf", "random"]
    runs = [
        evaluate.evaluate(data, routers, LexicalEncoder(), Protocol("cv", seed=7)) for _ in range(2)
    ]
    first, second = ([(o.router, o.aiq) for o in r.routers + r.baselines] for r in runs)
    assert first == second
    pair = two_models(n=200)
    binary = [
        evaluate.evaluate(pair, routers, LexicalEncoder(), Protocol("cv", seed=7)) for _ in range(2)
    ]
    a, b = ([(o.router, o.binary) for o in r.routers] for r in binary)
    assert [(n, m.apgr, m.cpt50, m.cpt80) for n, m in a if m] == [
        (n, m.apgr, m.cpt50, m.cpt80) for n, m in b if m
    ]
    other = evaluate.evaluate(data, routers, LexicalEncoder(), Protocol("cv", seed=8))
    assert [(o.router, o.aiq) for o in other.routers] != first[: len(routers)]


@pytest.mark.parametrize("name", ["knn", "linear"])
def test_routers_learn_from_rows_that_score_one_model_each(name: str) -> None:
    """Logged traffic: each prompt was served by one model, which alone has a score."""
    data = two_models(n=400)
    served = np.random.default_rng(5).integers(0, 2, len(data))
    partial = np.full(data.quality.shape, np.nan)
    partial[np.arange(len(data)), served] = data.quality[np.arange(len(data)), served]
    encoder = LexicalEncoder()
    encoder.fit(encoder.stage(data.texts))
    router = make_router(name)
    router.fit(featurize(encoder, data.texts), partial)
    probe = ["prove this theorem about the integral", "a holiday recipe with coffee"]
    predicted = router.predict(featurize(encoder, probe))
    assert not np.isnan(predicted).any()
    gain = predicted[:, 0] - predicted[:, 1]  # big minus small
    assert gain[0] > gain[1] + 0.2
