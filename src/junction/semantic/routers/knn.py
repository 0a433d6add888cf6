"""k nearest neighbours: a prompt's quality per model is its neighbours' mean quality.

Cosine similarity over the encoder's (unit) vectors; neighbours are weighted by their
similarity, and the mean is shrunk toward the training average by ``prior`` pseudo-rows.
``k`` defaults to the square root of the training rows, between 5 and 200.
A missing quality (NaN: logged traffic scores only the model that served) is left out of
that model's mean.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from junction.semantic.dataset import FloatArray
from junction.semantic.encoders import Features, Setting, Settings
from junction.semantic.routers.base import array, register_router, setting

_CHUNK = 512


class KnnRouter:
    name = "knn"

    def __init__(self, k: int = 0, prior: float = 1.0) -> None:
        self.k = k
        self.prior = prior
        self.vectors: FloatArray = np.zeros((0, 0))
        self.quality: FloatArray = np.zeros((0, 0))

    @classmethod
    def from_settings(cls, settings: Settings) -> KnnRouter:
        return cls(k=int(setting(settings, "k", 0)), prior=setting(settings, "prior", 1.0))

    def neighbours(self) -> int:
        if self.k > 0:
            return min(self.k, len(self.vectors))
        return int(min(len(self.vectors), max(5, min(200, round(len(self.vectors) ** 0.5)))))

    def fit(self, features: Features, quality: FloatArray) -> None:
        self.vectors = features.vectors.astype(np.float32)
        self.quality = quality

    def predict(self, features: Features) -> FloatArray:
        k = self.neighbours()
        seen = ~np.isnan(self.quality)
        known = np.where(seen, self.quality, 0.0)
        counts = seen.sum(axis=0)
        mean = known.sum(axis=0) / np.maximum(counts, 1)
        out = np.empty((len(features), self.quality.shape[1]))
        queries = features.vectors.astype(np.float32)
        for lo in range(0, len(queries), _CHUNK):
            sims = queries[lo : lo + _CHUNK] @ self.vectors.T
            if k < sims.shape[1]:
                top = np.argpartition(-sims, k - 1, axis=1)[:, :k]
            else:
                top = np.broadcast_to(np.arange(sims.shape[1]), (len(sims), sims.shape[1]))
            weights = np.clip(np.take_along_axis(sims, top, axis=1), 1e-6, None).astype(np.float64)
            total = (weights[:, :, None] * known[top]).sum(axis=1) + self.prior * mean
            mass = (weights[:, :, None] * seen[top]).sum(axis=1) + self.prior
            out[lo : lo + _CHUNK] = total / np.maximum(mass, 1e-12)
        return out

    def settings(self) -> dict[str, Setting]:
        return {"k": self.k, "prior": self.prior}

    def arrays(self) -> dict[str, FloatArray]:
        return {"vectors": self.vectors, "quality": self.quality}

    def load_arrays(self, arrays: Mapping[str, FloatArray]) -> None:
        self.vectors = np.asarray(arrays["vectors"], dtype=np.float32)
        self.quality = array(arrays, "quality")


register_router("knn", KnnRouter.from_settings)
