"""Valuation rules: token share, leave-one-out and Shapley (exact and sampled) over the loss game."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from datalever.economy.pools import RangePoint
from datalever.economy.valuation import (
    leave_one_out,
    pick,
    shapley_exact,
    shapley_sampled,
    token_share,
    worth,
)

B, BETA = 410.7, 0.28  # Chinchilla's data term


def brute_shapley(d: list[float], total: float) -> list[float]:
    """Shapley by its permutation definition (n! orders), independent of the subset formula."""
    base = total - sum(d)
    n = len(d)
    phi = [0.0] * n
    orders = list(itertools.permutations(range(n)))
    for order in orders:
        seen = 0.0
        for i in order:
            phi[i] += float(worth(seen + d[i], base, B, BETA) - worth(seen, base, B, BETA))
            seen += d[i]
    return [p / len(orders) for p in phi]


def test_pick_a_point_of_an_interval() -> None:
    assert pick(0.0, 0.05, RangePoint.MIDPOINT) == pytest.approx(0.025)
    assert pick(0.01, 0.05, RangePoint.LOW) == 0.01
    assert pick(0.01, 0.05, RangePoint.HIGH) == 0.05
    with pytest.raises(ValueError):
        pick(0.2, 0.1, RangePoint.LOW)


def test_token_share_validates() -> None:
    assert list(token_share([0.02, 0.01])) == [0.02, 0.01]
    with pytest.raises(ValueError):
        token_share([0.7, 0.6])


def test_worth_by_hand() -> None:
    # D0 = 1e9, d = 1e9: 410.7 / 1e9^0.28 - 410.7 / 2e9^0.28
    expected = 410.7 / 1e9**0.28 - 410.7 / 2e9**0.28
    assert float(worth(1e9, 1e9, B, BETA)) == pytest.approx(expected)


def test_leave_one_out_by_hand() -> None:
    d = np.array([28e9, 10e9])
    total = 1.4e12
    loo = leave_one_out(d, total, B, BETA)
    assert loo[0] == pytest.approx(B / (total - 28e9) ** BETA - B / total**BETA)
    assert loo[1] == pytest.approx(B / (total - 10e9) ** BETA - B / total**BETA)


def test_communities_that_supply_everything_are_refused() -> None:
    with pytest.raises(ValueError, match="some data left"):
        shapley_exact([5.0, 5.0], 10.0, B, BETA)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(1e6, 1e11), min_size=1, max_size=6), st.floats(1.05, 50.0))
def test_exact_shapley_matches_the_permutation_definition_and_is_efficient(d: list[float], scale: float) -> None:
    total = sum(d) * scale
    phi = shapley_exact(d, total, B, BETA)
    assert list(phi) == pytest.approx(brute_shapley(d, total), rel=1e-9, abs=1e-15)
    base = total - sum(d)
    assert phi.sum() == pytest.approx(float(worth(sum(d), base, B, BETA)), rel=1e-9)  # efficiency
    # Diminishing returns: leave-one-out (the last marginal) <= Shapley <= standalone worth.
    loo = leave_one_out(d, total, B, BETA)
    alone = worth(np.array(d), base, B, BETA)
    assert np.all(loo <= phi * (1 + 1e-9))
    assert np.all(phi <= alone * (1 + 1e-9))


def test_symmetric_communities_get_equal_value() -> None:
    phi = shapley_exact([3e9, 3e9, 1e9], 1e12, B, BETA)
    assert phi[0] == pytest.approx(phi[1])
    assert phi[0] > phi[2]


def test_sampled_shapley_is_within_its_stated_bound_and_reproducible() -> None:
    d = np.linspace(1e9, 2e10, 12)
    total = 2e12
    exact = shapley_exact(d, total, B, BETA)
    sampled = shapley_sampled(d, total, B, BETA, permutations=400, confidence=0.99, seed=7)
    again = shapley_sampled(d, total, B, BETA, permutations=400, confidence=0.99, seed=7)
    assert np.array_equal(sampled.values, again.values)
    assert np.all(np.abs(sampled.values - exact) <= sampled.error_bound)
    # Each permutation's marginals sum to v(N), so the sampled values are efficient too.
    assert sampled.values.sum() == pytest.approx(exact.sum(), rel=1e-9)
    alone = worth(d, total - d.sum(), B, BETA)
    assert sampled.error_bound == pytest.approx(alone * math.sqrt(math.log(2 / 0.01) / 800))
