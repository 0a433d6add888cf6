"""Run routers through a protocol and measure them against the baselines and the oracle.

Predictions are out of fold: every tested row is scored by a router (and an encoder, whose
IDF is learnt on the training rows too) that never saw it; the metrics then read all tested
rows at once, as RouteLLM's read one benchmark.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from junction.semantic import metrics
from junction.semantic.dataset import Dataset, FloatArray
from junction.semantic.encoders import Encoder, Features, FittedEncoder, Settings
from junction.semantic.protocols import Index, Protocol
from junction.semantic.routers import make_router

RANDOM_SEEDS = 10
SWEEP = 81
BUDGETS = (0.1, 0.25, 0.5, 0.75, 1.0)


class EvaluationError(ValueError):
    """Data that cannot be evaluated the way it was asked."""


@dataclass(frozen=True)
class Pair:
    """The two models of binary routing: strong is the costlier, else the better on average."""

    strong: int
    weak: int

    @classmethod
    def of(cls, data: Dataset) -> Pair:
        if len(data.models) != 2:
            raise EvaluationError("binary metrics need exactly two models")
        mean_cost = data.mean_cost()
        key = mean_cost if mean_cost is not None else np.nanmean(data.quality, axis=0)
        strong = int(np.argmax(key))
        return cls(strong=strong, weak=1 - strong)


@dataclass(frozen=True)
class SweepPoint:
    cost: float
    quality: float
    shares: FloatArray


@dataclass(frozen=True)
class Outcome:
    """What one router reached on the tested rows."""

    router: str
    binary: metrics.BinaryMetrics | None
    aiq: float | None
    sweep: list[SweepPoint]
    hull: FloatArray | None


Progress = Callable[[str, int, int], None]


class Staged:
    """The encoder's learning-free stage, computed once for every fold."""

    def __init__(self, encoder: Encoder, texts: Sequence[str]) -> None:
        self.encoder = encoder
        self.fitted = isinstance(encoder, FittedEncoder)
        if isinstance(encoder, FittedEncoder):
            self.data = encoder.stage(texts)
        else:
            self.data = encoder.encode(texts)
        self.chars = np.array([len(t) for t in texts], dtype=np.float64)

    def features(self, train: Index) -> Features:
        """All rows' features, with whatever the encoder learns taken from ``train``."""
        if isinstance(self.encoder, FittedEncoder):
            self.encoder.fit(self.data[train])
            return Features(self.encoder.finish(self.data), self.chars)
        return Features(self.data, self.chars)


def out_of_fold(
    data: Dataset,
    staged: Staged,
    router: str,
    settings: Settings,
    splits: list[tuple[Index, Index]],
    progress: Progress | None = None,
) -> FloatArray:
    predicted = np.full(data.quality.shape, np.nan)
    for i, (train, test) in enumerate(splits):
        features = (
            staged.features(train)
            if router != "length"
            else Features(np.zeros((len(data), 0)), staged.chars)
        )
        model = make_router(router, settings)
        model.fit(features.take(train), data.quality[train])
        predicted[test] = model.predict(features.take(test))
        if progress:
            progress(router, i + 1, len(splits))
    return predicted


def tested_rows(splits: list[tuple[Index, Index]]) -> Index:
    return np.unique(np.concatenate([test for _, test in splits]))


def binary_outcome(name: str, scores: FloatArray, quality: FloatArray, pair: Pair) -> Outcome:
    strong, weak = quality[:, pair.strong], quality[:, pair.weak]
    curve = metrics.routed_curve(scores, strong, weak)
    result = metrics.binary_metrics(curve, float(strong.mean()), float(weak.mean()))
    return Outcome(name, result, None, [], None)


def oracle_binary(quality: FloatArray, pair: Pair) -> Outcome:
    strong, weak = quality[:, pair.strong], quality[:, pair.weak]
    curve = metrics.oracle_curve(strong, weak)
    result = metrics.binary_metrics(curve, float(strong.mean()), float(weak.mean()))
    return Outcome("oracle", result, None, [], None)


