"""A classifier per model on "this model is good enough here".

A model is good enough on a prompt when its quality is within ``tolerance`` of the best
quality any candidate reached there; one L2-regularised logistic regression per model on the
vectors and log length, reduced to ``components`` principal directions (full-batch Adam,
fixed steps, so deterministic). The predicted quality is the probability. With two models,
P(strong good enough) - P(weak good enough) is the chance only the strong model is right
minus the chance only the weak one is.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from junction.semantic.dataset import FloatArray
from junction.semantic.encoders import Features, Setting, Settings
from junction.semantic.routers.base import ReducedInputs, array, register_router, setting
from junction.semantic.routers.optim import Adam, sigmoid


class LogisticRouter:
    name = "logistic"

    def __init__(
        self,
        tolerance: float = 0.0,
        l2: float = 1e-3,
        steps: int = 300,
        rate: float = 0.05,
        components: int = 256,
    ) -> None:
        self.components = components
        self.tolerance = tolerance
        self.l2 = l2
        self.steps = steps
        self.rate = rate
        self.inputs = ReducedInputs.empty()
        self.weights: FloatArray = np.zeros((0, 0))
        self.bias: FloatArray = np.zeros(0)

    @classmethod
    def from_settings(cls, settings: Settings) -> LogisticRouter:
        return cls(
            tolerance=setting(settings, "tolerance", 0.0),
            l2=setting(settings, "l2", 1e-3),
            steps=int(setting(settings, "steps", 300)),
            rate=setting(settings, "rate", 0.05),
            components=int(setting(settings, "components", 256)),
        )

    def fit(self, features: Features, quality: FloatArray) -> None:
        self.inputs, x = ReducedInputs.fit(features, self.components, 0)
        best = quality.max(axis=1, keepdims=True)
        labels = (quality >= best - self.tolerance).astype(np.float64)
        rate = labels.mean(axis=0).clip(1e-3, 1 - 1e-3)
        self.weights = np.zeros((x.shape[1], quality.shape[1]))
        self.bias = np.log(rate / (1 - rate))
        optimiser = Adam([self.weights, self.bias], self.rate)
        n = len(x)
        for _ in range(self.steps):
            error = sigmoid(x @ self.weights + self.bias) - labels
            optimiser.step([x.T @ error / n + self.l2 * self.weights, error.mean(axis=0)])

    def predict(self, features: Features) -> FloatArray:
        return sigmoid(self.inputs(features) @ self.weights + self.bias)

    def settings(self) -> dict[str, Setting]:
        return {
            "tolerance": self.tolerance,
            "l2": self.l2,
            "steps": self.steps,
            "rate": self.rate,
            "components": self.components,
        }

    def arrays(self) -> dict[str, FloatArray]:
        return {
            "weights": self.weights,
            "bias": self.bias,
            **self.inputs.arrays(),
        }

    def load_arrays(self, arrays: Mapping[str, FloatArray]) -> None:
        self.weights = array(arrays, "weights")
        self.bias = array(arrays, "bias")
        self.inputs = ReducedInputs.load(arrays)


register_router("logistic", LogisticRouter.from_settings)
