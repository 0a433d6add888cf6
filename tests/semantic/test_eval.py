"""``junction router ...`` end to end, and the N-model path (costs, AIQ, call shares)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from tests.semantic._synthetic import four_models, two_models, write_jsonl

from junction import cli
from junction.semantic import evaluate
from junction.semantic.dataset import Dataset
from junction.semantic.lexical import LexicalEncoder
from junction.semantic.protocols import Protocol

SAMPLE = Path(__file__).resolve().parents[1] / "fixtures" / "routellm"


def test_n_model_routers_beat_the_single_models_and_stay_under_the_oracle() -> None:
    data = four_models(n=400)
    result = evaluate.evaluate(data, ["knn", "linear"], LexicalEncoder(), Protocol("cv"))
    by_name = {o.router: o for o in result.routers + result.baselines}
    assert set(by_name) == {"knn", "linear", "random", "length", "oracle", "single models"}
    aiq = {name: o.aiq for name, o in by_name.items()}
    assert all(isinstance(v, float) for v in aiq.values())
    # Easy prompts need only tiny; hard ones big: a topic-reading router buys big's quality
    # at a fraction of its cost, which no single model and no mix of them can.
    for name in ("knn", "linear"):
        assert aiq["single models"] < aiq[name] <= aiq["oracle"]
        assert aiq[name] > aiq["random"]
    assert result.pair is None  # four models: no APGR


def test_n_model_shares_show_where_the_calls_go() -> None:
    data = four_models(n=300)
    result = evaluate.evaluate(data, ["linear"], LexicalEncoder(), Protocol("cv"))
    assert result.top_cost is not None
    (router,) = result.routers
    budgets = evaluate.budget_shares(router.sweep, result.top_cost)
    for _, point in budgets:
        assert point.shares.sum() == pytest.approx(1.0)
        assert point.cost <= result.top_cost + 1e-12
    # With the largest budget the router does not send everything to the priciest model,
    # which is hardly better than big (routing collapse would).
    _, richest = budgets[-1]
    assert richest.shares[data.models.index("huge")] < 0.5


def test_n_model_data_without_costs_is_refused() -> None:
    data = four_models(n=40)
    no_costs = Dataset(data.texts, data.models, data.quality, None, data.groups)
    with pytest.raises(evaluate.EvaluationError, match="needs each row's cost"):
        evaluate.evaluate(no_costs, ["knn"], LexicalEncoder(), Protocol("cv"))


def test_eval_command_prints_a_table_and_writes_the_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = write_jsonl(two_models(n=200), tmp_path / "d.jsonl")
    out = tmp_path / "r.json"
    code = cli.main(
        ["router", "eval", "--data", str(data), "--router", "knn", "--router", "linear",
         "--protocol", "logo", "--json", str(out)]
    )  # fmt: skip
    assert code == 0
    text = capsys.readouterr().out
    for word in ("APGR", "CPT(50%)", "knn", "linear", "random", "length", "oracle"):
        assert word in text
    report = json.loads(out.read_text())
    assert report["protocol"]["kind"] == "logo"
    assert [r["router"] for r in report["routers"]] == ["knn", "linear"]
    assert [b["router"] for b in report["baselines"]] == ["random", "length", "oracle"]
    for entry in report["routers"] + report["baselines"]:
        for key in ("apgr", "cpt50", "cpt80"):
            assert isinstance(entry[key], float)
        assert 0.0 <= entry["cpt50"] <= entry["cpt80"] <= 1.0
        assert len(entry["curve"]) == 11


def test_eval_json_has_aiq_and_shares_for_n_models(tmp_path: Path) -> None:
    data = write_jsonl(four_models(n=150), tmp_path / "d.jsonl")
    out = tmp_path / "r.json"
    assert (
        cli.main(["router", "eval", "--data", str(data), "--router", "knn", "--json", str(out)])
        == 0
    )
    report = json.loads(out.read_text())
    (knn,) = report["routers"]
    assert isinstance(knn["aiq"], float)
    assert "apgr" not in knn
    assert set(knn["budgets"][-1]["shares"]) == {"tiny", "mid", "big", "huge"}


def test_import_train_and_load(tmp_path: Path) -> None:
    out = tmp_path / "gsm8k.jsonl"
    argv = ["router", "data", "import", "routellm", str(SAMPLE), "--benchmark", "gsm8k"]
    assert cli.main([*argv, "--out", str(out)]) == 0
    assert out.read_text().count("\n") == len(
        [line for line in out.read_text().splitlines() if line]
    )
    art = tmp_path / "art"
    argv = ["router", "train", "--data", str(out), "--router", "knn", "--set", "k=3"]
    assert cli.main([*argv, "--out", str(art)]) == 0
    manifest = json.loads((art / "router.json").read_text())
    assert manifest["router"] == "knn"
    assert manifest["settings"]["k"] == 3
    assert manifest["format"] == "junction-router"
    assert manifest["version"] == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["eval", "--data", "/nonexistent.jsonl", "--router", "knn"], "cannot read"),
        (["train", "--data", "{data}", "--router", "knn", "--set", "k", "--out", "{tmp}/a"],
         "KEY=VALUE"),
        (["eval", "--data", "{data}", "--router", "knn", "--protocol", "cv", "--folds", "1"],
         "folds"),
    ],
)  # fmt: skip
def test_command_errors_are_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    data = write_jsonl(two_models(n=30), tmp_path / "d.jsonl")
    argv = ["router", *[a.format(data=data, tmp=tmp_path) for a in args]]
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err


def test_plot_without_matplotlib_says_how_to_get_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        data = write_jsonl(two_models(n=60), tmp_path / "d.jsonl")
        argv = [
            "router",
            "eval",
            "--data",
            str(data),
            "--router",
            "knn",
            "--plot",
            str(tmp_path / "p.png"),
        ]
        assert cli.main(argv) == 2
        assert "junction[plot]" in capsys.readouterr().err
    else:
        data = write_jsonl(two_models(n=60), tmp_path / "d.jsonl")
        png = tmp_path / "p.png"
        assert (
            cli.main(["router", "eval", "--data", str(data), "--router", "knn", "--plot", str(png)])
            == 0
        )
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_random_baseline_is_the_mean_of_ten_seeds() -> None:
    data = two_models(n=100)
    result = evaluate.evaluate(data, ["knn"], LexicalEncoder(), Protocol("cv"))
    random = result.baselines[0]
    assert random.router == "random"
    assert random.binary is not None
    q = data.quality
    pair = evaluate.Pair.of(data)
    seeds = []
    for seed in range(10):
        draw = np.random.default_rng(seed).random(q.shape)
        scores = draw[:, pair.strong] - draw[:, pair.weak]
        seeds.append(evaluate.binary_outcome("r", scores, q, pair).binary)
    assert random.binary.apgr == pytest.approx(np.mean([b.apgr for b in seeds if b]))


def test_logo_by_group_scores_each_held_out_group_apart(tmp_path: Path) -> None:
    out = tmp_path / "all.jsonl"
    argv = ["router", "data", "import", "routellm", str(SAMPLE), "--benchmark", "all"]
    assert cli.main([*argv, "--out", str(out)]) == 0
    groups = [json.loads(line)["group"] for line in out.read_text().splitlines()]
    assert set(groups) == {"mmlu", "gsm8k", "mt-bench"}
    report = tmp_path / "r.json"
    argv = ["router", "eval", "--data", str(out), "--router", "linear", "--protocol", "logo"]
    assert cli.main([*argv, "--by-group", "--json", str(report)]) == 0
    parts = json.loads(report.read_text())["by_group"]
    assert [p["group"] for p in parts] == ["gsm8k", "mmlu", "mt-bench"]
    assert [p["rows"] for p in parts] == [groups.count(g) for g in ("gsm8k", "mmlu", "mt-bench")]
    mt_bench = parts[2]
    # Each benchmark on its own scale: MT-Bench judge scores, not the pooled 0/1 accuracy.
    assert mt_bench["quality"]["gpt-4-1106-preview"] > 1.0
    assert all(isinstance(p["routers"][0]["apgr"], float) for p in parts)


def test_two_model_length_baseline_ranks_by_characters_on_every_protocol() -> None:
    from junction.semantic import metrics

    data = two_models(n=120)
    chars = np.array([len(t) for t in data.texts], dtype=float)
    strong, weak = data.quality[:, 0], data.quality[:, 1]
    curve = metrics.routed_curve(chars, strong, weak)
    expected = metrics.binary_metrics(curve, float(strong.mean()), float(weak.mean()))
    for protocol in (Protocol("cv"), Protocol("logo")):
        result = evaluate.evaluate(data, ["knn"], LexicalEncoder(), protocol)
        length = result.baselines[1]
        assert length.router == "length"
        assert length.binary is not None
        assert length.binary.apgr == pytest.approx(expected.apgr)
        assert length.binary.cpt50 == pytest.approx(expected.cpt50)