def mean_outcome(name: str, outcomes: list[Outcome]) -> Outcome:
    """Random routers: each metric averaged over the seeds, curve averaged point by point."""
    first = outcomes[0]
    binary = None
    if first.binary is not None:
        runs = [o.binary for o in outcomes if o.binary is not None]
        binary = metrics.BinaryMetrics(
            apgr=float(np.mean([r.apgr for r in runs])),
            cpt50=float(np.mean([r.cpt50 for r in runs])),
            cpt80=float(np.mean([r.cpt80 for r in runs])),
            curve=metrics.Curve(
                np.mean([r.curve.share for r in runs], axis=0),
                np.mean([r.curve.quality for r in runs], axis=0),
            ),
        )
    aiq = None
    if first.aiq is not None:
        aiq = float(np.mean([o.aiq for o in outcomes if o.aiq is not None]))
    return Outcome(name, binary, aiq, first.sweep, first.hull)


def sweep(predicted: FloatArray, quality: FloatArray, costs: FloatArray) -> list[SweepPoint]:
    """Willingness to pay: at each price of quality, every prompt takes the model with the
    best predicted quality minus price x cost (ties to the cheaper model)."""
    spread_q = float(np.ptp(predicted)) or 1.0
    spread_c = float(np.ptp(costs)) or 1.0
    prices = np.concatenate([[0.0], np.logspace(-3, 3, SWEEP) * spread_q / spread_c, [np.inf]])
    rows = np.arange(len(quality))
    points = []
    for price in prices:
        if np.isinf(price):
            choice = np.argmin(costs, axis=1)
        else:
            utility = predicted - price * costs - 1e-9 * spread_q * costs / spread_c
            choice = np.argmax(utility, axis=1)
        shares = np.bincount(choice, minlength=quality.shape[1]) / len(choice)
        points.append(
            SweepPoint(
                float(costs[rows, choice].mean()), float(quality[rows, choice].mean()), shares
            )
        )
    return points


def cost_outcome(name: str, points: list[SweepPoint]) -> Outcome:
    cost = np.array([p.cost for p in points])
    quality = np.array([p.quality for p in points])
    return Outcome(name, None, None, points, metrics.nondecreasing_hull(cost, quality))


def single_models(quality: FloatArray, costs: FloatArray) -> Outcome:
    """RouterBench's zero router: the hull of the single models' points."""
    m = quality.shape[1]
    points = [
        SweepPoint(float(costs[:, j].mean()), float(quality[:, j].mean()), np.eye(m)[j])
        for j in range(m)
    ]
    return cost_outcome("single models", points)


def merge(binary: Outcome | None, cost: Outcome | None) -> Outcome:
    if binary is None:
        assert cost is not None
        return cost
    if cost is None:
        return binary
    return Outcome(binary.router, binary.binary, cost.aiq, cost.sweep, cost.hull)


def budget_shares(points: list[SweepPoint], top_cost: float) -> list[tuple[float, SweepPoint]]:
    """At each budget (a fraction of the costliest single model's mean cost), the point of
    best quality the router reaches within it: each model's share of calls there."""
    out = []
    for fraction in BUDGETS:
        within = [p for p in points if p.cost <= fraction * top_cost + 1e-12]
        if within:
            out.append((fraction, max(within, key=lambda p: (p.quality, -p.cost))))
    return out


@dataclass(frozen=True)
class Evaluation:
    """Everything one ``junction router eval`` measured."""

    data: Dataset
    tested: Index
    protocol: Protocol
    pair: Pair | None
    routers: list[Outcome]
    baselines: list[Outcome]
    top_cost: float | None


def _outcome(
    name: str,
    predicted: FloatArray,
    quality: FloatArray,
    costs: FloatArray | None,
    pair: Pair | None,
) -> Outcome:
    binary = None
    if pair is not None:
        binary = binary_outcome(
            name, predicted[:, pair.strong] - predicted[:, pair.weak], quality, pair
        )
    cost = cost_outcome(name, sweep(predicted, quality, costs)) if costs is not None else None
    return merge(binary, cost)


def _oracle(quality: FloatArray, costs: FloatArray | None, pair: Pair | None) -> Outcome:
    binary = oracle_binary(quality, pair) if pair is not None else None
    cost = cost_outcome("oracle", sweep(quality, quality, costs)) if costs is not None else None
    return merge(binary, cost)


