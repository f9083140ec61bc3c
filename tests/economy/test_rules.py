from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from datalever.economy import (
    Expiry,
    allowance_due,
    expires_at,
    expiry_month_index,
    feedback_reward,
    load_policy,
    month_index,
    next_session_position,
    query_price,
    reputation_after,
    session_total_price,
)
from tests.support.data import DEFAULT_POLICY

POLICY = load_policy(DEFAULT_POLICY)


def test_price_doubles_after_the_fifth_query() -> None:
    prices = [query_price(k, POLICY.query) for k in range(1, 9)]
    assert prices == [1, 1, 1, 1, 1, 2, 2, 2]
    assert all(type(p) is int for p in prices)


def test_price_rejects_position_zero() -> None:
    with pytest.raises(ValueError, match="counts from 1"):
        query_price(0, POLICY.query)


def test_scalar_and_array_forms_agree() -> None:
    positions = np.arange(1, 20)
    vector = query_price(positions, POLICY.query)
    assert isinstance(vector, np.ndarray)
    assert vector.tolist() == [query_price(int(k), POLICY.query) for k in positions]
    reps = np.linspace(0, 1, 21)
    assert feedback_reward(reps, POLICY.feedback).tolist() == [feedback_reward(float(r), POLICY.feedback) for r in reps]


@given(st.integers(min_value=0, max_value=500))
def test_session_total_is_the_sum_of_query_prices(n: int) -> None:
    expected = sum(query_price(k, POLICY.query) for k in range(1, n + 1))
    assert session_total_price(n, POLICY.query) == expected


def test_session_position_resets_after_idle_gap() -> None:
    idle = POLICY.query.session_idle_minutes
    assert next_session_position(0, 0.0, POLICY.query) == 1
    assert next_session_position(3, idle - 1, POLICY.query) == 4
    assert next_session_position(3, idle, POLICY.query) == 1


def test_feedback_reward_follows_tiers() -> None:
    assert feedback_reward(0.0, POLICY.feedback) == 1
    assert feedback_reward(0.69, POLICY.feedback) == 1
    assert feedback_reward(0.7, POLICY.feedback) == 2
    assert feedback_reward(0.95, POLICY.feedback) == 3
    with pytest.raises(ValueError):
        feedback_reward(1.5, POLICY.feedback)


@given(st.floats(min_value=0, max_value=1), st.booleans())
def test_reputation_stays_in_unit_interval_and_moves_the_right_way(rep: float, accepted: bool) -> None:
    after = reputation_after(rep, accepted, POLICY.feedback)
    assert 0.0 <= after <= 1.0
    if accepted:
        assert after >= rep
    else:
        assert after <= rep


def test_rejection_costs_more_reputation_than_acceptance_earns() -> None:
    up = reputation_after(0.5, True, POLICY.feedback) - 0.5
    down = 0.5 - reputation_after(0.5, False, POLICY.feedback)
    assert down > up > 0


def test_allowance_expires_at_end_of_next_month() -> None:
    granted = datetime(2026, 12, 15, 9, 30, tzinfo=UTC)
    assert expires_at(Expiry.END_OF_NEXT_MONTH, granted) == datetime(2027, 2, 1, tzinfo=UTC)
    assert expires_at(Expiry.END_OF_MONTH, granted) == datetime(2027, 1, 1, tzinfo=UTC)
    assert expires_at(Expiry.NEVER, granted) is None


def test_month_indexed_expiry_matches_datetime_expiry() -> None:
    granted = datetime(2026, 11, 3, tzinfo=UTC)
    expiry = expires_at(Expiry.END_OF_NEXT_MONTH, granted)
    assert expiry is not None
    assert expiry_month_index(Expiry.END_OF_NEXT_MONTH, month_index(granted)) == month_index(expiry)
    assert expiry_month_index(Expiry.NEVER, month_index(granted)) == -1


def test_allowance_due_only_after_joining() -> None:
    assert allowance_due(POLICY.allowance, 10, 9) == 0
    assert allowance_due(POLICY.allowance, 10, 10) == 100
    assert allowance_due(POLICY.allowance, np.array([1, 5, 9]), 5).tolist() == [100, 100, 0]


def test_spend_order_soonest_expiry_first_then_oldest_never_expiring_last() -> None:
    from datalever.economy import spend_order_key

    lots = [(4, None), (3, 20), (1, None), (2, 20), (5, 10)]  # (age, expiry)
    assert sorted(lots, key=lambda lot: spend_order_key(lot[1], lot[0])) == [
        (5, 10),
        (2, 20),
        (3, 20),
        (1, None),
        (4, None),
    ]


def test_credits_to_cents_exact_for_whole_credits_and_refuses_bad_values() -> None:
    import numpy as np
    import pytest

    from datalever.economy import credits_to_cents, load_policy

    credit = load_policy().credit
    assert credits_to_cents(7, credit) == 7 * credit.value_cents and isinstance(credits_to_cents(7, credit), int)
    assert credits_to_cents(np.array([1, 2]), 3).tolist() == [3, 6]
    assert credits_to_cents(2.5, 2) == 5.0
    with pytest.raises(ValueError, match="non-negative"):
        credits_to_cents(1, -1)
    with pytest.raises(ValueError, match="numbers"):
        credits_to_cents(np.array(["a"]), 1)
