"""Trained routers on disk: a folder with ``router.json`` (what to rebuild) and
``arrays.npz`` (the learnt numbers, loaded without pickle). Loading needs numpy and this
package's router and encoder classes, never the training data or code path that made it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import msgspec
import numpy as np

from junction.semantic import calibrate
from junction.semantic.calibrate import Calibration
from junction.semantic.dataset import Dataset, FloatArray
from junction.semantic.encoders import (
    Encoder,
    Features,
    FittedEncoder,
    Setting,
    featurize,
    make_encoder,
)
from junction.semantic.evaluate import Pair, Staged, out_of_fold
from junction.semantic.protocols import Protocol
from junction.semantic.routers import Router, make_router

FORMAT = "junction-router"
VERSION = 1
ROUTER_FILE = "router.json"
ARRAYS_FILE = "arrays.npz"
_ENCODER_PREFIX = "encoder."
_ROUTER_PREFIX = "router."


class ArtifactError(ValueError):
    """An artifact that is missing, of another format or version, or inconsistent."""


class EncoderSpec(msgspec.Struct):
    name: str
    settings: dict[str, Setting]


class TrainedOn(msgspec.Struct):
    rows: int
    sha256: str


class Manifest(msgspec.Struct):
    format: str
    version: int
    router: str
    settings: dict[str, Setting]
    encoder: EncoderSpec
    models: list[str]
    mean_costs: list[float] | None
    trained_on: TrainedOn
    strong: str | None = None  # two models: the one a high score routes to
    calibration: Calibration | None = None


@dataclass
class TrainedRouter:
    """An encoder and a router, ready to predict each candidate's quality for prompts."""

    manifest: Manifest
    encoder: Encoder
    router: Router

    @property
    def models(self) -> list[str]:
        return self.manifest.models

    def predict(self, texts: Sequence[str]) -> FloatArray:
        return self.router.predict(featurize(self.encoder, texts))

    def predict_vectors(self, vectors: FloatArray, texts: Sequence[str]) -> FloatArray:
        """As ``predict``, with the prompts' vectors computed elsewhere (an encoder that
        is awaited, such as the gateway's embeddings)."""
        chars = np.array([len(t) for t in texts], dtype=np.float64)
        return self.router.predict(Features(np.asarray(vectors, dtype=np.float64), chars))

    def choose(self, texts: Sequence[str]) -> list[str]:
        """One model per prompt, by the stored calibration."""
        cal = self.manifest.calibration
        if cal is None:
            raise ArtifactError("this artifact has no calibration: train it with --calibrate")
        predicted = self.predict(texts)
        models = self.models
        if cal.threshold is not None and self.manifest.strong is not None:
            strong = models.index(self.manifest.strong)
            weak = 1 - strong
            scores = predicted[:, strong] - predicted[:, weak]
            return [models[strong] if s >= cal.threshold else models[weak] for s in scores]
        if self.manifest.mean_costs is None:
            raise ArtifactError("an N-model calibration needs the models' mean costs")
        costs = np.array(self.manifest.mean_costs)
        if cal.price is not None:
            picks = calibrate.choose_by_price(predicted, costs, cal.price)
        else:
            picks = calibrate.choose_by_quality(predicted, costs, cal.target)
        return [models[int(i)] for i in picks]


