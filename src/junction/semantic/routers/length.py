"""The length baseline: longer prompts to the models that are better on average.

No encoder and nothing learnt from the prompts: a model's predicted quality is its training
mean plus a term in standardised log length that grows with the model's rank by mean quality.
On two models this ranks prompts by length alone (the longest to the better model), the
``prompt length`` baseline of RouteLLM's reference curves.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from junction.semantic.dataset import FloatArray
from junction.semantic.encoders import Features, Setting, Settings
from junction.semantic.routers.base import LengthScale, array, register_router

TILT = 0.1


class LengthRouter:
    name = "length"

    def __init__(self) -> None:
        self.scale = LengthScale()
        self.mean: FloatArray = np.zeros(0)
        self.tilt: FloatArray = np.zeros(0)

    @classmethod
    def from_settings(cls, settings: Settings) -> LengthRouter:
        return cls()

    def fit(self, features: Features, quality: FloatArray) -> None:
        self.scale = LengthScale.fit(features.chars)
        self.mean = quality.mean(axis=0)
        rank = np.argsort(np.argsort(self.mean, kind="stable"), kind="stable")
        spread = float(quality.std()) or 1.0
        self.tilt = TILT * spread * (rank / max(len(rank) - 1, 1) - 0.5)

    def predict(self, features: Features) -> FloatArray:
        z = self.scale(features.chars)[:, None]
        out: FloatArray = self.mean + z * self.tilt
        return out

    def settings(self) -> dict[str, Setting]:
        return {}

    def arrays(self) -> dict[str, FloatArray]:
        return {"mean": self.mean, "tilt": self.tilt, "length_scale": self.scale.array()}

    def load_arrays(self, arrays: Mapping[str, FloatArray]) -> None:
        self.mean = array(arrays, "mean")
        self.tilt = array(arrays, "tilt")
        self.scale = LengthScale.load(array(arrays, "length_scale"))


register_router("length", LengthRouter.from_settings)
