"""The on-disk vector cache: keyed by encoder identity and text, one shard per batch,
read back by a new process's wrapper, never consulted for an encoder that learns."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from junction.semantic import CachedEncoder
from junction.semantic.dataset import FloatArray
from junction.semantic.encoders import Setting, make_encoder
from junction.semantic.vector_cache import VectorCache, cacheable, default_folder


class Counting:
    """A frozen encoder that counts what it encodes (vectors from the text's bytes)."""

    name = "counting"

    def __init__(self, salt: int = 0) -> None:
        self.salt = salt
        self.seen: list[str] = []

    @property
    def dim(self) -> int:
        return 8

    def settings(self) -> dict[str, Setting]:
        return {"salt": self.salt}

    def encode(self, texts: Sequence[str]) -> FloatArray:
        self.seen.extend(texts)
        out = np.zeros((len(texts), 8))
        for i, text in enumerate(texts):
            for j, byte in enumerate(text.encode()):
                out[i, (j + self.salt) % 8] += byte
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        result: FloatArray = out / np.where(norms == 0, 1, norms)
        return result


def test_second_run_encodes_nothing_and_gives_the_same_vectors(tmp_path: Path) -> None:
    texts = ["alpha", "beta", "alpha", "gamma delta", "beta"]
    inner = Counting()
    first = CachedEncoder(inner, tmp_path, batch=2)
    a = first.encode(texts)
    assert inner.seen == ["alpha", "beta", "gamma delta"]  # each distinct text once
    assert first.encoded == 3
    assert len(list(first.cache.folder.glob("*.npz"))) == 2  # batches of 2: two shards
    again = Counting()
    second = CachedEncoder(again, tmp_path, batch=2)  # a new wrapper reads the disk
    b = second.encode(texts)
    assert again.seen == []
    assert second.encoded == 0
    np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(a[0], Counting().encode(["alpha"])[0], rtol=1e-6)
    assert (first.cache.folder / "encoder.txt").read_text().startswith("counting")


def test_another_identity_does_not_share_vectors(tmp_path: Path) -> None:
    CachedEncoder(Counting(salt=0), tmp_path).encode(["same text"])
    other = Counting(salt=3)
    cached = CachedEncoder(other, tmp_path)
    cached.encode(["same text"])
    assert other.seen == ["same text"]
    assert VectorCache.key("a", "b") != VectorCache.key("a", "c") != VectorCache.key("b", "b")


def test_only_frozen_encoders_are_cached(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    assert not cacheable(make_encoder("lexical"))  # it learns IDF from the training rows
    assert cacheable(Counting())
    monkeypatch.setenv("JUNCTION_VECTOR_CACHE", str(tmp_path))
    assert default_folder() == tmp_path
    assert CachedEncoder(Counting()).encode([]).shape == (0, 8)
