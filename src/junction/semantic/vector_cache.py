"""Vectors of a frozen encoder kept on disk, so an evaluation's second run encodes nothing.

An encoder that learns nothing from the training prompts (``e5``, not ``lexical``) gives
the same vector for the same text every time; :class:`CachedEncoder` wraps one and keeps
each vector under ``sha256(identity, text)``, where ``identity`` names the encoder, its
settings and its model's version. The folder holds one sub-folder per identity (``encoder.txt``
says which) of shard files ``NNNNNN.npz`` (``keys``: 32-byte digests, ``vectors``:
float32), one written per batch of missed texts, so an interrupted run keeps what it did.
Nothing is ever downloaded: a miss is encoded by the wrapped encoder.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from junction.semantic.dataset import FloatArray
from junction.semantic.encoders import Encoder, FittedEncoder, Setting

ENV = "JUNCTION_VECTOR_CACHE"
BATCH = 256
_IDENTITY_FILE = "encoder.txt"

Progress = Callable[[int, int], None]


def default_folder() -> Path:
    """``$JUNCTION_VECTOR_CACHE``, else ``$XDG_CACHE_HOME/junction/vectors`` (``~/.cache``)."""
    if os.environ.get(ENV):
        return Path(os.environ[ENV])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "junction" / "vectors"


def identity(encoder: Encoder) -> str:
    named = getattr(encoder, "identity", None)
    if callable(named):
        return str(named())
    settings = ",".join(f"{k}={v}" for k, v in sorted(encoder.settings().items()))
    return f"{encoder.name} {settings}"


def cacheable(encoder: Encoder) -> bool:
    """Only an encoder that learns nothing gives vectors worth keeping."""
    return not isinstance(encoder, FittedEncoder)


class VectorCache:
    """The shards of one encoder identity, read once into memory."""

    def __init__(self, root: str | Path, identity: str, dim: int) -> None:
        self.identity = identity
        self.dim = dim
        tag = hashlib.sha256(identity.encode("utf-8")).hexdigest()[:16]
        self.folder = Path(root) / tag
        self.rows: dict[bytes, FloatArray] = {}
        self._shards = 0
        if self.folder.is_dir():
            self._read()

    def _read(self) -> None:
        for shard in sorted(self.folder.glob("*.npz")):
            with np.load(shard, allow_pickle=False) as stored:
                keys, vectors = stored["keys"], stored["vectors"]
            if vectors.ndim != 2 or (self.dim and vectors.shape[1] != self.dim):
                continue  # another dimension: not this encoder's, ignored
            for key, vector in zip(keys, vectors, strict=True):
                self.rows[bytes(key)] = vector
            self._shards += 1

    @staticmethod
    def key(identity: str, text: str) -> bytes:
        return hashlib.sha256(identity.encode("utf-8") + b"\0" + text.encode("utf-8")).digest()

    def get(self, key: bytes) -> FloatArray | None:
        return self.rows.get(key)

    def put(self, keys: Sequence[bytes], vectors: FloatArray) -> None:
        """Keep a batch in memory and as one new shard on disk."""
        self.folder.mkdir(parents=True, exist_ok=True)
        label = self.folder / _IDENTITY_FILE
        if not label.exists():
            label.write_text(self.identity + "\n", encoding="utf-8")
        stored = vectors.astype(np.float32)
        digests = np.frombuffer(b"".join(keys), dtype=np.uint8).reshape(len(keys), 32)
        tmp = self.folder / f".{os.getpid()}-{self._shards:06d}.npz"
        np.savez(tmp, keys=digests, vectors=stored)
        final = self.folder / f"{os.getpid()}-{self._shards:06d}.npz"
        tmp.replace(final)
        self._shards += 1
        for key, vector in zip(keys, stored, strict=True):
            self.rows[key] = vector


class CachedEncoder:
    """A frozen encoder whose vectors come from the cache when it has them."""

    def __init__(
        self,
        inner: Encoder,
        root: str | Path | None = None,
        batch: int = BATCH,
        progress: Progress | None = None,
    ) -> None:
        self.inner = inner
        self.name = inner.name
        self.cache = VectorCache(root or default_folder(), identity(inner), inner.dim)
        self.batch = batch
        self.progress = progress
        self.encoded = 0
        """How many texts this wrapper had to encode (the cache's misses)."""

    @property
    def dim(self) -> int:
        return self.inner.dim

    def settings(self) -> dict[str, Setting]:
        return self.inner.settings()

    def encode(self, texts: Sequence[str]) -> FloatArray:
        prepare = getattr(self.inner, "prepare", None)
        keys = [
            VectorCache.key(self.cache.identity, prepare(t) if callable(prepare) else t)
            for t in texts
        ]
        todo = list(dict.fromkeys(k for k in keys if self.cache.get(k) is None))
        first = {k: i for i, k in reversed(list(enumerate(keys)))}
        for lo in range(0, len(todo), self.batch):
            batch = todo[lo : lo + self.batch]
            self.cache.put(batch, self.inner.encode([texts[first[k]] for k in batch]))
            self.encoded += len(batch)
            if self.progress:
                self.progress(min(lo + self.batch, len(todo)), len(todo))
        if not keys:
            return np.zeros((0, self.dim))
        out: FloatArray = np.vstack([self.cache.rows[k] for k in keys]).astype(np.float64)
        return out
