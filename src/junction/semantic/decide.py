"""One prompt's decision at serving time: the stored calibration, or a target given per call.

A :class:`Decider` is built once from a loaded :class:`~junction.semantic.TrainedRouter`;
``decide`` encodes one prompt, predicts each candidate's quality and picks a model:

- two models: the strong one when predicted strong minus predicted weak (the score) is at or
  above the threshold; a target share, PGR or cost ceiling picks the threshold from the
  held-out curve stored in the calibration;
- N models: the cheapest model predicted to reach a quality target, or the best predicted
  quality minus price x cost, the price read off the stored held-out cost curve for a
  cost ceiling; the score is the chosen model's predicted quality.

``allowed`` narrows the candidates (a subset of the artifact's models).
"""

from __future__ import annotations

import math
from collections.abc import Collection
from dataclasses import dataclass
from typing import Literal

import numpy as np

from junction.semantic import calibrate
from junction.semantic.artifact import TrainedRouter
from junction.semantic.calibrate import Calibration
from junction.semantic.dataset import FloatArray

TargetKind = Literal["share", "quality", "max-cost"]


class DecisionError(ValueError):
    """A target this router cannot meet (its artifact lacks what the target needs)."""


@dataclass(frozen=True, slots=True)
class Target:
    kind: TargetKind
    value: float


@dataclass(frozen=True, slots=True)
class Decision:
    model: str
    """The chosen model, as the artifact names it."""
    score: float


class Decider:
    def __init__(self, trained: TrainedRouter, default: Target | None = None) -> None:
        self.trained = trained
        self.models = list(trained.models)
        manifest = trained.manifest
        self.calibration: Calibration | None = manifest.calibration
        self.costs = None if manifest.mean_costs is None else np.array(manifest.mean_costs)
        self.strong = self.models.index(manifest.strong) if manifest.strong is not None else None
        self.default = default
        if default is None and self.calibration is None:
            raise DecisionError(
                "the artifact has no calibration: train it with --calibrate or give a target"
            )
        if default is not None:
            self.check(default)

    def check(self, target: Target) -> None:
        """Refuse a target this artifact cannot serve (the message says why)."""
        cal = self.calibration
        if self.strong is not None:
            if target.kind == "max-cost" and self.costs is None:
                raise DecisionError("a cost ceiling needs the models' costs in the artifact")
            if cal is None or cal.thresholds is None or cal.pgrs is None:
                raise DecisionError(
                    "the artifact has no calibration curve: retrain it with --calibrate"
                )
            return
        if target.kind == "share":
            raise DecisionError("a strong-call share applies to a two-model router")
        if self.costs is None:
            raise DecisionError("an N-model decision needs the models' costs in the artifact")
        if target.kind == "max-cost" and (cal is None or cal.prices is None):
            raise DecisionError("the artifact has no cost curve: retrain it with --calibrate")

    def decide(
        self, text: str, target: Target | None = None, allowed: Collection[str] | None = None
    ) -> Decision:
        return self.decide_predicted(self.trained.predict([text])[0], target, allowed)

    def decide_predicted(
        self,
        predicted: FloatArray,
        target: Target | None = None,
        allowed: Collection[str] | None = None,
    ) -> Decision:
        """The decision from one prompt's predicted quality per model."""
        target = target if target is not None else self.default
        if self.strong is not None:
            return self._binary(predicted, target, allowed)
        return self._n_model(predicted, target, allowed)

    def _binary(
        self, predicted: FloatArray, target: Target | None, allowed: Collection[str] | None
    ) -> Decision:
        strong = self.strong or 0
        weak = 1 - strong
        score = float(predicted[strong] - predicted[weak])
        if allowed is not None and len(allowed) == 1:
            return Decision(next(iter(allowed)), score)
        threshold = self._threshold(target)
        return Decision(self.models[strong if score >= threshold else weak], score)

    def _threshold(self, target: Target | None) -> float:
        cal = self.calibration
        assert cal is not None  # checked at construction
        if target is None:
            return cal.threshold if cal.threshold is not None else math.inf
        thresholds, pgrs = cal.thresholds or [], cal.pgrs or []
        steps = len(thresholds) - 1
        if target.kind == "share":
            point = round(min(max(target.value, 0.0), 1.0) * steps)
        elif target.kind == "quality":
            point = next((i for i, p in enumerate(pgrs) if p >= target.value), steps)
        else:
            assert self.costs is not None
            assert self.strong is not None
            strong_cost = float(self.costs[self.strong])
            weak_cost = float(self.costs[1 - self.strong])
            span = strong_cost - weak_cost
            share = (target.value - weak_cost) / span if span > 0 else 1.0
            point = math.floor(min(max(share, 0.0), 1.0) * steps + 1e-9)
        found = thresholds[point]
        return math.inf if found is None else found

    def _n_model(
        self, predicted: FloatArray, target: Target | None, allowed: Collection[str] | None
    ) -> Decision:
        assert self.costs is not None  # checked at construction
        columns = [i for i, m in enumerate(self.models) if allowed is None or m in allowed]
        sub, costs = predicted[columns][None, :], self.costs[columns]
        cal = self.calibration
        if target is None and cal is not None and cal.price is not None:
            pick = calibrate.choose_by_price(sub, costs, cal.price)
        elif target is None or target.kind == "quality":
            goal = target.value if target is not None else (cal.target if cal else 0.0)
            pick = calibrate.choose_by_quality(sub, costs, goal)
        else:
            price = self._price(target.value)
            if math.isinf(price):  # no swept price fits the ceiling: the cheapest
                pick = np.array([int(np.argmin(costs))])
            else:
                pick = calibrate.choose_by_price(sub, costs, price)
        column = columns[int(pick[0])]
        return Decision(self.models[column], float(predicted[column]))

    def _price(self, ceiling: float) -> float:
        cal = self.calibration
        assert cal is not None
        assert cal.prices is not None
        assert cal.price_costs is not None
        pairs = zip(cal.prices, cal.price_costs, strict=True)
        return next((p for p, c in pairs if c <= ceiling), math.inf)
