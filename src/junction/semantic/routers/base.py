"""The router contract: from prompt features, a predicted quality for each candidate model.

A router learns from ``Features`` (encoder vectors and prompt lengths) and a quality matrix
(rows = prompts, columns = models) and predicts a matrix of the same shape: higher means
better expected quality, comparable across the columns of one row. Decisions (which model
to call) are made from those predictions elsewhere. ``settings()`` and ``arrays()`` are what
the artifact stores; ``load_arrays`` restores a trained router without training code.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from junction.semantic.dataset import FloatArray
from junction.semantic.encoders import Features, Setting, Settings


class RouterError(ValueError):
    """A router name or setting that does not exist, or an artifact that does not fit."""


class Router(Protocol):
    name: str

    def fit(self, features: Features, quality: FloatArray) -> None: ...

    def predict(self, features: Features) -> FloatArray: ...

    def settings(self) -> dict[str, Setting]: ...

    def arrays(self) -> dict[str, FloatArray]: ...

    def load_arrays(self, arrays: Mapping[str, FloatArray]) -> None: ...


RouterFactory = Callable[[Settings], Router]
_ROUTERS: dict[str, RouterFactory] = {}


def register_router(name: str, factory: RouterFactory) -> None:
    _ROUTERS[name] = factory


def router_names() -> list[str]:
    return sorted(_ROUTERS)


def make_router(name: str, settings: Settings | None = None) -> Router:
    try:
        factory = _ROUTERS[name]
    except KeyError:
        raise RouterError(f"unknown router {name!r}: one of {', '.join(router_names())}") from None
    return factory(settings or {})


def setting(settings: Settings, key: str, default: float) -> float:
    value = settings.get(key, default)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            raise RouterError(f"setting {key}={value!r}: expected a number") from None
    return float(value)


@dataclass
class LengthScale:
    """Standardises log prompt length with the training rows' mean and spread."""

    mean: float = 0.0
    std: float = 1.0

    @classmethod
    def fit(cls, chars: FloatArray) -> LengthScale:
        logs = np.log1p(chars)
        std = float(logs.std())
        return cls(float(logs.mean()), std if std > 0 else 1.0)

    def __call__(self, chars: FloatArray) -> FloatArray:
        z: FloatArray = (np.log1p(chars) - self.mean) / self.std
        return z

    def array(self) -> FloatArray:
        return np.array([self.mean, self.std])

    @classmethod
    def load(cls, array: FloatArray) -> LengthScale:
        return cls(float(array[0]), float(array[1]))


def design(features: Features, scale: LengthScale) -> FloatArray:
    """The linear routers' inputs: the vectors plus standardised log length and its square."""
    z = scale(features.chars)[:, None]
    out: FloatArray = np.hstack([features.vectors, z, z * z])
    return out


def array(arrays: Mapping[str, FloatArray], key: str) -> FloatArray:
    try:
        return np.asarray(arrays[key], dtype=np.float64)
    except KeyError:
        raise RouterError(f"artifact lacks the array {key!r}") from None


@dataclass
class Reduction:
    """A PCA of the training inputs, so gradient routers step in a few hundred dimensions
    instead of thousands: exact from the rows' Gram matrix when there are few rows, else a
    seeded randomised range finder (Halko et al.) with one power step. Components keep their
    relative spread; the first has unit variance."""

    center: FloatArray
    basis: FloatArray

    @classmethod
    def fit(cls, inputs: FloatArray, rank: int, seed: int) -> Reduction:
        center = inputs.mean(axis=0)
        x = inputs - center
        rank = max(1, min(rank, *x.shape))
        if len(x) <= 2 * rank:
            rows = x
        else:
            sketch = np.random.default_rng(seed).normal(size=(x.shape[1], rank + 10))
            q = np.linalg.qr(x @ sketch)[0]
            q = np.linalg.qr(x @ (x.T @ q))[0]
            rows = q.T @ x
        eig, left = np.linalg.eigh(rows @ rows.T)
        order = np.argsort(eig)[::-1][:rank]
        eig, left = np.clip(eig[order], 0.0, None), left[:, order]
        directions = rows.T @ left / np.sqrt(np.where(eig > 0, eig, 1.0))
        top = float(np.sqrt(eig[0] / len(x))) if eig[0] > 0 else 1.0
        return cls(center, directions / top)

    def __call__(self, inputs: FloatArray) -> FloatArray:
        out: FloatArray = (inputs - self.center) @ self.basis
        return out


@dataclass
class ReducedInputs:
    """The gradient routers' inputs: :func:`design` reduced by a :class:`Reduction`
    fitted on the training rows, and how they are kept in an artifact."""

    scale: LengthScale
    reduction: Reduction

    @classmethod
    def empty(cls) -> ReducedInputs:
        return cls(LengthScale(), Reduction(np.zeros(0), np.zeros((0, 0))))

    @classmethod
    def fit(
        cls, features: Features, components: int, seed: int
    ) -> tuple[ReducedInputs, FloatArray]:
        """The fitted inputs, and the training rows through them."""
        scale = LengthScale.fit(features.chars)
        inputs = design(features, scale)
        reduction = Reduction.fit(inputs, components, seed)
        return cls(scale, reduction), reduction(inputs)

    def __call__(self, features: Features) -> FloatArray:
        return self.reduction(design(features, self.scale))

    def arrays(self) -> dict[str, FloatArray]:
        return {
            "length_scale": self.scale.array(),
            "reduction_center": self.reduction.center,
            "reduction_basis": self.reduction.basis,
        }

    @classmethod
    def load(cls, arrays: Mapping[str, FloatArray]) -> ReducedInputs:
        return cls(
            LengthScale.load(array(arrays, "length_scale")),
            Reduction(array(arrays, "reduction_center"), array(arrays, "reduction_basis")),
        )
