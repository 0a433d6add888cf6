"""The random baseline: every model's predicted quality is a seeded uniform draw."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from junction.semantic.dataset import FloatArray
from junction.semantic.encoders import Features, Setting, Settings
from junction.semantic.routers.base import register_router, setting


class RandomRouter:
    name = "random"

    def __init__(self, seed: int = 0) -> None:
        self.seed = seed
        self.models = 0

    @classmethod
    def from_settings(cls, settings: Settings) -> RandomRouter:
        return cls(seed=int(setting(settings, "seed", 0)))

    def fit(self, features: Features, quality: FloatArray) -> None:
        self.models = quality.shape[1]

    def predict(self, features: Features) -> FloatArray:
        out: FloatArray = np.random.default_rng(self.seed).random((len(features), self.models))
        return out

    def settings(self) -> dict[str, Setting]:
        return {"seed": self.seed}

    def arrays(self) -> dict[str, FloatArray]:
        return {"models": np.array([float(self.models)])}

    def load_arrays(self, arrays: Mapping[str, FloatArray]) -> None:
        self.models = int(arrays["models"][0])


register_router("random", RandomRouter.from_settings)
