"""Matrix factorisation, RouteLLM-style: a bilinear score over the frozen prompt vector.

``score[j] = model[j] . (projection @ x) + bias[j]``: the prompt vector (plus log length),
reduced to ``components`` principal directions of the training rows, is projected to
``rank`` dimensions and meets a learnt vector per model. Trained on pairs, as RouteLLM
trains on battles: for every prompt and pair of models whose qualities differ,
``sigmoid(score[a] - score[b])`` is the chance ``a`` beats ``b`` (logistic loss, each pair
weighted by the size of the difference over the mean difference). Full-batch Adam with a
seeded start, so the same data and seed give the same router. The predicted quality is the
score: a win-rate logit, comparable within a prompt.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from junction.semantic.dataset import FloatArray
from junction.semantic.encoders import Features, Setting, Settings
from junction.semantic.routers.base import ReducedInputs, array, register_router, setting
from junction.semantic.routers.optim import Adam, sigmoid


class MfRouter:
    name = "mf"

    def __init__(
        self,
        rank: int = 16,
        l2: float = 1e-4,
        steps: int = 200,
        rate: float = 0.02,
        seed: int = 0,
        components: int = 256,
    ) -> None:
        self.components = components
        self.rank = rank
        self.l2 = l2
        self.steps = steps
        self.rate = rate
        self.seed = seed
        self.inputs = ReducedInputs.empty()
        self.projection: FloatArray = np.zeros((0, 0))
        self.models: FloatArray = np.zeros((0, 0))
        self.bias: FloatArray = np.zeros(0)

    @classmethod
    def from_settings(cls, settings: Settings) -> MfRouter:
        return cls(
            rank=int(setting(settings, "rank", 16)),
            l2=setting(settings, "l2", 1e-4),
            steps=int(setting(settings, "steps", 200)),
            rate=setting(settings, "rate", 0.02),
            seed=int(setting(settings, "seed", 0)),
            components=int(setting(settings, "components", 256)),
        )

    def fit(self, features: Features, quality: FloatArray) -> None:
        self.inputs, x = ReducedInputs.fit(features, self.components, self.seed)
        m = quality.shape[1]
        rng = np.random.default_rng(self.seed)
        self.projection = rng.normal(0.0, 1.0 / np.sqrt(x.shape[1]), (x.shape[1], self.rank))
        self.models = rng.normal(0.0, 1.0 / np.sqrt(self.rank), (m, self.rank))
        self.bias = np.zeros(m)
        diff = quality[:, :, None] - quality[:, None, :]  # (n, a, b): a's quality minus b's
        scale = np.abs(diff[diff != 0]).mean() if (diff != 0).any() else 1.0
        weight = np.abs(diff) / scale
        target = (diff > 0).astype(np.float64)
        total = max(float(weight.sum()), 1.0)
        optimiser = Adam([self.projection, self.models, self.bias], self.rate)
        for _ in range(self.steps):
            hidden = x @ self.projection
            score = hidden @ self.models.T + self.bias
            margin = score[:, :, None] - score[:, None, :]
            grad_margin = weight * (sigmoid(margin) - target) / total
            grad_score = grad_margin.sum(axis=2) - grad_margin.sum(axis=1)
            grad_hidden = grad_score @ self.models
            optimiser.step(
                [
                    x.T @ grad_hidden + self.l2 * self.projection,
                    grad_score.T @ hidden + self.l2 * self.models,
                    grad_score.sum(axis=0),
                ]
            )

    def predict(self, features: Features) -> FloatArray:
        hidden = self.inputs(features) @ self.projection
        out: FloatArray = hidden @ self.models.T + self.bias
        return out

    def settings(self) -> dict[str, Setting]:
        return {
            "rank": self.rank,
            "l2": self.l2,
            "steps": self.steps,
            "rate": self.rate,
            "seed": self.seed,
            "components": self.components,
        }

    def arrays(self) -> dict[str, FloatArray]:
        return {
            "projection": self.projection,
            "models": self.models,
            "bias": self.bias,
            **self.inputs.arrays(),
        }

    def load_arrays(self, arrays: Mapping[str, FloatArray]) -> None:
        self.projection = array(arrays, "projection")
        self.models = array(arrays, "models")
        self.bias = array(arrays, "bias")
        self.inputs = ReducedInputs.load(arrays)


register_router("mf", MfRouter.from_settings)
