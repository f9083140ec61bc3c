"""Scaling-law maths against values worked out by hand (log tables in the comments)."""

from __future__ import annotations

import numpy as np
import pytest

from datalever.flows import scaling


def test_published_constants():
    assert (scaling.CHINCHILLA_2022.E, scaling.CHINCHILLA_2022.A, scaling.CHINCHILLA_2022.B) == (1.69, 406.4, 410.7)
    assert (scaling.CHINCHILLA_2022.alpha, scaling.CHINCHILLA_2022.beta) == (0.34, 0.28)
    assert (scaling.BESIROGLU_2024.E, scaling.BESIROGLU_2024.A, scaling.BESIROGLU_2024.B) == (1.8172, 482.01, 2085.43)
    assert (scaling.BESIROGLU_2024.alpha, scaling.BESIROGLU_2024.beta) == (0.3478, 0.3658)
    assert abs(scaling.R_STAR_D - 15.4) < 0.05


def test_chinchilla_loss_by_hand():
    # N = 1e9: N^0.34 = 10^3.06 = 1148.15 -> 406.4 / 1148.15 = 0.35396
    # D = 2e10: ln D = 23.7190; x0.28 = 6.6413; e^6.6413 = 766.1 -> 410.7 / 766.1 = 0.53609
    # L = 1.69 + 0.35396 + 0.53609 = 2.58005
    assert scaling.loss(scaling.CHINCHILLA_2022, 1e9, 2e10) == pytest.approx(2.58005, abs=2e-4)


def test_besiroglu_loss_by_hand():
    # N^0.3478 = 10^3.1302 = 1349.6 -> 482.01 / 1349.6 = 0.35715
    # D^0.3658 = e^(23.7190 x 0.3658 = 8.6764) = 5862.9 -> 2085.43 / 5862.9 = 0.35570
    # L = 1.8172 + 0.35715 + 0.35570 = 2.53005
    assert scaling.loss(scaling.BESIROGLU_2024, 1e9, 2e10) == pytest.approx(2.53005, abs=2e-4)


def test_loss_change_by_hand():
    # 1e11^0.28 = 10^3.08 = 1202.26 -> 0.341605 ; 9e10^0.28 = 10^(0.28 x 10.95424 = 3.06719) = 1167.30 -> 0.351838
    delta = scaling.loss_change(scaling.CHINCHILLA_2022, 1e11, 9e10)
    assert delta == pytest.approx(0.010233, abs=2e-5)
    assert delta == pytest.approx(
        scaling.loss(scaling.CHINCHILLA_2022, 7e9, 9e10) - scaling.loss(scaling.CHINCHILLA_2022, 7e9, 1e11)
    )


def test_effective_tokens_single_pass_is_the_seen_tokens():
    assert scaling.effective_tokens(500.0, 0.5) == pytest.approx(500.0)
    assert scaling.effective_tokens(500.0, 1.0) == pytest.approx(500.0)


def test_effective_tokens_repeated_by_hand():
    # 2 epochs over U = 100: R = 1; 1 - e^(-1/15.387756) = 1 - 0.937080 = 0.062920
    # D' = 100 + 100 x 15.387756 x 0.062920 = 100 + 96.82 = 196.82
    assert scaling.effective_tokens(200.0, 2.0) == pytest.approx(196.82, abs=0.01)
    # R = R*: D' = U (1 + R* (1 - 1/e)) = 100 (1 + 15.387756 x 0.632121) = 1072.69
    seen = 100.0 * (1 + scaling.R_STAR_D)
    assert scaling.effective_tokens(seen, 1 + scaling.R_STAR_D) == pytest.approx(1072.69, abs=0.01)


def test_repetition_has_diminishing_returns_and_a_ceiling():
    epochs = np.array([1.0, 2.0, 4.0, 16.0, 100.0, 1000.0])
    value = scaling.value_per_token(epochs)
    assert np.all(np.diff(value) < 0)
    unique = 1.0
    ceiling = unique * (1 + scaling.R_STAR_D)
    assert float(scaling.effective_tokens(16.0, 16.0)) < ceiling
    assert float(scaling.effective_tokens(1000.0, 1000.0)) == pytest.approx(ceiling)


def test_vectorised_like_the_economy_rules():
    tokens = np.array([1e10, 1e11])
    losses = scaling.loss(scaling.CHINCHILLA_2022, 1e9, tokens)
    assert losses.shape == (2,)
    assert losses[0] > losses[1]


def test_bad_inputs_are_refused():
    with pytest.raises(ValueError, match="parameters must be positive"):
        scaling.loss(scaling.CHINCHILLA_2022, 0.0, 1e9)
    with pytest.raises(ValueError, match="epochs must be positive"):
        scaling.effective_tokens(10.0, 0.0)
    with pytest.raises(ValueError, match="non-negative"):
        scaling.effective_tokens(-1.0, 1.0)
