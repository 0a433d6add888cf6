"""On RouteLLM's full evaluation data, when ../shared is present: the import keeps the rows
RouteLLM keeps, and the metrics agree with the reference notes' independently computed
figures (../shared/reference/semantic.md) for the prompt-length baseline to within 0.005
(those are a re-implementation too, given to three places; ours differ by up to 0.003)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from junction.semantic import metrics
from junction.semantic.dataset import dataset_from_rows
from junction.semantic.routellm import STRONG, WEAK, import_routellm

SHARED = Path(os.environ.get("JUNCTION_SHARED") or Path(__file__).resolve().parents[3] / "shared")
ROUTELLM = SHARED / "data" / "routellm"
pytestmark = pytest.mark.skipif(not ROUTELLM.is_dir(), reason="../shared/data/routellm absent")

# benchmark: rows, weak alone, strong alone, length baseline APGR / CPT(50%) / CPT(80%)
REFERENCE = {
    "mmlu": (14_037, 0.6809, 0.8059, 0.583, 0.367, 0.694),
    "gsm8k": (1_307, 0.6373, 0.8577, 0.598, 0.368, 0.664),
    "mt-bench": (72, 8.281, 9.212, 0.556, 0.344, 0.776),
}


@pytest.mark.parametrize("suite", list(REFERENCE))
def test_import_and_length_baseline_match_the_reference(suite: str) -> None:
    rows, weak, strong, apgr, cpt50, cpt80 = REFERENCE[suite]
    data = dataset_from_rows(import_routellm(ROUTELLM, suite))
    assert len(data) == rows
    q = {m: data.quality[:, j] for j, m in enumerate(data.models)}
    assert q[WEAK].mean() == pytest.approx(weak, abs=6e-4)
    assert q[STRONG].mean() == pytest.approx(strong, abs=6e-4)
    length = np.array([len(t) for t in data.texts], dtype=float)
    curve = metrics.routed_curve(length, q[STRONG], q[WEAK])
    result = metrics.binary_metrics(curve, float(q[STRONG].mean()), float(q[WEAK].mean()))
    assert result.apgr == pytest.approx(apgr, abs=5e-3)
    assert result.cpt50 == pytest.approx(cpt50, abs=5e-3)
    assert result.cpt80 == pytest.approx(cpt80, abs=5e-3)
