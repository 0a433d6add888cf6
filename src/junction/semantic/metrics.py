"""Routing metrics, computed as RouteLLM's evaluate.py / benchmarks.py and RouterBench's AIQ.

Two models (strong, weak): a router gives each prompt a score; the thresholds are the 11
edges of ten equal-count bins of the scores (``pd.qcut(scores, 10)``: the 0, 10, ..., 100 %
quantiles, linear interpolation); a prompt goes to the strong model when its score is ``>=``
the threshold, ``>`` for the last one. Each threshold gives one point (strong-call share,
mean quality). On that curve, sorted by share:

- PGR(point) = (quality - weak) / (strong - weak), weak and strong each model alone;
- APGR = (AUC(router) - AUC(weak)) / (AUC(strong) - AUC(weak)), trapezoids over share;
- CPT(x) = ``np.interp(weak + x * (strong - weak), quality, share)``.

N models with costs: AIQ is RouterBench's: the non-decreasing convex hull of the router's
(mean cost, mean quality) points, extended flat to the largest cost among the compared
routers, integrated with the trapezoid rule and divided by that largest cost.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from junction.semantic.dataset import FloatArray

DECILES = 10


@dataclass(frozen=True)
class Curve:
    """Points of a binary router: share of strong calls and the mean quality there."""

    share: FloatArray
    quality: FloatArray

    def sorted(self) -> Curve:
        order = np.argsort(self.share, kind="stable")
        return Curve(self.share[order], self.quality[order])


@dataclass(frozen=True)
class BinaryMetrics:
    apgr: float
    cpt50: float
    cpt80: float
    curve: Curve


def thresholds(scores: FloatArray, bins: int = DECILES) -> FloatArray:
    """The bin edges ``pd.qcut(scores, bins, retbins=True)`` returns."""
    edges: FloatArray = np.quantile(scores, np.linspace(0.0, 1.0, bins + 1))
    return edges


def routed_curve(
    scores: FloatArray, strong: FloatArray, weak: FloatArray, bins: int = DECILES
) -> Curve:
    """Strong-call share and mean quality at each decile threshold of ``scores``."""
    edges = thresholds(scores, bins)
    share = np.empty(len(edges))
    quality = np.empty(len(edges))
    for i, edge in enumerate(edges):
        chosen = scores > edge if i == len(edges) - 1 else scores >= edge
        share[i] = chosen.mean()
        quality[i] = np.where(chosen, strong, weak).mean()
    return Curve(share, quality)


def oracle_curve(strong: FloatArray, weak: FloatArray, bins: int = DECILES) -> Curve:
    """The best quality reachable at each share in 0, 1/bins, ..., 1 (RouteLLM's optimal).

    The strong calls go to the prompts where the strong model gains most, and only where it
    gains; a fractional call count takes that fraction of the next gain, which is
    RouteLLM's ``min(total * share, only-strong count)`` for right/wrong data.
    """
    gains = np.sort(np.clip(strong - weak, 0.0, None))[::-1]
    cumulative = np.concatenate([[0.0], np.cumsum(gains)])
    share = np.linspace(0.0, 1.0, bins + 1)
    calls = share * len(gains)
    bonus = np.interp(calls, np.arange(len(cumulative)), cumulative)
    return Curve(share, weak.mean() + bonus / len(gains))


def pgr(quality: float, strong: float, weak: float) -> float:
    return (quality - weak) / (strong - weak)


def apgr(curve: Curve, strong: float, weak: float) -> float:
    c = curve.sorted()
    span = c.share[-1] - c.share[0]
    area = float(np.trapezoid(c.quality, c.share))
    return float((area - weak * span) / ((strong - weak) * span))


def cpt(curve: Curve, fraction: float, strong: float, weak: float) -> float:
    c = curve.sorted()
    return float(np.interp(weak + fraction * (strong - weak), c.quality, c.share))


def binary_metrics(curve: Curve, strong: float, weak: float) -> BinaryMetrics:
    return BinaryMetrics(
        apgr=apgr(curve, strong, weak),
        cpt50=cpt(curve, 0.5, strong, weak),
        cpt80=cpt(curve, 0.8, strong, weak),
        curve=curve.sorted(),
    )


def nondecreasing_hull(cost: FloatArray, quality: FloatArray) -> FloatArray:
    """The upper convex hull of the points, sorted by cost, without any falling point."""
    order = np.lexsort((-quality, cost))
    points = np.stack([cost[order], quality[order]], axis=1)
    hull: list[FloatArray] = []
    for p in points:
        if hull and p[0] == hull[-1][0]:
            continue  # same cost, lower or equal quality (sorted so)
        while len(hull) >= 2:
            (x1, y1), (x2, y2) = hull[-2], hull[-1]
            if (x2 - x1) * (p[1] - y1) - (y2 - y1) * (p[0] - x1) >= 0:
                hull.pop()  # hull[-1] lies on or below the chord from hull[-2] to p
            else:
                break
        hull.append(p)
    kept = [hull[0]]
    for p in hull[1:]:
        if p[1] >= kept[-1][1]:
            kept.append(p)
    return np.array(kept)


def aiq(hull: FloatArray, max_cost: float) -> float:
    """Average quality over cost, RouterBench's way: area under the extended hull / max cost."""
    extended = np.vstack([hull, [[max_cost, hull[-1, 1]]]])
    if max_cost <= 0:
        return float(hull[-1, 1])
    return float(np.trapezoid(extended[:, 1], extended[:, 0]) / max_cost)