def _with_aiq(outcome: Outcome, top_cost: float) -> Outcome:
    """AIQ needs the largest cost among everything compared, so it is filled in last."""
    if outcome.hull is None:
        return outcome
    aiq = metrics.aiq(outcome.hull, top_cost)
    return Outcome(outcome.router, outcome.binary, aiq, outcome.sweep, outcome.hull)


def predictions(
    data: Dataset,
    routers: Sequence[str],
    encoder: Encoder,
    splits: list[tuple[Index, Index]],
    settings: Settings | None = None,
    progress: Progress | None = None,
) -> dict[str, FloatArray]:
    """Out-of-fold predictions of each router and of the length baseline, all rows.

    With two models the length baseline needs no training and gets none: the routing score
    is the prompt's length (RouteLLM's reference baseline), the same on every fold, so
    pooling the folds cannot blur it. With N models it is the ``length`` router.
    """
    staged = Staged(encoder, data.texts)
    out = {}
    for name in routers:
        out[name] = out_of_fold(data, staged, name, settings or {}, splits, progress)
    if len(data.models) == 2:
        pair = Pair.of(data)
        length = np.zeros(data.quality.shape)
        length[:, pair.strong] = staged.chars
        out["length"] = length
    else:
        out["length"] = out_of_fold(data, staged, "length", {}, splits, progress)
    return out


def measure(
    data: Dataset, routers: Sequence[str], predicted: dict[str, FloatArray], protocol: Protocol
) -> Evaluation:
    """Metrics of every router and baseline on all rows of ``data`` (the tested rows)."""
    pair = Pair.of(data) if len(data.models) == 2 else None
    quality, costs = data.quality, data.costs
    measured = [_outcome(name, predicted[name], quality, costs, pair) for name in routers]
    randoms = [
        _outcome("random", np.random.default_rng(seed).random(quality.shape), quality, costs, pair)
        for seed in range(RANDOM_SEEDS)
    ]
    baselines = [
        _outcome("length", predicted["length"], quality, costs, pair),
        _oracle(quality, costs, pair),
    ]
    top_cost = None
    if costs is not None:
        baselines.append(single_models(quality, costs))
        everything = measured + baselines + randoms
        top_cost = max(float(o.hull[:, 0].max()) for o in everything if o.hull is not None)
        measured = [_with_aiq(o, top_cost) for o in measured]
        baselines = [_with_aiq(o, top_cost) for o in baselines]
        randoms = [_with_aiq(o, top_cost) for o in randoms]
    baselines.insert(0, mean_outcome("random", randoms))
    tested = np.arange(len(data))
    return Evaluation(data, tested, protocol, pair, measured, baselines, top_cost)


def _check(data: Dataset) -> None:
    if len(data.models) > 2 and data.costs is None:
        raise EvaluationError(
            f"{len(data.models)} models and no `costs`: N-model evaluation (AIQ) needs each "
            "row's cost per model"
        )


def evaluate(
    data: Dataset,
    routers: Sequence[str],
    encoder: Encoder,
    protocol: Protocol,
    settings: Settings | None = None,
    progress: Progress | None = None,
) -> Evaluation:
    """Every router through the protocol, measured on all tested rows together."""
    _check(data)
    splits = protocol.splits(data)
    tested = tested_rows(splits)
    predicted = predictions(data, routers, encoder, splits, settings, progress)
    subset = data.subset(tested)
    return measure(subset, routers, {k: v[tested] for k, v in predicted.items()}, protocol)


def evaluate_by_group(
    data: Dataset,
    routers: Sequence[str],
    encoder: Encoder,
    protocol: Protocol,
    settings: Settings | None = None,
    progress: Progress | None = None,
) -> list[tuple[str, Evaluation]]:
    """As ``evaluate``, measured on each group's tested rows apart: with ``logo`` on a file
    that joins several benchmarks, each benchmark scored by a router that never saw it."""
    _check(data)
    splits = protocol.splits(data)
    tested = tested_rows(splits)
    predicted = predictions(data, routers, encoder, splits, settings, progress)
    groups = np.array(data.groups)
    out = []
    for group in sorted(set(groups[tested].tolist())):
        rows = tested[groups[tested] == group]
        subset = data.subset(rows)
        out.append(
            (group, measure(subset, routers, {k: v[rows] for k, v in predicted.items()}, protocol))
        )
    return out
