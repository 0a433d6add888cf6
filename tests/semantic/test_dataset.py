"""The routing dataset format and the RouteLLM importer."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from junction.semantic.dataset import (
    DatasetError,
    RoutingRow,
    load_dataset,
    read_rows,
    write_rows,
)
from junction.semantic.routellm import STRONG, WEAK, import_routellm

SAMPLE = Path(__file__).resolve().parents[1] / "fixtures" / "routellm"


def test_rows_round_trip_and_become_arrays(tmp_path: Path) -> None:
    path = tmp_path / "d.jsonl"
    rows = [
        RoutingRow(prompt="hi", scores={"a": 1.0, "b": 0.0}, costs={"a": 2.0, "b": 1.0}),
        RoutingRow(
            messages=[{"role": "system", "content": "be brief"}, {"role": "user", "content": "q"}],  # type: ignore[list-item]
            scores={"b": 0.5, "a": 0.25},
            costs={"a": 3.0, "b": 1.5},
            group="g",
        ),
    ]
    path.write_text(
        "\n".join(
            [
                json.dumps({"prompt": "hi", "scores": {"a": 1, "b": 0}, "costs": {"a": 2, "b": 1}}),
                json.dumps(
                    {
                        "messages": [
                            {"role": "system", "content": "be brief"},
                            {"role": "user", "content": [{"type": "text", "text": "q"}]},
                        ],
                        "scores": {"b": 0.5, "a": 0.25},
                        "costs": {"a": 3, "b": 1.5},
                        "group": "g",
                    }
                ),
            ]
        )
    )
    data = load_dataset(path)
    assert data.texts == ["hi", "q"]  # the user turn only
    assert data.models == ["a", "b"]
    assert data.quality.tolist() == [[1.0, 0.0], [0.25, 0.5]]  # columns by model name
    assert data.costs is not None
    assert data.costs.tolist() == [[2.0, 1.0], [3.0, 1.5]]
    assert data.groups == ["", "g"]
    again = tmp_path / "again.jsonl"
    write_rows(again, read_rows(path))
    assert load_dataset(again).quality.tolist() == data.quality.tolist()
    assert rows[0].text() == "hi"


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('{"scores": {"a": 1, "b": 0}}', "needs `prompt` or `messages`"),
        ('{"prompt": "x", "scores": {"a": "high"}}', "scores"),
        ('{"prompt": "x", "scores": {"a": 1, "b": 0}, "colour": 1}', "colour"),
        ("not json", "not a JSON object"),
    ],
)
def test_bad_rows_name_the_line(tmp_path: Path, line: str, message: str) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"prompt": "ok", "scores": {"a": 1, "b": 0}}\n' + line + "\n")
    with pytest.raises(DatasetError, match=message) as info:
        load_dataset(path)
    assert ":2" in str(info.value)


def test_rows_must_score_the_same_models(tmp_path: Path) -> None:
    path = tmp_path / "d.jsonl"
    path.write_text(
        '{"prompt": "a", "scores": {"x": 1, "y": 0}}\n{"prompt": "b", "scores": {"x": 1, "z": 0}}\n'
    )
    with pytest.raises(DatasetError, match="every row must score the same models"):
        load_dataset(path)


def test_missing_file_is_a_dataset_error(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="cannot read"):
        load_dataset(tmp_path / "none.jsonl")


def _csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _listed(folder: Path) -> set[str]:
    lines = (folder / "contaminated_prompts.jsonl").read_text().splitlines()
    return {json.loads(line)["eval_prompt"] for line in lines}


def test_mmlu_import_drops_listed_prompts_and_keeps_subjects() -> None:
    rows = import_routellm(SAMPLE, "mmlu")
    listed = _listed(SAMPLE / "mmlu")
    raw = {p.stem.removeprefix("mmlu_"): _csv(p) for p in (SAMPLE / "mmlu/responses").glob("*.csv")}
    assert len(listed) == 1
    assert len(rows) == sum(len(v) for v in raw.values()) - 1
    assert not any(r.prompt in listed for r in rows)
    assert {r.group for r in rows} == set(raw)
    by_prompt = {r.prompt: r for r in rows}
    for subject, table in raw.items():
        for line in table:
            if line["prompt"] in listed:
                continue
            row = by_prompt[line["prompt"]]
            assert row.group == subject
            assert row.scores == {
                STRONG: float(line[STRONG] == "True"),
                WEAK: float(line[WEAK] == "True"),
            }


def test_gsm8k_import_drops_listed_prompts() -> None:
    rows = import_routellm(SAMPLE, "gsm8k")
    raw = _csv(SAMPLE / "gsm8k/gsm8k_responses.csv")
    listed = _listed(SAMPLE / "gsm8k")
    kept = [r for r in raw if r["prompt"] not in listed]
    assert len(kept) < len(raw)
    assert [r.prompt for r in rows] == [r["prompt"] for r in kept]


def test_mt_bench_routes_turn_one_and_averages_both_turns() -> None:
    rows = import_routellm(SAMPLE, "mt-bench")
    questions = [json.loads(line) for line in (SAMPLE / "mt_bench/question.jsonl").open()]
    listed = _listed(SAMPLE / "mt_bench")
    judged = [json.loads(line) for line in (SAMPLE / "mt_bench/judgements.jsonl").open()]
    clean = [q for q in questions if not set(q["turns"]) & listed]
    assert len(clean) == len(questions) - 1
    assert [r.prompt for r in rows] == [q["turns"][0] for q in clean]
    for row, q in zip(rows, clean, strict=True):
        for model in (STRONG, WEAK):
            turns = [
                j["score"]
                for j in judged
                if j["question_id"] == q["question_id"] and j["model"] == model
            ]
            assert len(turns) == 2
            assert row.scores[model] == pytest.approx(np.mean(turns))


def test_unknown_benchmark_and_missing_folder() -> None:
    with pytest.raises(DatasetError, match="unknown benchmark"):
        import_routellm(SAMPLE, "hellaswag")
    with pytest.raises(DatasetError, match="not a directory"):
        import_routellm(SAMPLE / "nowhere", "mmlu")
