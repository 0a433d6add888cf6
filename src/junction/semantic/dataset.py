"""Routing datasets: one JSONL row per prompt with each candidate model's outcome.

A row is ``{"prompt": ..., "scores": {model: quality}, "costs": {model: usd}, "tokens":
{model: n}, "group": ..., "id": ...}``; ``messages`` (OpenAI chat shape) may stand in for
``prompt``, whose text is then the user turns joined. Scores are any numbers where higher is
better (accuracy 0/1, a judge's 1-10, a reward); every row scores the same models.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import msgspec
import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]


class DatasetError(ValueError):
    """A dataset file that cannot be used, with the line and what to fix."""


class ChatTurn(msgspec.Struct, forbid_unknown_fields=False):
    role: str
    content: str | list[dict[str, object]] | None = None


class RoutingRow(msgspec.Struct, omit_defaults=True, forbid_unknown_fields=True):
    """One prompt and what each candidate model scored on it."""

    scores: dict[str, float]
    prompt: str | None = None
    messages: list[ChatTurn] | None = None
    costs: dict[str, float] | None = None
    tokens: dict[str, int] | None = None
    group: str | None = None
    id: str | None = None

    def text(self) -> str:
        """The text a router reads: ``prompt``, else the user turns of ``messages``."""
        if self.prompt is not None:
            return self.prompt
        parts: list[str] = []
        for turn in self.messages or []:
            if turn.role != "user":
                continue
            if isinstance(turn.content, str):
                parts.append(turn.content)
            elif turn.content:
                parts.extend(
                    str(p.get("text", "")) for p in turn.content if p.get("type") == "text"
                )
        return "\n".join(parts)


@dataclass(frozen=True)
class Dataset:
    """Rows as arrays: ``quality[i, j]`` is model ``models[j]`` on prompt ``texts[i]``."""

    texts: list[str]
    models: list[str]
    quality: FloatArray
    costs: FloatArray | None
    groups: list[str]

    def __len__(self) -> int:
        return len(self.texts)

    def subset(self, index: npt.NDArray[np.intp]) -> Dataset:
        return Dataset(
            texts=[self.texts[i] for i in index],
            models=self.models,
            quality=self.quality[index],
            costs=None if self.costs is None else self.costs[index],
            groups=[self.groups[i] for i in index],
        )

    def mean_cost(self) -> FloatArray | None:
        return None if self.costs is None else self.costs.mean(axis=0)


_decoder = msgspec.json.Decoder(RoutingRow)
_encoder = msgspec.json.Encoder()


def encode_row(row: RoutingRow) -> bytes:
    return _encoder.encode(row)


def write_rows(path: str | Path, rows: Iterable[RoutingRow]) -> int:
    count = 0
    with open(path, "wb") as out:
        for row in rows:
            out.write(encode_row(row) + b"\n")
            count += 1
    return count


def read_rows(path: str | Path) -> list[RoutingRow]:
    rows: list[RoutingRow] = []
    try:
        lines = Path(path).read_bytes().splitlines()
    except OSError as exc:
        raise DatasetError(f"{path}: cannot read ({exc.strerror})") from None
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = _decoder.decode(line)
        except msgspec.ValidationError as exc:
            raise DatasetError(f"{path}:{number}: {exc}") from None
        except msgspec.DecodeError as exc:
            raise DatasetError(f"{path}:{number}: not a JSON object ({exc})") from None
        if row.prompt is None and row.messages is None:
            raise DatasetError(f"{path}:{number}: a row needs `prompt` or `messages`")
        rows.append(row)
    if not rows:
        raise DatasetError(f"{path}: no rows")
    return rows


def load_dataset(path: str | Path) -> Dataset:
    return dataset_from_rows(read_rows(path), str(path))


def dataset_from_rows(rows: Sequence[RoutingRow], source: str = "dataset") -> Dataset:
    models = list(rows[0].scores)
    if len(models) < 2:
        raise DatasetError(f"{source}:1: `scores` must name at least two models")
    wanted = set(models)
    has_costs = rows[0].costs is not None
    quality = np.empty((len(rows), len(models)))
    costs = np.empty((len(rows), len(models))) if has_costs else None
    for i, row in enumerate(rows):
        if set(row.scores) != wanted:
            raise DatasetError(
                f"{source}: row {i + 1} scores {sorted(row.scores)}, the first row scores "
                f"{sorted(models)}; every row must score the same models"
            )
        quality[i] = [row.scores[m] for m in models]
        if costs is not None:
            if row.costs is None or not wanted <= set(row.costs):
                raise DatasetError(
                    f"{source}: row {i + 1} lacks `costs` for some of {sorted(models)}; give "
                    "costs on every row or on none"
                )
            costs[i] = [row.costs[m] for m in models]
    if not np.isfinite(quality).all():
        raise DatasetError(f"{source}: scores must be finite numbers")
    return Dataset(
        texts=[row.text() for row in rows],
        models=models,
        quality=quality,
        costs=costs,
        groups=[row.group or "" for row in rows],
    )
