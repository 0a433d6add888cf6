"""Encoders turn prompts into vectors; routers read the vectors.

The contract is small: ``name``, ``dim``, ``encode(texts)`` (one L2-normalised row per text)
and ``settings()`` (what rebuilds it). An encoder that learns from the training prompts (the
lexical encoder's IDF weights) is a ``FittedEncoder`` too: ``stage``, ``fit``, ``finish``,
``arrays`` and ``load_arrays``; the artifact stores those arrays. Built-ins register through
``register_encoder``, as a third-party encoder would.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from junction.semantic.dataset import FloatArray

Setting = int | float | str
Settings = Mapping[str, Setting]


class Encoder(Protocol):
    name: str

    @property
    def dim(self) -> int: ...

    def encode(self, texts: Sequence[str]) -> FloatArray: ...

    def settings(self) -> dict[str, Setting]: ...


@runtime_checkable
class FittedEncoder(Protocol):
    """An encoder that learns weights from the training prompts, in two stages.

    ``stage(texts)`` is the costly part that learns nothing (so an evaluation runs it once
    for all folds), ``fit(staged)`` learns from the training rows' stage, ``finish(staged)``
    gives the vectors; ``encode(texts)`` is ``finish(stage(texts))``.
    """

    def stage(self, texts: Sequence[str]) -> FloatArray: ...

    def fit(self, staged: FloatArray) -> None: ...

    def finish(self, staged: FloatArray) -> FloatArray: ...

    def arrays(self) -> dict[str, FloatArray]: ...

    def load_arrays(self, arrays: Mapping[str, FloatArray]) -> None: ...


EncoderFactory = Callable[[Settings], Encoder]
_ENCODERS: dict[str, EncoderFactory] = {}


class EncoderError(ValueError):
    """An encoder name or setting that does not exist."""


def register_encoder(name: str, factory: EncoderFactory) -> None:
    _ENCODERS[name] = factory


def encoder_names() -> list[str]:
    return sorted(_ENCODERS)


def make_encoder(name: str, settings: Settings | None = None) -> Encoder:
    try:
        factory = _ENCODERS[name]
    except KeyError:
        raise EncoderError(
            f"unknown encoder {name!r}: one of {', '.join(encoder_names())}"
        ) from None
    return factory(settings or {})


@dataclass(frozen=True)
class Features:
    """What routers read: the encoder's vectors and each prompt's length in characters."""

    vectors: FloatArray
    chars: FloatArray

    def __len__(self) -> int:
        return len(self.chars)

    def take(self, index: npt.NDArray[np.intp]) -> Features:
        return Features(self.vectors[index], self.chars[index])


def featurize(encoder: Encoder, texts: Sequence[str]) -> Features:
    return Features(encoder.encode(texts), np.array([len(t) for t in texts], dtype=np.float64))
