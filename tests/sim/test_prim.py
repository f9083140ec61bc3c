"""PRIM finds a known box, reports honest coverage and density, and covering finds a second region."""

from __future__ import annotations

import numpy as np
import pytest

from datalever.sim.prim import covering, peel


def test_peeling_recovers_a_known_box() -> None:
    rng = np.random.default_rng(4)
    x = rng.random((3_000, 4))
    truth = (x[:, 0] < 0.4) & (x[:, 2] > 0.7)  # other inputs irrelevant
    box = peel(x, truth, threshold=0.9)
    assert box.low[0] == pytest.approx(0.0, abs=0.02) and box.high[0] == pytest.approx(0.4, abs=0.04)
    assert box.low[2] == pytest.approx(0.7, abs=0.04) and box.high[2] == pytest.approx(1.0, abs=0.02)
    assert box.restricted(x.min(axis=0), x.max(axis=0)) == [0, 2]
    assert box.density >= 0.9 and box.coverage >= 0.85
    inside = box.contains(x)
    assert box.density == pytest.approx(truth[inside].mean()) and box.coverage == pytest.approx(
        (truth & inside).sum() / truth.sum()
    )
    # The trajectory starts with the whole space: coverage 1 at the base rate.
    assert box.trajectory[0] == pytest.approx((1.0, truth.mean()))


def test_noisy_outcome_still_points_at_the_box() -> None:
    rng = np.random.default_rng(5)
    x = rng.random((4_000, 3))
    truth = x[:, 1] > 0.5
    noisy = np.where(rng.random(4_000) < 0.1, ~truth, truth)
    box = peel(x, noisy, threshold=0.8)
    assert box.low[1] == pytest.approx(0.5, abs=0.08)
    assert box.restricted(x.min(axis=0), x.max(axis=0)) == [1]


def test_covering_finds_two_separate_regions() -> None:
    rng = np.random.default_rng(6)
    x = rng.random((5_000, 3))
    y = ((x[:, 0] < 0.3) & (x[:, 1] < 0.3)) | ((x[:, 0] > 0.7) & (x[:, 2] > 0.7))
    boxes = covering(x, y, threshold=0.9)
    assert len(boxes) >= 2
    assert sum(b.coverage for b in boxes[:2]) >= 0.8
    assert all(b.density >= 0.9 for b in boxes[:2])
