"""Evaluation protocols: which rows train and which rows test, reproducibly from a seed.

- ``cv``: k folds of a seeded permutation; every row is tested once, by a router that never
  saw it.
- ``split``: one seeded split, ``test_fraction`` of the rows tested.
- ``logo``: leave one group out; every group is tested by a router trained on the others
  (MMLU subjects, or benchmarks in a file that joins several). With ``group_folds`` = k,
  the groups are dealt into k seeded folds instead, each fold's groups held out together
  (fewer trainings, still no tested group seen in training).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from junction.semantic.dataset import Dataset

Index = npt.NDArray[np.intp]
PROTOCOLS = ("cv", "split", "logo")


class ProtocolError(ValueError):
    """A protocol that cannot run on this dataset."""


@dataclass(frozen=True)
class Protocol:
    kind: str = "cv"
    folds: int = 5
    test_fraction: float = 0.2
    seed: int = 0
    group_folds: int = 0

    def describe(self) -> str:
        if self.kind == "cv":
            return f"{self.folds}-fold cross-validation, seed {self.seed}"
        if self.kind == "split":
            return f"one split, {self.test_fraction:.0%} tested, seed {self.seed}"
        if self.group_folds:
            return f"groups held out, {self.group_folds} folds of groups, seed {self.seed}"
        return "leave one group out"

    def splits(self, data: Dataset) -> list[tuple[Index, Index]]:
        n = len(data)
        if self.kind == "cv":
            if not 2 <= self.folds <= n:
                raise ProtocolError(f"cv needs 2 to {n} folds, got {self.folds}")
            order = np.random.default_rng(self.seed).permutation(n)
            parts = np.array_split(order, self.folds)
            return [
                (np.sort(np.concatenate(parts[:i] + parts[i + 1 :])), np.sort(p))
                for i, p in enumerate(parts)
            ]
        if self.kind == "split":
            if not 0 < self.test_fraction < 1:
                raise ProtocolError("split needs a test fraction between 0 and 1")
            order = np.random.default_rng(self.seed).permutation(n)
            cut = max(1, min(n - 1, round(n * self.test_fraction)))
            return [(np.sort(order[cut:]), np.sort(order[:cut]))]
        if self.kind == "logo":
            groups = np.array(data.groups)
            names = sorted(set(data.groups))
            if len(names) < 2:
                raise ProtocolError(
                    "logo needs at least two groups; give rows a `group` (this data has "
                    f"{len(names)})"
                )
            if not self.group_folds:
                return [(np.flatnonzero(groups != g), np.flatnonzero(groups == g)) for g in names]
            if not 2 <= self.group_folds <= len(names):
                raise ProtocolError(f"logo needs 2 to {len(names)} group folds")
            order = np.random.default_rng(self.seed).permutation(len(names))
            out = []
            for part in np.array_split(order, self.group_folds):
                held = np.isin(groups, [names[i] for i in part])
                out.append((np.flatnonzero(~held), np.flatnonzero(held)))
            return out
        raise ProtocolError(f"unknown protocol {self.kind!r}: one of {', '.join(PROTOCOLS)}")
