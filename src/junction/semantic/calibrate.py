"""Decisions and their calibration: from predicted qualities to one model per prompt.

- Two models: the strong model when predicted strong minus predicted weak is at or above a
  threshold. Calibrated to a target share of strong calls (the threshold is that quantile of
  the scores) or to a quality target (the fewest strong calls whose performance gap
  recovered, PGR, reaches the target).
- N models: the model maximising predicted quality minus ``price`` x its mean cost,
  calibrated to a cost ceiling per request (the lowest price whose mean cost fits); or the
  cheapest model whose predicted quality meets an absolute target.

Calibration reads held-out predictions (``junction router train --calibrate`` uses the
training rows' out-of-fold predictions), so the stored threshold is not fitted to rows the
router memorised; ``calibrate`` re-runs on any logged predictions and outcomes.
"""

from __future__ import annotations

import msgspec
import numpy as np
import numpy.typing as npt

from junction.semantic.dataset import FloatArray

Choice = npt.NDArray[np.intp]
KINDS = ("share", "quality", "max-cost")
PRICES = np.concatenate([[0.0], np.logspace(-4, 4, 161)])


class CalibrationError(ValueError):
    """A calibration target that does not apply to this data."""


class Calibration(msgspec.Struct, omit_defaults=True):
    """The stored decision rule and what it reached on the held-out rows."""

    kind: str
    target: float
    threshold: float | None = None  # two models: route strong at or above
    price: float | None = None  # N models: quality per unit of cost
    share: float | None = None  # reached: strong-call share (two models)
    pgr: float | None = None  # reached: performance gap recovered (two models)
    mean_cost: float | None = None  # reached: mean cost per request (with costs)
    quality: float | None = None  # reached: mean quality
    thresholds: list[float | None] | None = None
    """Two models: the threshold sending 0%, 1%, ..., 100% of the held-out prompts to the
    strong model (101 values; None: above every score), so a request may ask for another
    share."""
    pgrs: list[float] | None = None
    """Two models: the held-out PGR reached at each of those 101 shares."""
    prices: list[float] | None = None
    """N models: the swept prices, lowest first, and below the held-out mean cost per
    request each gives, so a request may ask for another cost ceiling."""
    price_costs: list[float] | None = None


CURVE_POINTS = 101


def parse_target(text: str) -> tuple[str, float]:
    kind, sep, value = text.partition("=")
    if not sep or kind not in KINDS:
        raise CalibrationError(
            f"--calibrate {text!r}: write share=0.3, quality=0.8 or max-cost=0.002"
        )
    try:
        return kind, float(value)
    except ValueError:
        raise CalibrationError(f"--calibrate {text!r}: {value!r} is not a number") from None


def binary(
    scores: FloatArray, strong: FloatArray, weak: FloatArray, kind: str, target: float
) -> Calibration:
    """Calibrate the strong/weak threshold on held-out scores and outcomes."""
    order = np.argsort(-scores, kind="stable")
    gains = np.concatenate([[0.0], np.cumsum((strong - weak)[order])])
    gap = float(strong.mean() - weak.mean())
    pgr = gains / len(scores) / gap if gap else np.zeros(len(gains))
    if kind == "share":
        if not 0 <= target <= 1:
            raise CalibrationError("share must be between 0 and 1")
        calls = round(target * len(scores))
    elif kind == "quality":
        reached = np.flatnonzero(pgr >= target)
        calls = int(reached[0]) if len(reached) else len(scores)
    else:
        raise CalibrationError(f"{kind} needs costs; two-model data calibrates share or quality")
    ranked = scores[order]
    threshold = _threshold(ranked, calls)
    chosen = scores >= threshold
    curve = [round(k * len(scores) / (CURVE_POINTS - 1)) for k in range(CURVE_POINTS)]
    return Calibration(
        kind=kind,
        target=target,
        threshold=threshold,
        share=float(chosen.mean()),
        pgr=float(pgr[int(chosen.sum())]),
        quality=float(np.where(chosen, strong, weak).mean()),
        thresholds=[_threshold(ranked, c) if c else None for c in curve],
        pgrs=[float(pgr[c]) for c in curve],
    )


def _threshold(ranked: FloatArray, calls: int) -> float:
    """The score at or above which ``calls`` of the ``ranked`` (descending) scores fall."""
    return float(ranked[calls - 1]) if calls > 0 else float(np.inf)


def choose_by_price(predicted: FloatArray, mean_costs: FloatArray, price: float) -> Choice:
    """The model with the best predicted quality minus price x cost (ties: the cheaper)."""
    utility = predicted - price * mean_costs - 1e-12 * mean_costs
    out: Choice = np.argmax(utility, axis=1)
    return out


def choose_by_quality(predicted: FloatArray, mean_costs: FloatArray, target: float) -> Choice:
    """The cheapest model predicted to reach ``target``; else the best predicted."""
    by_cost = np.argsort(mean_costs, kind="stable")
    meets = predicted[:, by_cost] >= target
    first = np.argmax(meets, axis=1)
    best = np.argmax(predicted, axis=1)
    out: Choice = np.where(meets.any(axis=1), by_cost[first], best)
    return out


def n_model(
    predicted: FloatArray, quality: FloatArray, costs: FloatArray, kind: str, target: float
) -> Calibration:
    """Calibrate the N-model decision on held-out predictions, outcomes and costs."""
    rows = np.arange(len(quality))
    mean_costs = costs.mean(axis=0)
    scale = float(np.ptp(predicted)) / (float(np.ptp(mean_costs)) or 1.0)
    sweep = [float(p) for p in PRICES * (scale or 1.0)]
    swept = [float(costs[rows, choose_by_price(predicted, mean_costs, p)].mean()) for p in sweep]
    if kind == "quality":
        choice = choose_by_quality(predicted, mean_costs, target)
        price = None
    elif kind == "max-cost":
        price = next((p for p, c in zip(sweep, swept, strict=True) if c <= target), None)
        if price is None:
            raise CalibrationError(
                f"no decision keeps the mean cost under {target}: the cheapest model alone "
                f"costs {costs[:, int(np.argmin(mean_costs))].mean():.6g} per request"
            )
        choice = choose_by_price(predicted, mean_costs, price)
    else:
        raise CalibrationError("N-model data calibrates quality (absolute) or max-cost")
    return Calibration(
        kind=kind,
        target=target,
        price=price,
        mean_cost=float(costs[rows, choice].mean()),
        quality=float(quality[rows, choice].mean()),
        prices=sweep,
        price_costs=swept,
    )
