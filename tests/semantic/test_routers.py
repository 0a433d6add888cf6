"""Routers on data whose answer is known, artifacts, determinism."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from tests.semantic._synthetic import HARD, two_models

from junction.semantic import artifact, evaluate
from junction.semantic.dataset import Dataset, RoutingRow, write_rows
from junction.semantic.encoders import EncoderError, featurize, make_encoder
from junction.semantic.lexical import LexicalEncoder
from junction.semantic.protocols import Protocol, ProtocolError
from junction.semantic.routers import RouterError, make_router, router_names

LEARNED = ["knn", "linear", "logistic", "mf"]


def test_the_built_in_routers_are_registered() -> None:
    assert set(router_names()) >= {"random", "length", *LEARNED}


def test_lexical_vectors_are_unit_deterministic_and_topical() -> None:
    enc = LexicalEncoder()
    texts = ["prove the theorem", "prove this theorem please", "a coffee recipe", ""]
    a = enc.encode(texts)
    assert a.shape == (4, enc.dim)
    assert np.linalg.norm(a[:3], axis=1) == pytest.approx(1.0)
    assert not a[3].any()  # empty text: zero vector, no NaN
    assert np.array_equal(a, LexicalEncoder().encode(texts))
    assert a[0] @ a[1] > 0.3 > 0.1 > a[0] @ a[2]


def test_lexical_idf_downweights_words_every_prompt_has() -> None:
    enc = LexicalEncoder()
    texts = [f"answer: {w}" for w in HARD]
    before = enc.encode(["answer: integral", "answer: matrix"])
    enc.fit(enc.stage(texts))
    after = enc.encode(["answer: integral", "answer: matrix"])
    assert after[0] @ after[1] < before[0] @ before[1]


def test_lexical_rejects_a_dimension_that_is_not_a_power_of_two() -> None:
    with pytest.raises(EncoderError, match="power of two"):
        make_encoder("lexical", {"word_dim": 1000})


@pytest.mark.parametrize("name", LEARNED)
def test_learned_routers_find_the_hard_topic(name: str) -> None:
    data = two_models(n=400)
    result = evaluate.evaluate(data, [name], LexicalEncoder(), Protocol("cv", folds=4))
    (outcome,) = result.routers
    random, length, oracle = result.baselines
    assert outcome.binary is not None
    assert random.binary is not None
    assert length.binary is not None
    assert oracle.binary is not None
    # Hard prompts (half) gain 0.7 from the strong model, easy ones nothing: a router that
    # knew the topic exactly would climb linearly to the strong quality at half the calls,
    # APGR 0.5 * 0.5 + 0.5 = 0.75 (the oracle, which also knows the coin flips, goes higher).
    assert outcome.binary.apgr > 0.65 > random.binary.apgr + 0.1
    assert outcome.binary.apgr > length.binary.apgr + 0.15
    assert outcome.binary.cpt80 < 0.6
    assert outcome.binary.apgr <= oracle.binary.apgr


@pytest.mark.parametrize("name", ["random", "length", *LEARNED])
def test_artifact_round_trip_predicts_the_same(name: str, tmp_path: Path) -> None:
    data = two_models(n=120)
    trained = artifact.train(data, name, "lexical")
    artifact.save(trained, tmp_path / "a")
    loaded = artifact.load(tmp_path / "a")
    probe = ["prove the integral", "a coffee recipe for my birthday"]
    assert loaded.models == data.models
    assert np.allclose(loaded.predict(probe), trained.predict(probe))
    assert loaded.manifest.router == name


def test_artifact_errors(tmp_path: Path) -> None:
    with pytest.raises(artifact.ArtifactError, match="cannot read"):
        artifact.load(tmp_path)
    trained = artifact.train(two_models(n=60), "linear", "lexical")
    artifact.save(trained, tmp_path)
    text = (tmp_path / "router.json").read_text().replace('"version": 1', '"version": 99')
    (tmp_path / "router.json").write_text(text)
    with pytest.raises(artifact.ArtifactError, match="v99"):
        artifact.load(tmp_path)


def test_same_seed_same_numbers() -> None:
    data = two_models(n=120)
    runs = [
        evaluate.evaluate(data, ["mf", "knn"], LexicalEncoder(), Protocol("cv", folds=3, seed=3))
        for _ in range(2)
    ]
    first, second = ([o.binary.apgr for o in r.routers + r.baselines if o.binary] for r in runs)
    assert first == second
    other = evaluate.evaluate(data, ["mf"], LexicalEncoder(), Protocol("cv", folds=3, seed=4))
    assert other.routers[0].binary is not None
    assert other.routers[0].binary.apgr != first[0]


def test_protocols_test_every_row_once_or_by_group() -> None:
    data = two_models(n=50)
    for protocol in (Protocol("cv", folds=5), Protocol("logo")):
        splits = protocol.splits(data)
        tested = np.concatenate([test for _, test in splits])
        assert sorted(tested.tolist()) == list(range(50))
        for train, test in splits:
            assert not set(train.tolist()) & set(test.tolist())
    ((train, test),) = Protocol("split", test_fraction=0.2).splits(data)
    assert len(test) == 10
    assert len(train) == 40
    groups = np.array(data.groups)
    for train, test in Protocol("logo").splits(data):
        assert len(set(groups[test])) == 1
        assert groups[test][0] not in set(groups[train])


def test_group_folds_hold_whole_groups_out() -> None:
    data = two_models(n=60)
    data = Dataset(data.texts, data.models, data.quality, None, [f"g{i % 6}" for i in range(60)])
    splits = Protocol("logo", group_folds=3).splits(data)
    assert len(splits) == 3
    groups = np.array(data.groups)
    seen: list[str] = []
    for train, test in splits:
        held = set(groups[test].tolist())
        assert len(held) == 2
        assert not held & set(groups[train].tolist())
        seen += sorted(held)
    assert sorted(seen) == [f"g{i}" for i in range(6)]


def test_protocol_errors() -> None:
    data = two_models(n=20)
    one_group = Dataset(data.texts, data.models, data.quality, None, [""] * 20)
    with pytest.raises(ProtocolError, match="at least two groups"):
        Protocol("logo").splits(one_group)
    with pytest.raises(ProtocolError, match="folds"):
        Protocol("cv", folds=1).splits(data)


def test_unknown_router_and_bad_setting() -> None:
    with pytest.raises(RouterError, match="unknown router 'svm'"):
        make_router("svm")
    with pytest.raises(RouterError, match="expected a number"):
        make_router("knn", {"k": "many"})


def test_knn_uses_its_nearest_rows() -> None:
    enc = LexicalEncoder()
    texts = ["prove theorem", "prove theorem now", "coffee recipe", "coffee recipe now"]
    quality = np.array([[1.0, 0.0], [1.0, 0.0], [1.0, 1.0], [1.0, 1.0]])
    knn = make_router("knn", {"k": 2, "prior": 0.0})
    knn.fit(featurize(enc, texts), quality)
    out = knn.predict(featurize(enc, ["prove the theorem", "a coffee recipe"]))
    assert np.allclose(out, [[1.0, 0.0], [1.0, 1.0]])


def test_train_reads_what_write_rows_wrote(tmp_path: Path) -> None:
    data = two_models(n=40)
    rows = [
        RoutingRow(prompt=t, scores=dict(zip(data.models, q.tolist(), strict=True)))
        for t, q in zip(data.texts, data.quality, strict=True)
    ]
    write_rows(tmp_path / "d.jsonl", rows)
    assert (tmp_path / "d.jsonl").read_text().count("\n") == 40


def test_randomised_pca_finds_the_subspace_of_low_rank_data() -> None:
    from junction.semantic.routers.base import Reduction

    rng = np.random.default_rng(0)
    inputs = rng.normal(size=(600, 5)) @ rng.normal(size=(5, 40)) + 3.0  # rank 5, offset
    reduction = Reduction.fit(inputs, rank=5, seed=0)  # 600 rows > 2 x 5: the sketch
    reduced = reduction(inputs)
    assert reduced.shape == (600, 5)
    assert reduced.std(axis=0)[0] == pytest.approx(1.0)  # first component: unit spread
    # The 5 components span the data: least squares back to the inputs is exact.
    centered = inputs - inputs.mean(axis=0)
    back = np.linalg.lstsq(reduced, centered, rcond=None)[0]
    assert np.allclose(reduced @ back, centered, atol=1e-6)
