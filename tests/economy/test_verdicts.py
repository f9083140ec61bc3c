"""apply_verdicts is the sequential feedback rule (feedback_reward, reputation_after) applied verdict by verdict."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from datalever.economy import apply_verdicts, evenly_spread, feedback_reward, load_policy, reputation_after
from datalever.economy.policy import FeedbackPolicy, FeedbackTier
from tests.support.data import DEFAULT_POLICY

POLICY = load_policy(DEFAULT_POLICY).feedback


def one_at_a_time(rep: float, given: int, accepted: int, rules: FeedbackPolicy) -> tuple[int, float]:
    """The service's way: one verdict at a time, scalars only."""
    earned = 0
    for j in range(given):
        ok = bool(evenly_spread(np.int64(given), np.int64(accepted), j))
        if ok:
            earned += feedback_reward(rep, rules)
        rep = reputation_after(rep, ok, rules)
    return earned, rep


people = st.lists(st.tuples(st.floats(0.0, 1.0), st.integers(0, 30), st.floats(0.0, 1.0)), min_size=0, max_size=40)
tiers = st.lists(st.tuples(st.floats(0.01, 0.99), st.integers(0, 5)), max_size=3).map(
    lambda extra: (
        [FeedbackTier(min_reputation=0.0, multiplier=1)]
        + [FeedbackTier(min_reputation=t, multiplier=m) for t, m in sorted(dict(extra).items())]
    )
)


@given(people, tiers, st.integers(0, 4), st.floats(0.0, 1.0), st.floats(0.0, 1.0))
def test_equals_the_scalar_rule_applied_sequentially(
    rows: list[tuple[float, int, float]], tier_list: list[FeedbackTier], base: int, gain: float, loss: float
) -> None:
    rules = FeedbackPolicy(base_reward=base, tiers=tier_list, reputation_gain=gain, reputation_loss=loss)
    rep = np.array([r for r, _, _ in rows], dtype=np.float64)
    given_ = np.array([g for _, g, _ in rows], dtype=np.int32)
    accepted = np.array([int(g * share) for _, g, share in rows], dtype=np.int32)
    earned, after = apply_verdicts(rep, given_, accepted, rules)
    expected = [one_at_a_time(float(r), int(g), int(a), rules) for r, g, a in zip(rep, given_, accepted, strict=True)]
    assert earned.tolist() == [e for e, _ in expected]
    # Bit for bit, not approximately: the simulator's results must not depend on the vectorized form.
    assert after.tolist() == [r for _, r in expected]
    assert earned.dtype == np.int64 and after.dtype == np.float64


def test_leaves_its_input_alone_and_counts_evenly_spread_verdicts() -> None:
    rep = np.array([0.5, 0.5, 0.69])
    earned, after = apply_verdicts(rep, np.array([4, 0, 2]), np.array([2, 0, 2]), POLICY)
    assert rep.tolist() == [0.5, 0.5, 0.69]
    assert after[1] == 0.5 and earned[1] == 0  # no verdicts: nothing changes
    assert [bool(evenly_spread(np.int64(4), np.int64(2), j)) for j in range(4)] == [False, True, False, True]
    assert earned[2] == 1 + 2  # the first accepted verdict lifts 0.69 past the 0.7 tier for the second


@pytest.mark.parametrize(
    ("rep", "given_", "accepted", "message"),
    [
        ([1.5], [1], [1], "reputation must lie in"),
        ([0.5], [1], [2], "0 <= accepted <= given"),
        ([0.5], [-1], [0], "0 <= accepted <= given"),
        ([0.5, 0.5], [1], [1], "same length"),
    ],
)
def test_refuses_bad_input(rep: list[float], given_: list[int], accepted: list[int], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        apply_verdicts(np.array(rep), np.array(given_), np.array(accepted), POLICY)


def test_refuses_fractional_counts() -> None:
    with pytest.raises(ValueError, match="integers"):
        apply_verdicts(np.array([0.5]), np.array([1.0]), np.array([1.0]), POLICY)
