"""People's welfare is the logit's expected consumer surplus, and it behaves as the choice model says."""

from __future__ import annotations

import numpy as np
import pytest

from datalever.sim import dynamics
from datalever.sim.engine import People, Simulation, build_blocks, run_simulations
from datalever.sim.outcomes import ai_existence_effect, party_deltas, people_cents, run_pair
from datalever.sim.population import block_sizes
from datalever.sim.scenario import Scenario, load_scenario, with_overrides
from tests.sim.helpers import policy, scenario


@pytest.mark.parametrize("seed", [1, 2])
def test_braess_worse_everyone_loses_once_the_ai_exists(seed: int) -> None:
    effect = ai_existence_effect(with_overrides(load_scenario("braess-worse"), agents=3_000, seed=seed))
    assert effect["share_worse_off"] == 1.0
    assert effect["surplus_change_cents_per_person_week"] < 0
    assert effect["platform_quality_at_horizon"]["with_ai"] < effect["platform_quality_at_horizon"]["without_ai"]


@pytest.mark.parametrize("seed", [1, 2])
def test_braess_better_everyone_gains_once_the_ai_exists(seed: int) -> None:
    effect = ai_existence_effect(with_overrides(load_scenario("braess-better"), agents=3_000, seed=seed))
    assert effect["share_better_off"] == 1.0
    assert effect["surplus_change_cents_per_person_week"] > 0
    assert effect["answers_change"] < 0  # the platform still loses activity: people gain anyway


def test_without_the_ai_surplus_is_the_platform_utility_times_questions() -> None:
    sc = scenario(agents=1_000, weeks=12, run={"ai_launch_week": 12})
    (result,) = run_simulations(sc, [None], ["world"])
    # Week w uses the platform quality people saw: the steady state in week 0, then last week's.
    seen = [Simulation(sc, None).platform.quality, *result.series["platform_quality"][:-1]]
    utility = sum(float(np.float32(dynamics.platform_utility(q, sc.choice))) for q in seen)
    rates = np.concatenate([b.traits.rate for b in _blocks(sc)]).astype(np.float64)
    np.testing.assert_allclose(result.people["surplus_utils"], rates * utility, rtol=1e-5)


def _blocks(sc: Scenario) -> list[People]:
    return build_blocks(sc, None, range(len(block_sizes(sc.run.agents))))


def test_log_sum_gain_is_never_negative_and_grows_with_affinity() -> None:
    # Having the AI as an extra option can only add to a person's surplus in a given week, and more for those
    # who like it more: compare a world with the AI against the same week's platform utility alone.
    sc = scenario(agents=2_000, weeks=6, ai={"exogenous_growth_per_year": 0.0})
    (with_ai,) = run_simulations(sc, [None], ["w"])
    no_ai = with_overrides(sc.model_copy(update={"run": sc.run.model_copy(update={"ai_launch_week": 6})}))
    (without,) = run_simulations(no_ai, [None], ["n"])
    gain = with_ai.people["surplus_utils"] - without.people["surplus_utils"]
    rates = np.concatenate([b.traits.rate for b in _blocks(sc)])
    affinity = np.concatenate([b.traits.affinity for b in _blocks(sc)])
    per_question = gain / rates
    top, bottom = affinity > np.quantile(affinity, 0.9), affinity < np.quantile(affinity, 0.1)
    assert per_question[top].mean() > per_question[bottom].mean()


def test_pushing_people_off_the_ai_is_not_a_gain_for_them() -> None:
    # The first complaint: with no credits, nobody can use the AI they prefer; the old measure called
    # this a gain for people. Consumer surplus must call it a loss.
    broke = policy(allowance={"credits_per_month": 0}, feedback={"base_reward": 0}, stipend={"credits_per_month": 0})
    pair = run_pair(scenario(agents=2_000, weeks=40), broke, seed=4)
    assert pair.policy.series["ai_queries"].sum() == 0
    assert party_deltas(pair)["people_surplus_cents"] < 0
    assert np.mean(people_cents(pair.policy) < people_cents(pair.baseline)) > 0.5
