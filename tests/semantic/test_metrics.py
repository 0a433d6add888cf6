"""RouteLLM's and RouterBench's metrics on examples small enough to work out by hand."""

from __future__ import annotations

import numpy as np
import pytest

from junction.semantic import metrics

# Five prompts; a router scored them 0.1 .. 0.5. The strong model is right on all of them,
# the weak one on the two lowest-scored only (strong 1.0, weak 0.4 alone).
SCORES = np.array([0.1, 0.2, 0.3, 0.4, 0.5])
STRONG = np.array([1.0, 1.0, 1.0, 1.0, 1.0])
WEAK = np.array([1.0, 1.0, 0.0, 0.0, 0.0])


def test_thresholds_are_the_qcut_edges() -> None:
    # np.linspace(0, 1, 11) quantiles of 0.1..0.5, linear interpolation: 0.1 + 0.04 i.
    expected = [0.1, 0.14, 0.18, 0.22, 0.26, 0.30, 0.34, 0.38, 0.42, 0.46, 0.5]
    assert metrics.thresholds(SCORES) == pytest.approx(expected)


def test_curve_uses_ge_then_gt_on_the_last_edge() -> None:
    curve = metrics.routed_curve(SCORES, STRONG, WEAK)
    # >= 0.1 takes all five; >= 0.14 and >= 0.18 four; 0.22, 0.26, 0.30 three (0.30 itself
    # is >=); 0.34, 0.38 two; 0.42, 0.46 one; > 0.5 none.
    assert curve.share == pytest.approx([1, 0.8, 0.8, 0.6, 0.6, 0.6, 0.4, 0.4, 0.2, 0.2, 0])
    # k strong calls on the k highest scores: weak right on p1, p2 only.
    # k=5: 1.0, k=4: (1 + 4)/5, k=3: (2 + 3)/5, k=2: (2 + 2)/5, k=1: (2 + 1)/5, k=0: 2/5.
    assert curve.quality == pytest.approx([1, 1, 1, 1, 1, 1, 0.8, 0.8, 0.6, 0.6, 0.4])


def test_apgr_and_cpt_by_hand() -> None:
    curve = metrics.routed_curve(SCORES, STRONG, WEAK)
    result = metrics.binary_metrics(curve, strong=1.0, weak=0.4)
    # Trapezoids over share: 0.1 + 0.14 + 0.18 + 0.2 + 0.2 = 0.82;
    # APGR = (0.82 - 0.4) / (1.0 - 0.4) = 0.7.
    assert result.apgr == pytest.approx(0.7)
    # CPT(50%): quality 0.7 lies between (0.2, 0.6) and (0.4, 0.8) -> share 0.3.
    assert result.cpt50 == pytest.approx(0.3)
    # CPT(80%): quality 0.88 lies between (0.4, 0.8) and (0.6, 1.0) -> 0.4 + 0.08 = 0.48.
    assert result.cpt80 == pytest.approx(0.48)


def test_pgr() -> None:
    assert metrics.pgr(0.7, strong=1.0, weak=0.4) == pytest.approx(0.5)


def test_oracle_is_routellm_optimal_accuracy() -> None:
    # Three prompts where only the strong model is right: weak 0.4 plus min(5 p, 3) / 5.
    curve = metrics.oracle_curve(STRONG, WEAK)
    assert curve.share == pytest.approx(np.linspace(0, 1, 11))
    assert curve.quality == pytest.approx([0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1, 1, 1, 1, 1])


def test_oracle_ignores_prompts_where_strong_loses() -> None:
    curve = metrics.oracle_curve(np.array([0.0, 1.0]), np.array([1.0, 0.0]))
    # Weak alone 0.5; one prompt gains 1 from the strong model, the other would lose.
    assert curve.quality[-1] == pytest.approx(1.0)
    assert curve.quality[5] == pytest.approx(1.0)  # share 0.5: one call of two


def test_random_scores_give_about_half() -> None:
    rng = np.random.default_rng(1)
    strong = (rng.random(20_000) < 0.8).astype(float)
    weak = (rng.random(20_000) < 0.6).astype(float)
    curve = metrics.routed_curve(rng.random(20_000), strong, weak)
    result = metrics.binary_metrics(curve, float(strong.mean()), float(weak.mean()))
    assert result.apgr == pytest.approx(0.5, abs=0.03)
    assert result.cpt50 == pytest.approx(0.5, abs=0.03)


def test_hull_drops_points_under_the_chord_and_falling_points() -> None:
    cost = np.array([1.0, 1.5, 2.0, 3.0])
    quality = np.array([0.5, 0.55, 0.9, 0.8])
    # (1.5, 0.55) is under the chord (1, .5)-(2, .9) (0.7 there); (3, 0.8) falls.
    hull = metrics.nondecreasing_hull(cost, quality)
    assert hull.tolist() == [[1.0, 0.5], [2.0, 0.9]]


def test_aiq_extends_flat_and_divides_by_the_largest_cost() -> None:
    hull = np.array([[1.0, 0.5], [2.0, 0.9]])
    # (0.5 + 0.9) / 2 * 1 + 0.9 * 2 = 2.5 over cost 4.
    assert metrics.aiq(hull, 4.0) == pytest.approx(0.625)


def test_hull_keeps_the_better_of_two_points_at_one_cost() -> None:
    hull = metrics.nondecreasing_hull(np.array([1.0, 1.0, 2.0]), np.array([0.3, 0.6, 0.7]))
    assert hull.tolist() == [[1.0, 0.6], [2.0, 0.7]]
