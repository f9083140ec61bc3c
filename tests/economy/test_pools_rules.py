"""The [pools] policy section and its pure rules: budget, split, vote cost, cap, quorum, funders."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from datalever.economy import ConfigError, load_policy
from datalever.economy.pools import (
    BudgetKind,
    PoolsPolicy,
    VoteCost,
    VotingPolicy,
    additional_cost,
    data_use_adopted,
    funding_operators,
    monthly_budget,
    quorum_met,
    split_budget,
    vote_cost,
    within_cap,
)
from tests.support.data import DEFAULT_POLICY


def test_policy_without_a_pools_section_is_valid_with_defaults(tmp_path: Path) -> None:
    text = DEFAULT_POLICY.read_text()
    old = tmp_path / "old.toml"
    old.write_text(text[: text.index("[pools]")])
    assert load_policy(old).pools == PoolsPolicy()
    assert load_policy(DEFAULT_POLICY).pools == PoolsPolicy()


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ('cost = "quadratic"', 'cost = "cubic"', "pools.voting.cost"),
        ("budget_credits = 10000", "budget_credits = -1", "pools.budget_credits"),
        ('method = "shapley"', 'method = "vibes"', "pools.valuation.method"),
        ("quorum_percent = 0", "quorum_percent = 101", "pools.voting.quorum_percent"),
        ("seed = 0", "seed = 0\nsamples = 3", "pools.valuation.samples: unknown key"),
        ('budget = "fixed"', 'budget = "share_of_spend"', None),
    ],
)
def test_bad_pools_values_are_refused_naming_the_key(tmp_path: Path, old: str, new: str, message: str | None) -> None:
    text = DEFAULT_POLICY.read_text()
    assert old in text
    path = tmp_path / "p.toml"
    path.write_text(text.replace(old, new, 1))
    if message is None:
        assert load_policy(path).pools.budget is BudgetKind.SHARE_OF_SPEND
        return
    with pytest.raises(ConfigError, match=message.replace(".", r"\.")):
        load_policy(path)


def test_share_of_spend_needs_a_share() -> None:
    with pytest.raises(ValueError, match="spend_share_percent > 0"):
        PoolsPolicy(budget=BudgetKind.SHARE_OF_SPEND, spend_share_percent=0)


def test_monthly_budget_fixed_or_share_of_spend() -> None:
    assert monthly_budget(PoolsPolicy(budget_credits=500), 123_456) == 500
    share = PoolsPolicy(budget=BudgetKind.SHARE_OF_SPEND, spend_share_percent=10)
    assert monthly_budget(share, 12_345) == 1_234  # floor: never more than the share


def test_split_budget_hand_checked() -> None:
    # 100 credits over 1:1:1 -> 33.33 each; the one remainder credit goes to the id that sorts first.
    assert split_budget(100, {"b": 1.0, "a": 1.0, "c": 1.0}) == {"a": 34, "b": 33, "c": 33}
    assert split_budget(10, {"x": 0.7, "y": 0.3}) == {"x": 7, "y": 3}
    assert split_budget(10, {"x": 0.0, "y": 0.0}) == {"x": 0, "y": 0}
    with pytest.raises(ValueError):
        split_budget(10, {"x": -1.0})


@given(
    st.integers(0, 10**9),
    st.dictionaries(st.text("abc", min_size=1, max_size=3), st.fractions(0, 1000), min_size=1, max_size=8),
)
def test_split_budget_sums_exactly_and_is_within_one_of_the_quota(budget: int, weights: dict[str, Fraction]) -> None:
    parts = split_budget(budget, weights)
    total = sum(weights.values())
    if total == 0:
        assert set(parts.values()) == {0}
        return
    assert sum(parts.values()) == budget
    for key, part in parts.items():
        quota = weights[key] * budget / total
        assert quota - 1 < part < quota + 1


def test_vote_costs_linear_and_quadratic() -> None:
    quadratic = VotingPolicy(cost=VoteCost.QUADRATIC, credits_per_vote=2)
    linear = VotingPolicy(cost=VoteCost.LINEAR, credits_per_vote=3)
    assert [vote_cost(n, quadratic) for n in range(5)] == [0, 2, 8, 18, 32]
    assert [vote_cost(n, linear) for n in range(4)] == [0, 3, 6, 9]
    # Buying votes in two steps costs the same as at once: 2 then 3 more = 5 votes = 25 units.
    assert vote_cost(2, quadratic) + additional_cost(2, 3, quadratic) == vote_cost(5, quadratic) == 50
    with pytest.raises(ValueError):
        additional_cost(1, 0, quadratic)
    with pytest.raises(ValueError):
        vote_cost(-1, linear)


def test_cap_and_quorum() -> None:
    policy = VotingPolicy(max_votes_per_member=3, quorum_voters=2, quorum_percent=50)
    assert within_cap(1, 2, policy)
    assert not within_cap(2, 2, policy)
    assert not quorum_met(1, 2, policy)  # fewer than 2 voters
    assert quorum_met(2, 4, policy)  # 2 voters, 50%
    assert not quorum_met(2, 5, policy)  # 40% < 50%
    assert not data_use_adopted(3, 3, 2, 2, policy)  # a tie is not a majority
    assert data_use_adopted(4, 3, 2, 2, policy)
    assert not quorum_met(0, 0, VotingPolicy(quorum_voters=0))
    with pytest.raises(ValueError):
        quorum_met(3, 2, policy)


def test_funding_operators_come_from_the_window() -> None:
    policy = PoolsPolicy(funding_counts_months=3)
    fundings = [("Ai2", 100), ("OpenAI", 97), ("Anthropic", 98)]
    assert funding_operators(fundings, 100, policy) == ["Ai2", "Anthropic"]
    assert funding_operators(fundings, 99, policy) == ["Anthropic", "OpenAI"]
