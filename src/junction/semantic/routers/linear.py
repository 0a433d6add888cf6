"""Ridge regression of each model's quality on the vectors and log length.

The penalty is chosen on the training rows alone, by exact leave-one-out error over a grid
(closed form from one eigendecomposition of the Gram matrix), so no test row tunes it.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from junction.semantic.dataset import FloatArray
from junction.semantic.encoders import Features, Setting, Settings
from junction.semantic.routers.base import LengthScale, array, design, register_router, setting

PENALTIES = tuple(float(p) for p in np.logspace(-1, 4, 11))


class LinearRouter:
    name = "linear"

    def __init__(self, penalty: float = 0.0) -> None:
        self.penalty = penalty  # 0: choose by leave-one-out
        self.chosen = penalty
        self.scale = LengthScale()
        self.coef: FloatArray = np.zeros((0, 0))
        self.intercept: FloatArray = np.zeros(0)
        self.center: FloatArray = np.zeros(0)

    @classmethod
    def from_settings(cls, settings: Settings) -> LinearRouter:
        return cls(penalty=setting(settings, "penalty", 0.0))

    def fit(self, features: Features, quality: FloatArray) -> None:
        self.scale = LengthScale.fit(features.chars)
        inputs = design(features, self.scale)
        self.center = inputs.mean(axis=0)
        self.intercept = quality.mean(axis=0)
        x = inputs - self.center
        y = quality - self.intercept
        eig, left = _spectrum(x)
        signal = left.T @ y  # y in the left singular basis
        grid = [self.penalty] if self.penalty > 0 else list(PENALTIES)
        best = (np.inf, grid[0])
        for penalty in grid:
            keep = eig / (eig + penalty)
            fitted = left @ (signal * keep[:, None])
            leverage = 1.0 / len(x) + (left**2) @ keep
            loo = (y - fitted) / (1.0 - leverage)[:, None]
            error = float((loo**2).mean())
            if error < best[0]:
                best = (error, penalty)
        self.chosen = best[1]
        self.coef = x.T @ (left @ (signal / (eig + self.chosen)[:, None]))

    def predict(self, features: Features) -> FloatArray:
        out: FloatArray = (design(features, self.scale) - self.center) @ self.coef + self.intercept
        return out

    def settings(self) -> dict[str, Setting]:
        return {"penalty": self.penalty, "chosen_penalty": self.chosen}

    def arrays(self) -> dict[str, FloatArray]:
        return {
            "coef": self.coef,
            "intercept": self.intercept,
            "center": self.center,
            "length_scale": self.scale.array(),
        }

    def load_arrays(self, arrays: Mapping[str, FloatArray]) -> None:
        self.coef = array(arrays, "coef")
        self.intercept = array(arrays, "intercept")
        self.center = array(arrays, "center")
        self.scale = LengthScale.load(array(arrays, "length_scale"))


def _spectrum(x: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Squared singular values and left singular vectors of ``x``, from whichever Gram
    matrix is smaller (float32 products, float64 eigendecomposition)."""
    x32 = x.astype(np.float32)
    if len(x) <= x.shape[1]:
        eig, left = np.linalg.eigh((x32 @ x32.T).astype(np.float64))
    else:
        eig, right = np.linalg.eigh((x32.T @ x32).astype(np.float64))
        left = (x32 @ right.astype(np.float32)).astype(np.float64)
        left /= np.sqrt(np.where(eig > 0, eig, 1.0))
    keep = eig > eig.max() * 1e-10
    return eig[keep], left[:, keep]


register_router("linear", LinearRouter.from_settings)
