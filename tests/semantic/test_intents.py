"""Intent routes: utterances, thresholds, fitting, the command."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from junction import cli
from junction.semantic.dataset import DatasetError
from junction.semantic.intents import IntentRoute, IntentRouter, load_intents
from junction.semantic.lexical import LexicalEncoder

ROUTES = [
    IntentRoute(
        name="billing",
        utterances=["refund my last invoice", "why was my card charged twice", "update billing"],
        threshold=0.1,
    ),
    IntentRoute(
        name="code",
        utterances=["fix this python traceback", "write a sql query", "my javascript crashes"],
        threshold=0.1,
    ),
]


def _router() -> IntentRouter:
    return IntentRouter([r.__copy__() for r in ROUTES], LexicalEncoder(), top_k=2)


def test_prompts_match_the_closest_route_or_none() -> None:
    matches = _router().match(
        ["please refund the invoice", "my python script crashes with a traceback", "zzz qqq"]
    )
    assert [m.route for m in matches] == ["billing", "code", None]
    assert matches[0].score > matches[2].score
    assert matches[2].best in ("billing", "code")


def test_scores_are_the_mean_of_the_top_k_similarities() -> None:
    router = _router()
    enc = router.encoder
    prompt = "refund my invoice"
    v = enc.encode([prompt])[0]
    sims = sorted(float(v @ u) for u in enc.encode(ROUTES[0].utterances))
    assert router.scores([prompt])[0, 0] == pytest.approx((sims[-1] + sims[-2]) / 2)


def test_fit_thresholds_separates_matches_from_near_misses() -> None:
    router = _router()
    texts = ["refund my invoice", "charged twice on my card", "the weather is invoice-free"]
    labels: list[str | None] = ["billing", "billing", None]
    router.fit_thresholds(texts, labels)
    scores = router.scores(texts)[:, 0]
    threshold = router.routes[0].threshold
    # The threshold falls between the worst true match and the near miss.
    assert min(scores[0], scores[1]) >= threshold > scores[2]
    assert [m.route for m in router.match(texts)] == labels


def test_intent_command_and_file_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = {
        "routes": [
            {"name": r.name, "utterances": r.utterances, "threshold": r.threshold} for r in ROUTES
        ],
        "top_k": 2,
    }
    path = tmp_path / "routes.json"
    path.write_text(json.dumps(spec))
    argv = ["router", "intent", str(path), "--prompt", "refund the invoice", "--prompt", "zzz"]
    assert cli.main(argv) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split("\t")[0] for line in lines] == ["billing", "-"]
    path.write_text(json.dumps({"routes": [{"name": "x", "utterances": []}]}))
    with pytest.raises(DatasetError, match="at least one utterance"):
        load_intents(path)
    path.write_text(json.dumps({"routes": [{"name": "x", "utterance": ["a"]}]}))
    assert cli.main(["router", "intent", str(path), "--prompt", "a"]) == 2
    assert "utterance" in capsys.readouterr().err
