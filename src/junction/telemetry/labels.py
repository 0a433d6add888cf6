"""Bounded label values: a key's id (never its secret) and its team.

Prometheus keeps one series per label combination, so a gateway with
thousands of keys must not give each its own. :class:`TopValues` keeps
request counts per value and gives a value its own label while it is
among the ``limit`` most used seen so far; the rest share ``other``.
A value that has its label keeps it (a series that vanished and came
back would read as a counter reset), so at most ``limit`` plus the values
promoted later ever get one, and a value is promoted only when it has
overtaken the least used of the labelled ones.
"""

from __future__ import annotations

OTHER = "other"
NONE = "none"


class TopValues:
    __slots__ = ("_counts", "_labelled", "_least", "limit", "promoted")

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._counts: dict[str, int] = {}
        self._labelled: set[str] = set()
        self._least = 0
        """The smallest request count among the labelled values (a lower bound)."""
        self.promoted = 0
        """Values labelled after the first ``limit`` (each overtook a labelled one)."""

    def label(self, value: str | None) -> str:
        if value is None:
            return NONE
        counts = self._counts
        count = counts.get(value, 0) + 1
        if value in self._labelled:
            counts[value] = count
            return value
        if len(counts) < 64 * max(self.limit, 1) or value in counts:
            counts[value] = count  # the tally of unlabelled values is bounded too
        if len(self._labelled) < self.limit:
            self._labelled.add(value)
            return value
        if self.limit and count > self._least and count > self._recount_least():
            self._labelled.add(value)
            self.promoted += 1
            return value
        return OTHER

    def _recount_least(self) -> int:
        """Refresh the lower bound (only when a value might overtake it)."""
        counts = self._counts
        self._least = min(counts.get(v, 0) for v in self._labelled) * 2
        return self._least

    def labelled(self) -> frozenset[str]:
        return frozenset(self._labelled)
