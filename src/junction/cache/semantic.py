"""The semantic cache: an answer for a request whose last turn means the same.

A request is split in two (:func:`split`): its *partition*, the exact key
of everything but the last turn's text (the model, every parameter, the
tools, the earlier turns, the last turn's role and non-text parts), and
that text. Only entries of the same partition are compared, so an answer is
never served to a request with other tools, parameters or history; among
them, the entry whose text's embedding is closest (cosine, numpy) answers
when its similarity reaches the threshold.

Entries live in this process's memory, per namespace, at most
``max_entries`` per namespace (oldest out first) and ``max_namespaces``
namespaces (least recently used out first). The embeddings come from an
``embed`` function: the built-in lexical encoder, or an embedding model
called through the gateway's own embeddings path.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence

import msgspec
import numpy as np
import numpy.typing as npt

from junction.cache.key import cache_key
from junction.cache.protocol import Ask, Found
from junction.semantic.lexical import LexicalEncoder
from junction.types import ChatRequest, TextPart

Vector = npt.NDArray[np.float32]
"""An embedding (the cache's are L2-normalised)."""

Embed = Callable[[Sequence[str]], Awaitable[npt.NDArray[np.floating]]]
"""Texts to one embedding row each (any scale: rows are normalised here)."""


def lexical_embed(encoder: LexicalEncoder | None = None) -> Embed:
    """The built-in lexical encoder (hashed word and character n-grams, no
    model, no download) as an :data:`Embed`."""
    lexical = encoder or LexicalEncoder()

    async def embed(texts: Sequence[str]) -> npt.NDArray[np.floating]:
        return lexical.encode(texts)

    return embed


def split(request: ChatRequest) -> tuple[str, str]:
    """(partition, text): the key of the request without its last turn's
    text, and that text (empty when the last turn has none)."""
    if not request.messages:
        return cache_key(request), ""
    *earlier, last = request.messages
    text = "\n".join(p.text for p in last.content if isinstance(p, TextPart))
    rest = [p for p in last.content if not isinstance(p, TextPart)]
    without = msgspec.structs.replace(last, content=rest)
    return cache_key(msgspec.structs.replace(request, messages=[*earlier, without])), text


class _Entry:
    __slots__ = ("expires", "partition", "value", "vector")

    def __init__(self, partition: str, vector: Vector, value: bytes, expires: float) -> None:
        self.partition = partition
        self.vector = vector
        self.value = value
        self.expires = expires


class _Partition:
    """The entries of one partition and their vectors as one matrix."""

    __slots__ = ("entries", "vectors")

    def __init__(self, dim: int) -> None:
        self.entries: list[_Entry] = []
        self.vectors: Vector = np.empty((0, dim), dtype=np.float32)

    def add(self, entry: _Entry) -> None:
        self.entries.append(entry)
        self.vectors = np.vstack([self.vectors, entry.vector[None, :]])

    def remove(self, entry: _Entry) -> None:
        i = self.entries.index(entry)
        del self.entries[i]
        self.vectors = np.delete(self.vectors, i, axis=0)

    def best(self, vector: Vector, now: float) -> tuple[_Entry, float] | None:
        if vector.shape[0] != self.vectors.shape[1] or not self.entries:
            return None
        sims = self.vectors @ vector
        live = np.array([e.expires > now for e in self.entries])
        sims = np.where(live, sims, -np.inf)
        i = int(np.argmax(sims))
        return (self.entries[i], float(sims[i])) if live[i] else None


class _Space:
    """One namespace: its partitions, and its entries oldest first."""

    __slots__ = ("order", "partitions")

    def __init__(self) -> None:
        self.order: OrderedDict[int, _Entry] = OrderedDict()
        self.partitions: dict[str, _Partition] = {}

    def remove(self, entry: _Entry) -> None:
        self.order.pop(id(entry), None)
        part = self.partitions[entry.partition]
        part.remove(entry)
        if not part.entries:
            del self.partitions[entry.partition]

    def __len__(self) -> int:
        return len(self.order)


class SemanticCache:
    """An :class:`~junction.cache.AnswerCache` by embedding similarity."""

    kind = "semantic"

    def __init__(
        self,
        embed: Embed,
        threshold: float = 0.95,
        max_entries: int = 1000,
        max_namespaces: int = 100,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._embed = embed
        self.threshold = threshold
        self._max_entries = max_entries
        self._max_spaces = max_namespaces
        self._clock = clock
        self._spaces: OrderedDict[str, _Space] = OrderedDict()

    def entries(self, namespace: str = "") -> int:
        space = self._spaces.get(namespace)
        return len(space) if space is not None else 0

    async def find(self, ask: Ask) -> Found | None:
        partition, text = self._split(ask)
        space = self._spaces.get(ask.namespace)
        if not text or space is None or partition not in space.partitions:
            return None
        vector = await self._vector(ask, text)
        part = space.partitions.get(partition)  # again: the embedding was awaited
        best = part.best(vector, self._clock()) if part is not None else None
        if best is None or best[1] < self.threshold:
            return None
        self._spaces.move_to_end(ask.namespace)
        return Found(best[0].value, similarity=best[1])

    async def keep(self, ask: Ask, value: bytes, ttl: float) -> None:
        partition, text = self._split(ask)
        if not text:
            return
        vector = await self._vector(ask, text)
        space = self._spaces.get(ask.namespace)
        if space is None:
            space = self._spaces[ask.namespace] = _Space()
            while len(self._spaces) > self._max_spaces:
                self._spaces.popitem(last=False)
        self._spaces.move_to_end(ask.namespace)
        now = self._clock()
        part = space.partitions.get(partition)
        if part is None:
            part = space.partitions[partition] = _Partition(vector.shape[0])
        same = part.best(vector, now)
        if same is not None and same[1] >= self.threshold:
            space.remove(same[0])  # a fresher answer to the same question
            part = space.partitions.setdefault(partition, part)
        entry = _Entry(partition, vector, value, now + ttl)
        part.add(entry)
        space.order[id(entry)] = entry
        while len(space) > self._max_entries:
            space.remove(next(iter(space.order.values())))

    async def close(self) -> None:
        self._spaces.clear()

    def _split(self, ask: Ask) -> tuple[str, str]:
        if ask.partition is None or ask.text is None:
            ask.partition, ask.text = split(ask.request)
        return ask.partition, ask.text

    async def _vector(self, ask: Ask, text: str) -> Vector:
        if ask.vector is None:
            rows = await self._embed([text])
            row = np.asarray(rows[0], dtype=np.float32)
            norm = float(np.linalg.norm(row))
            ask.vector = row / norm if norm > 0 else row
        return ask.vector
