"""Serving-time decisions: the stored calibration, or a target given per call."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from tests.semantic._synthetic import four_models, two_models

from junction.semantic import artifact, calibrate
from junction.semantic.decide import Decider, DecisionError, Target

HARD = "please prove the theorem about this integral and the series"
EASY = "a coffee recipe for my birthday and some music please"


def test_the_binary_curve_has_the_threshold_of_every_share() -> None:
    scores = np.array([0.1, 0.2, 0.3, 0.4, 0.5])
    strong = np.ones(5)
    weak = np.array([1.0, 1.0, 0.0, 0.0, 0.0])
    cal = calibrate.binary(scores, strong, weak, "share", 0.2)
    assert cal.thresholds is not None
    assert cal.pgrs is not None
    assert len(cal.thresholds) == len(cal.pgrs) == 101
    assert cal.thresholds[0] is None  # no strong call: above every score
    assert cal.thresholds[20] == pytest.approx(0.5)  # 1 of 5 prompts
    assert cal.thresholds[60] == pytest.approx(0.3)  # 3 of 5
    assert cal.thresholds[100] == pytest.approx(0.1)
    assert cal.pgrs[60] == pytest.approx(1.0)  # the three gains are the top three scores


@pytest.fixture(scope="module")
def binary(tmp_path_factory: pytest.TempPathFactory) -> Decider:
    folder = tmp_path_factory.mktemp("binary") / "r"
    trained = artifact.train(two_models(300), "linear", "lexical", calibrate_to=("share", 0.5))
    artifact.save(trained, folder)
    return Decider(artifact.load(folder))  # as the gateway does: from disk


def test_binary_decisions_follow_the_stored_calibration_and_targets(binary: Decider) -> None:
    assert binary.decide(HARD).model == "big"
    assert binary.decide(EASY).model == "small"
    assert binary.decide(HARD).score > binary.decide(EASY).score
    assert binary.decide(EASY, Target("share", 1.0)).model == "big"
    assert binary.decide(HARD, Target("share", 0.0)).model == "small"
    assert binary.decide(HARD, Target("quality", 0.0)).model == "small"
    assert binary.decide(HARD, allowed=["small"]).model == "small"


def test_binary_refuses_a_cost_ceiling_without_costs(binary: Decider) -> None:
    with pytest.raises(DecisionError, match="costs"):
        binary.check(Target("max-cost", 0.1))


def test_an_uncalibrated_artifact_needs_a_target(tmp_path: Path) -> None:
    trained = artifact.train(two_models(100), "linear", "lexical")
    with pytest.raises(DecisionError, match="no calibration"):
        Decider(trained)


@pytest.fixture(scope="module")
def n_model() -> Decider:
    data = four_models(300)
    assert data.costs is not None
    ceiling = float(data.costs[:, 2].mean())
    return Decider(artifact.train(data, "linear", "lexical", calibrate_to=("max-cost", ceiling)))


def test_n_model_decisions(n_model: Decider) -> None:
    # tiny and mid do as well as big on easy prompts: a quality target takes the cheapest.
    assert n_model.decide(EASY, Target("quality", 0.7)).model == "tiny"
    assert n_model.decide(HARD, Target("quality", 0.7)).model in {"big", "huge"}
    # A ceiling below every swept cost: the cheapest candidate.
    assert n_model.decide(HARD, Target("max-cost", 0.0)).model == "tiny"
    assert n_model.decide(HARD, Target("max-cost", 0.0), allowed=["mid", "big"]).model == "mid"
    # No ceiling to speak of: the best predicted.
    assert n_model.decide(HARD, Target("max-cost", 1.0)).model in {"big", "huge"}
    chosen = n_model.decide(HARD, Target("quality", 0.7), allowed=["tiny", "mid"])
    assert chosen.model == "mid"  # neither reaches 0.7 on hard prompts; mid is better
    with pytest.raises(DecisionError, match="two-model"):
        n_model.check(Target("share", 0.5))


def test_n_model_default_decisions_use_the_stored_calibration() -> None:
    data = four_models(300)
    assert data.costs is not None
    cheapest = float(data.costs[:, 0].mean())
    by_price = Decider(
        artifact.train(data, "linear", "lexical", calibrate_to=("max-cost", cheapest * 1.01))
    )
    # A ceiling at the cheapest model's cost: the calibrated price sends everything there.
    assert by_price.decide(HARD).model == "tiny"
    assert by_price.decide(EASY).model == "tiny"
    by_quality = Decider(artifact.train(data, "linear", "lexical", calibrate_to=("quality", 0.7)))
    assert by_quality.decide(EASY).model == "tiny"
    assert by_quality.decide(HARD).model in {"big", "huge"}