def digest(path: str | Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def train(
    data: Dataset,
    router_name: str,
    encoder_name: str,
    router_settings: dict[str, Setting] | None = None,
    encoder_settings: dict[str, Setting] | None = None,
    data_sha256: str = "",
    calibrate_to: tuple[str, float] | None = None,
    seed: int = 0,
    encoder: Encoder | None = None,
) -> TrainedRouter:
    """Train ``router_name`` on all of ``data``; ``encoder`` (else ``encoder_name`` built
    from ``encoder_settings``) gives the vectors: one behind the vector cache, say."""
    if encoder is None:
        encoder = make_encoder(encoder_name, encoder_settings)
    calibration = None
    if calibrate_to is not None:
        calibration = held_out_calibration(
            data, router_name, encoder, router_settings, calibrate_to, seed
        )
    if isinstance(encoder, FittedEncoder):
        encoder.fit(encoder.stage(data.texts))
    router = make_router(router_name, router_settings)
    router.fit(featurize(encoder, data.texts), data.quality)
    costs = data.mean_cost()
    manifest = Manifest(
        format=FORMAT,
        version=VERSION,
        router=router_name,
        settings=router.settings(),
        encoder=EncoderSpec(encoder.name, encoder.settings()),
        models=data.models,
        mean_costs=None if costs is None else [float(c) for c in costs],
        trained_on=TrainedOn(rows=len(data), sha256=data_sha256),
        strong=data.models[Pair.of(data).strong] if len(data.models) == 2 else None,
        calibration=calibration,
    )
    return TrainedRouter(manifest, encoder, router)


def held_out_calibration(
    data: Dataset,
    router_name: str,
    encoder: Encoder | str,
    router_settings: dict[str, Setting] | None,
    target: tuple[str, float],
    seed: int,
    folds: int = 5,
) -> Calibration:
    """Calibrate on the training rows' 5-fold out-of-fold predictions (cross-fitting)."""
    splits = Protocol("cv", folds=min(folds, len(data)), seed=seed).splits(data)
    staged = Staged(make_encoder(encoder) if isinstance(encoder, str) else encoder, data.texts)
    predicted = out_of_fold(data, staged, router_name, router_settings or {}, splits)
    kind, value = target
    # Logged traffic scores one model a row: the others' outcomes are estimated by the
    # out-of-fold predictions (so the stored PGR and quality figures are estimates there).
    q = np.where(np.isnan(data.quality), predicted, data.quality)
    if len(data.models) == 2 and kind != "max-cost":
        pair = Pair.of(data)
        scores = predicted[:, pair.strong] - predicted[:, pair.weak]
        return calibrate.binary(scores, q[:, pair.strong], q[:, pair.weak], kind, value)
    if data.costs is None:
        raise calibrate.CalibrationError(f"{kind} calibration needs `costs` in the data")
    return calibrate.n_model(predicted, q, data.costs, kind, value)


def save(trained: TrainedRouter, folder: str | Path) -> Path:
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    arrays = {_ROUTER_PREFIX + k: v for k, v in trained.router.arrays().items()}
    if isinstance(trained.encoder, FittedEncoder):
        arrays.update({_ENCODER_PREFIX + k: v for k, v in trained.encoder.arrays().items()})
    np.savez(out / ARRAYS_FILE, **arrays)  # type: ignore[arg-type]
    (out / ROUTER_FILE).write_bytes(msgspec.json.format(msgspec.json.encode(trained.manifest)))
    return out


def load(folder: str | Path, encoder: Encoder | None = None) -> TrainedRouter:
    """The artifact in ``folder``; ``encoder`` stands in for the one its manifest names
    (an encoder that needs what only the caller has, such as a running gateway)."""
    manifest = read_manifest(folder)
    base = Path(folder)
    try:
        with np.load(base / ARRAYS_FILE, allow_pickle=False) as stored:
            arrays = {k: np.asarray(stored[k]) for k in stored.files}
    except OSError as exc:
        raise ArtifactError(f"{base / ARRAYS_FILE}: cannot read ({exc})") from None
    if encoder is None:
        encoder = make_encoder(manifest.encoder.name, manifest.encoder.settings)
    if isinstance(encoder, FittedEncoder):
        encoder.load_arrays(_strip(arrays, _ENCODER_PREFIX))
    router = make_router(manifest.router, manifest.settings)
    router.load_arrays(_strip(arrays, _ROUTER_PREFIX))
    return TrainedRouter(manifest, encoder, router)


def read_manifest(folder: str | Path) -> Manifest:
    base = Path(folder)
    try:
        manifest = msgspec.json.decode((base / ROUTER_FILE).read_bytes(), type=Manifest)
    except OSError as exc:
        raise ArtifactError(f"{base / ROUTER_FILE}: cannot read ({exc.strerror})") from None
    except msgspec.DecodeError as exc:
        raise ArtifactError(f"{base / ROUTER_FILE}: not a router manifest ({exc})") from None
    if manifest.format != FORMAT or manifest.version != VERSION:
        raise ArtifactError(
            f"{base}: format {manifest.format} v{manifest.version}; this junction reads "
            f"{FORMAT} v{VERSION}"
        )
    return manifest


def _strip(arrays: dict[str, FloatArray], prefix: str) -> dict[str, FloatArray]:
    return {k.removeprefix(prefix): v for k, v in arrays.items() if k.startswith(prefix)}
