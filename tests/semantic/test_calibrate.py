"""Decisions and calibration, two models and N models."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from tests.semantic._synthetic import four_models, two_models, write_jsonl

from junction import cli
from junction.semantic import artifact, calibrate

SCORES = np.array([0.1, 0.2, 0.3, 0.4, 0.5])
STRONG = np.array([1.0, 1.0, 1.0, 1.0, 1.0])
WEAK = np.array([1.0, 1.0, 0.0, 0.0, 0.0])


def test_binary_quality_target_takes_the_fewest_strong_calls_that_reach_it() -> None:
    # By score, highest first, the strong model gains 1, 1, 1, 0, 0 over a gap of 3 / 5:
    # PGR after k strong calls is 0, 1/3, 2/3, 1, 1, 1. PGR >= 0.5 first at k = 2.
    cal = calibrate.binary(SCORES, STRONG, WEAK, "quality", 0.5)
    assert cal.threshold == pytest.approx(0.4)
    assert cal.share == pytest.approx(0.4)
    assert cal.pgr == pytest.approx(2 / 3)
    assert cal.quality == pytest.approx(0.8)


def test_binary_share_target_sets_that_quantile() -> None:
    cal = calibrate.binary(SCORES, STRONG, WEAK, "share", 0.2)
    assert cal.threshold == pytest.approx(0.5)
    assert cal.share == pytest.approx(0.2)
    assert cal.pgr == pytest.approx(1 / 3)
    none = calibrate.binary(SCORES, STRONG, WEAK, "share", 0.0)
    assert none.share == 0.0


def test_n_model_choices() -> None:
    predicted = np.array([[0.5, 0.8, 0.9], [0.85, 0.9, 0.95]])
    costs = np.array([1.0, 2.0, 10.0])
    # Cheapest model predicted to reach 0.8: the second on row 1, the first on row 2.
    assert calibrate.choose_by_quality(predicted, costs, 0.8).tolist() == [1, 0]
    # Nothing reaches 0.99: the best predicted.
    assert calibrate.choose_by_quality(predicted, costs, 0.99).tolist() == [2, 2]
    # Price 0: best predicted; a high price: the cheapest.
    assert calibrate.choose_by_price(predicted, costs, 0.0).tolist() == [2, 2]
    assert calibrate.choose_by_price(predicted, costs, 1.0).tolist() == [0, 0]


def test_n_model_cost_ceiling_is_met_on_the_held_out_rows() -> None:
    data = four_models(n=200)
    assert data.costs is not None
    ceiling = float(data.costs[:, 2].mean()) / 2  # half of always-big
    cal = artifact.held_out_calibration(data, "linear", "lexical", None, ("max-cost", ceiling), 0)
    assert cal.price is not None
    assert cal.mean_cost is not None
    assert cal.mean_cost <= ceiling
    # Half big's cost buys more than tiny alone, far more than half-way to big.
    assert cal.quality is not None
    assert cal.quality > data.quality[:, 0].mean() + 0.1
    with pytest.raises(calibrate.CalibrationError, match="cheapest model alone"):
        artifact.held_out_calibration(data, "linear", "lexical", None, ("max-cost", 0.0), 0)


def test_train_calibrate_then_choose(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = write_jsonl(two_models(n=200), tmp_path / "d.jsonl")
    art = tmp_path / "art"
    argv = ["router", "train", "--data", str(data), "--router", "linear"]
    assert cli.main([*argv, "--calibrate", "share=0.5", "--out", str(art)]) == 0
    manifest = json.loads((art / "router.json").read_text())
    assert manifest["strong"] == "big"
    assert manifest["calibration"]["kind"] == "share"
    assert manifest["calibration"]["share"] == pytest.approx(0.5, abs=0.02)
    capsys.readouterr()
    prompts = ["prove the theorem about this integral", "a coffee recipe for my birthday"]
    argv = ["router", "choose", str(art)]
    assert cli.main([*argv, "--prompt", prompts[0], "--prompt", prompts[1]]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split("\t")[0] for line in lines] == ["big", "small"]


def test_choose_needs_a_calibration(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    trained = artifact.train(two_models(n=60), "linear", "lexical")
    artifact.save(trained, tmp_path)
    assert cli.main(["router", "choose", str(tmp_path), "--prompt", "hi"]) == 2
    assert "--calibrate" in capsys.readouterr().err


def test_bad_calibration_targets() -> None:
    with pytest.raises(calibrate.CalibrationError, match=r"share=0\.3"):
        calibrate.parse_target("budget=3")
    with pytest.raises(calibrate.CalibrationError, match="not a number"):
        calibrate.parse_target("share=lots")
    with pytest.raises(calibrate.CalibrationError, match="needs costs"):
        calibrate.binary(SCORES, STRONG, WEAK, "max-cost", 1.0)


@pytest.mark.parametrize("target", ["quality=0.8", "max-cost=0.0001"])
def test_n_model_artifact_chooses_by_its_calibration(tmp_path: Path, target: str) -> None:
    data = four_models(n=300)
    trained = artifact.train(data, "linear", "lexical", calibrate_to=calibrate.parse_target(target))
    artifact.save(trained, tmp_path)
    loaded = artifact.load(tmp_path)
    assert loaded.manifest.calibration == trained.manifest.calibration
    hard = "prove the theorem about this integral and the matrix"
    easy = "a coffee recipe for my birthday with some music"
    picks = loaded.choose([hard, easy])
    price = dict(zip(data.models, loaded.manifest.mean_costs or [], strict=True))
    # The hard prompt needs a model that is good at hard prompts; the easy one gets a
    # cheaper model than the hard one does.
    assert picks[0] in ("big", "huge")
    assert price[picks[1]] < price[picks[0]]
