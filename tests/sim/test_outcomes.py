"""The analyses' API: absolute party deltas, the positive-sum test and welfare by group."""

from __future__ import annotations

import numpy as np
import pytest

from datalever.economy import ConfigError
from datalever.sim.outcomes import (
    HEADLINE_DELTAS,
    is_positive_sum,
    party_deltas,
    people_cents,
    run_pair,
    welfare_by_group,
)
from tests.sim.helpers import policy, scenario


def test_deltas_are_absolute_differences_of_the_two_runs() -> None:
    pair = run_pair(scenario(agents=2_000, weeks=30), policy(), seed=3)
    d = party_deltas(pair)
    b, p = pair.baseline.series, pair.policy.series
    assert d["operator_cents"] == pytest.approx(p["operator_net_cents"].sum() - b["operator_net_cents"].sum())
    assert d["platform_answers"] == pytest.approx(p["answers"].sum() - b["answers"].sum())
    expected = (people_cents(pair.policy).sum() - people_cents(pair.baseline).sum()) / (2_000 * 30)
    assert d["people_surplus_cents"] == pytest.approx(expected)
    assert set(HEADLINE_DELTAS) <= set(d)


def test_same_seed_same_deltas_and_seed_override() -> None:
    sc = scenario(agents=2_000, weeks=20)
    assert party_deltas(run_pair(sc, policy(), seed=5)) == party_deltas(run_pair(sc, policy(), seed=5))
    assert run_pair(sc, policy(), seed=6, weeks=10).policy.scenario.run.weeks == 10


def test_bad_override_is_refused() -> None:
    with pytest.raises(ConfigError, match="agents"):
        run_pair(scenario(), policy(), agents=3)


def test_positive_sum_needs_every_headline_within_tolerance() -> None:
    good = {"operator_cents": 0.0, "platform_answers": 5.0, "people_surplus_cents": 0.1}
    assert is_positive_sum(good)
    bad = {**good, "people_surplus_cents": -0.5}
    assert not is_positive_sum(bad)
    assert is_positive_sum(bad, tolerance=1.0)
    assert not is_positive_sum(bad, tolerance={"people_surplus_cents": 0.1})


def test_a_price_with_nothing_earned_lowers_surplus() -> None:
    # Credits that only buy queries which were free without the policy: most people are worse off (those who
    # do not know the AI yet gain a little from the busier platform).
    pricey = policy(feedback={"base_reward": 0}, stipend={"credits_per_month": 0})
    pair = run_pair(scenario(agents=2_000, weeks=30), pricey, seed=2)
    assert party_deltas(pair)["people_surplus_cents"] < 0
    assert np.mean(people_cents(pair.policy) < people_cents(pair.baseline)) > 0.5


def test_welfare_groups_cover_everyone() -> None:
    rows = welfare_by_group(run_pair(scenario(agents=2_000, weeks=20), policy(), seed=1))
    by = {(r["group"], r["value"]): r for r in rows}
    assert by[("everyone", "all")]["people"] == 2_000
    classes = [r for r in rows if r["group"] == "contributor class"]
    assert sum(r["people"] for r in classes) == 2_000
    deciles = [r for r in rows if r["group"] == "credit-balance decile"]
    assert len(deciles) == 10 and sum(r["people"] for r in deciles) == 2_000
