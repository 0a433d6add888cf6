"""The built-in lexical encoder: hashed word and character n-grams, numpy only.

Words (``\\w+``, lower-cased) give unigrams and bigrams; the lower-cased text with runs of
white space collapsed gives character 3- to 5-grams. Each n-gram is hashed to a bucket and a
sign (feature hashing), counts are damped (``log1p``) and weighted by IDF learnt from the
training prompts (``fit``), and the word and character blocks are each L2-normalised, then
joined and normalised again. No download, no model: the same text always gives the same
vector.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Mapping, Sequence

import numpy as np
import numpy.typing as npt

from junction.semantic.dataset import FloatArray
from junction.semantic.encoders import EncoderError, Setting, Settings, register_encoder

U64 = npt.NDArray[np.uint64]
_WORD = re.compile(r"\w+")
_SPACE = re.compile(r"\s+")
_PRIME = np.uint64(1099511628211)
_MIX1 = np.uint64(0xFF51AFD7ED558CCD)
_MIX2 = np.uint64(0xC4CEB9FE1A85EC53)
_S33 = np.uint64(33)
_S63 = np.uint64(63)
_ONE = np.uint64(1)


def _mix(h: U64) -> U64:
    """A 64-bit finaliser (murmur3's), so nearby inputs land in unrelated buckets."""
    h = h ^ (h >> _S33)
    h = h * _MIX1
    h = h ^ (h >> _S33)
    h = h * _MIX2
    return h ^ (h >> _S33)


def char_ngram_hashes(text: str, sizes: Sequence[int]) -> U64:
    data = np.frombuffer(text.encode("utf-8"), dtype=np.uint8).astype(np.uint64)
    out: list[U64] = []
    for n in sizes:
        count = len(data) - n + 1
        if count <= 0:
            continue
        h = np.full(count, np.uint64(n), dtype=np.uint64)
        for k in range(n):
            h = h * _PRIME + data[k : k + count]
        out.append(_mix(h))
    return np.concatenate(out) if out else np.empty(0, dtype=np.uint64)


def word_ngram_hashes(text: str) -> U64:
    words = _WORD.findall(text)
    if not words:
        return np.empty(0, dtype=np.uint64)
    uni = np.array([zlib.crc32(w.encode("utf-8")) for w in words], dtype=np.uint64)
    bi = uni[:-1] * _PRIME + uni[1:] + _ONE
    return _mix(np.concatenate([uni, bi]))


class LexicalEncoder:
    """Hashed n-grams with IDF: ``word_dim`` + ``char_dim`` dimensions (powers of two)."""

    name = "lexical"

    def __init__(self, word_dim: int = 1024, char_dim: int = 1024, max_chars: int = 4000):
        for label, value in (("word_dim", word_dim), ("char_dim", char_dim)):
            if value < 16 or value & (value - 1):
                raise EncoderError(f"lexical encoder: {label} must be a power of two >= 16")
        self.word_dim = word_dim
        self.char_dim = char_dim
        self.max_chars = max_chars
        self.idf: FloatArray = np.ones(word_dim + char_dim)

    @classmethod
    def from_settings(cls, settings: Settings) -> LexicalEncoder:
        return cls(
            word_dim=int(settings.get("word_dim", 1024)),
            char_dim=int(settings.get("char_dim", 1024)),
            max_chars=int(settings.get("max_chars", 4000)),
        )

    @property
    def dim(self) -> int:
        return self.word_dim + self.char_dim

    def settings(self) -> dict[str, Setting]:
        return {"word_dim": self.word_dim, "char_dim": self.char_dim, "max_chars": self.max_chars}

    def _counts(self, text: str) -> FloatArray:
        text = _SPACE.sub(" ", text[: self.max_chars].lower()).strip()
        row = np.zeros(self.dim)
        for hashes, size, offset in (
            (word_ngram_hashes(text), self.word_dim, 0),
            (char_ngram_hashes(text, (3, 4, 5)), self.char_dim, self.word_dim),
        ):
            if len(hashes) == 0:
                continue
            bucket = (hashes & np.uint64(size - 1)).astype(np.intp)
            sign = np.where((hashes >> _S63) & _ONE, -1.0, 1.0)
            row[offset : offset + size] = np.bincount(bucket, weights=sign, minlength=size)
        return row

    def stage(self, texts: Sequence[str]) -> FloatArray:
        """Damped signed n-gram counts, before IDF and normalisation."""
        counts = np.zeros((len(texts), self.dim))
        for i, text in enumerate(texts):
            row = self._counts(text)
            counts[i] = np.sign(row) * np.log1p(np.abs(row))
        return counts

    def fit(self, staged: FloatArray) -> None:
        df = (staged != 0).sum(axis=0)
        self.idf = np.log((1.0 + len(staged)) / (1.0 + df)) + 1.0

    def arrays(self) -> dict[str, FloatArray]:
        return {"idf": self.idf}

    def load_arrays(self, arrays: Mapping[str, FloatArray]) -> None:
        idf = np.asarray(arrays["idf"], dtype=np.float64)
        if idf.shape != (self.dim,):
            raise EncoderError(f"lexical encoder: idf has shape {idf.shape}, want ({self.dim},)")
        self.idf = idf

    def encode(self, texts: Sequence[str]) -> FloatArray:
        return self.finish(self.stage(texts))

    def finish(self, staged: FloatArray) -> FloatArray:
        weighted = staged * self.idf
        out = np.empty_like(weighted)
        for lo, hi in ((0, self.word_dim), (self.word_dim, self.dim)):
            block = weighted[:, lo:hi]
            norms = np.linalg.norm(block, axis=1, keepdims=True)
            out[:, lo:hi] = block / np.where(norms == 0, 1.0, norms)
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        result: FloatArray = out / np.where(norms == 0, 1.0, norms)
        return result


register_encoder("lexical", LexicalEncoder.from_settings)
