"""Ridge regression of each model's quality on the vectors and log length.

The penalty is chosen on the training rows alone, by exact leave-one-out error over a grid
(closed form from one eigendecomposition of the Gram matrix), so no test row tunes it.
With missing qualities (NaN: logged traffic scores only the model that served), each model
is fitted on the rows that score it.
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
        if not np.isnan(quality).any():
            self.intercept, self.coef, self.chosen = self._fit(inputs, quality)
            return
        m = quality.shape[1]
        self.coef = np.zeros((inputs.shape[1], m))
        self.intercept = np.zeros(m)
        for j in range(m):
            rows = np.flatnonzero(~np.isnan(quality[:, j]))
            if len(rows) < 2:
                self.intercept[j] = float(quality[rows, j].mean()) if len(rows) else 0.0
                continue
            sub = inputs[rows]
            intercept, coef, self.chosen = self._fit(sub, quality[rows, j : j + 1])
            # centred on these rows; shifted so predictions centre on all rows
            self.coef[:, j] = coef[:, 0]
            self.intercept[j] = intercept[0] + (self.center - sub.mean(axis=0)) @ coef[:, 0]

    def _fit(self, inputs: FloatArray, quality: FloatArray) -> tuple[FloatArray, FloatArray, float]:
        """Intercept, coefficients and penalty of a ridge fit centred on ``inputs``."""
        center = inputs.mean(axis=0)
        intercept = quality.mean(axis=0)
        x = inputs - center
        y = quality - intercept
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
        coef = x.T @ (left @ (signal / (eig + best[1])[:, None]))
        return intercept, coef, best[1]

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
