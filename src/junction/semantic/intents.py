"""Intent routes: named routes defined by example utterances and a similarity threshold.

A prompt matches the route whose utterances it is most similar to (cosine over the
encoder's vectors, the mean of the ``top_k`` best similarities per route), if that score
reaches the route's threshold; else it matches no route (the same idea as
aurelio-labs/semantic-router's ``Route``). Thresholds can be fitted on labelled examples.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import msgspec
import numpy as np

from junction.semantic.dataset import DatasetError, FloatArray
from junction.semantic.encoders import Encoder, FittedEncoder, make_encoder


class IntentRoute(msgspec.Struct, forbid_unknown_fields=True):
    name: str
    utterances: list[str]
    threshold: float = 0.5
    model: str | None = None  # the model this route sends to, for a caller that wants one


class IntentFile(msgspec.Struct, forbid_unknown_fields=True):
    routes: list[IntentRoute]
    encoder: str = "lexical"
    top_k: int = 3


@dataclass(frozen=True)
class IntentMatch:
    route: str | None
    score: float  # the best route's score, matched or not
    best: str  # the most similar route, even below its threshold


def load_intents(path: str | Path) -> IntentFile:
    try:
        spec = msgspec.json.decode(Path(path).read_bytes(), type=IntentFile)
    except OSError as exc:
        raise DatasetError(f"{path}: cannot read ({exc.strerror})") from None
    except msgspec.ValidationError as exc:
        raise DatasetError(f"{path}: {exc}") from None
    except msgspec.DecodeError as exc:
        raise DatasetError(f"{path}: not JSON ({exc})") from None
    for route in spec.routes:
        if not route.utterances:
            raise DatasetError(f"{path}: route {route.name!r} needs at least one utterance")
    if not spec.routes:
        raise DatasetError(f"{path}: no routes")
    return spec


class IntentRouter:
    """Matches prompts to routes; ``fit_thresholds`` learns each route's threshold."""

    def __init__(self, routes: Sequence[IntentRoute], encoder: Encoder, top_k: int = 3) -> None:
        self.routes = list(routes)
        self.encoder = encoder
        self.top_k = top_k
        texts = [u for r in self.routes for u in r.utterances]
        if isinstance(encoder, FittedEncoder):
            encoder.fit(encoder.stage(texts))
        self.vectors = encoder.encode(texts)
        self.owner = np.repeat(np.arange(len(self.routes)), [len(r.utterances) for r in routes])

    @classmethod
    def from_file(cls, spec: IntentFile) -> IntentRouter:
        return cls(spec.routes, make_encoder(spec.encoder), spec.top_k)

    def scores(self, texts: Sequence[str]) -> FloatArray:
        """(prompts, routes): the mean of each route's ``top_k`` best similarities."""
        sims = self.encoder.encode(texts) @ self.vectors.T
        out = np.empty((len(texts), len(self.routes)))
        for j in range(len(self.routes)):
            own = sims[:, self.owner == j]
            k = min(self.top_k, own.shape[1])
            out[:, j] = np.sort(own, axis=1)[:, -k:].mean(axis=1)
        return out

    def match(self, texts: Sequence[str]) -> list[IntentMatch]:
        scores = self.scores(texts)
        best = np.argmax(scores, axis=1)
        out = []
        for i, j in enumerate(best):
            route = self.routes[int(j)]
            score = float(scores[i, j])
            out.append(
                IntentMatch(route.name if score >= route.threshold else None, score, route.name)
            )
        return out

    def fit_thresholds(self, texts: Sequence[str], labels: Sequence[str | None]) -> None:
        """Per route, the threshold that gets the most labelled examples right among those
        whose most similar route it is (label ``None``: the example should match no route)."""
        scores = self.scores(texts)
        best = np.argmax(scores, axis=1)
        for j, route in enumerate(self.routes):
            mine = best == j
            if not mine.any():
                continue
            s = scores[mine, j]
            positive = np.array([labels[int(i)] == route.name for i in np.flatnonzero(mine)])
            cuts = np.unique(s)
            candidates = np.concatenate(
                [[cuts[0] - 1e-9], (cuts[:-1] + cuts[1:]) / 2, [cuts[-1] + 1e-9]]
            )
            right = [int(((s >= c) == positive).sum()) for c in candidates]
            route.threshold = float(candidates[int(np.argmax(right))])
