"""Convert RouteLLM's evaluation data (lm-sys/RouteLLM, ``routellm/evals``) to routing rows.

Contamination is removed as RouteLLM's ``benchmarks.py`` removes it: MMLU and GSM8K drop a
row whose prompt equals an ``eval_prompt`` of the benchmark's ``contaminated_prompts.jsonl``;
MT-Bench drops a question when either of its turns does. MT-Bench rows are routed on the
first turn and score each model by the mean of its two turns' GPT-4 judgements, which is
RouteLLM's mean over 2 x questions. ``all`` joins the three, grouped by benchmark.
"""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterator
from pathlib import Path

import msgspec

from junction.semantic.dataset import DatasetError, RoutingRow

STRONG = "gpt-4-1106-preview"
WEAK = "mistralai/Mixtral-8x7B-Instruct-v0.1"
BENCHMARKS = ("mmlu", "gsm8k", "mt-bench")
ALL = "all"


def import_routellm(root: str | Path, benchmark: str) -> list[RoutingRow]:
    base = Path(root)
    if not base.is_dir():
        raise DatasetError(f"{root}: not a directory (give RouteLLM's routellm/evals folder)")
    if benchmark == "mmlu":
        return list(_mmlu(base / "mmlu"))
    if benchmark == "gsm8k":
        return list(_gsm8k(base / "gsm8k"))
    if benchmark == "mt-bench":
        return list(_mt_bench(base / "mt_bench"))
    if benchmark == ALL:
        # One file, the group naming the benchmark: ``--protocol logo --by-group`` then tests
        # each benchmark with a router trained on the other two.
        return [
            msgspec.structs.replace(row, group=name)
            for name in BENCHMARKS
            for row in import_routellm(base, name)
        ]
    raise DatasetError(f"unknown benchmark {benchmark!r}: one of {', '.join(BENCHMARKS)} or {ALL}")


def contaminated(folder: Path) -> set[str]:
    path = folder / "contaminated_prompts.jsonl"
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise DatasetError(f"{path}: cannot read ({exc.strerror})") from None
    return {json.loads(line)["eval_prompt"] for line in lines if line.strip()}


def _correct(value: str, path: Path) -> float:
    if value == "True":
        return 1.0
    if value == "False":
        return 0.0
    raise DatasetError(f"{path}: expected True or False, got {value!r}")


def _csv_rows(path: Path) -> Iterator[dict[str, str]]:
    csv.field_size_limit(sys.maxsize)
    try:
        with open(path, encoding="utf-8", newline="") as handle:
            reader = csv.DictReader(handle)
            missing = {"prompt", STRONG, WEAK} - set(reader.fieldnames or [])
            if missing:
                raise DatasetError(f"{path}: missing columns {sorted(missing)}")
            yield from reader
    except OSError as exc:
        raise DatasetError(f"{path}: cannot read ({exc.strerror})") from None


def _graded(path: Path, group: str, drop: set[str], prefix: str) -> Iterator[RoutingRow]:
    for i, row in enumerate(_csv_rows(path)):
        if row["prompt"] in drop:
            continue
        yield RoutingRow(
            prompt=row["prompt"],
            scores={STRONG: _correct(row[STRONG], path), WEAK: _correct(row[WEAK], path)},
            group=group,
            id=f"{prefix}{i}",
        )


def _mmlu(folder: Path) -> Iterator[RoutingRow]:
    drop = contaminated(folder)
    files = sorted((folder / "responses").glob("mmlu_*.csv"))
    if not files:
        raise DatasetError(f"{folder / 'responses'}: no mmlu_<subject>.csv files")
    for path in files:
        subject = path.stem.removeprefix("mmlu_")
        yield from _graded(path, subject, drop, f"mmlu/{subject}/")


def _gsm8k(folder: Path) -> Iterator[RoutingRow]:
    yield from _graded(folder / "gsm8k_responses.csv", "gsm8k", contaminated(folder), "gsm8k/")


def _jsonl(path: Path) -> list[dict[str, object]]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise DatasetError(f"{path}: cannot read ({exc.strerror})") from None
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def _mt_bench(folder: Path) -> Iterator[RoutingRow]:
    drop = contaminated(folder)
    judged: dict[tuple[int, str], list[float]] = {}
    for j in _jsonl(folder / "judgements.jsonl"):
        key = (int(str(j["question_id"])), str(j["model"]))
        judged.setdefault(key, []).append(float(str(j["score"])))
    for q in _jsonl(folder / "question.jsonl"):
        turns = q["turns"]
        assert isinstance(turns, list)
        if any(turn in drop for turn in turns):
            continue
        qid = int(str(q["question_id"]))
        scores: dict[str, float] = {}
        for model in (STRONG, WEAK):
            values = judged.get((qid, model))
            if not values:
                raise DatasetError(f"{folder}: no judgement of {model} on question {qid}")
            scores[model] = sum(values) / len(values)
        yield RoutingRow(
            prompt=str(turns[0]), scores=scores, group=str(q["category"]), id=f"mt-bench/{qid}"
        )
