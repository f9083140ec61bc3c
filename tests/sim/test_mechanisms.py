"""The mechanisms the essays name: duplicates, browsing answerers, platform quality, trend, capability, costs."""

from __future__ import annotations

import math
from datetime import date

import numpy as np
import pytest

from datalever.sim import dynamics
from datalever.sim.outcomes import run_pair
from datalever.sim.scenario import load_scenario
from tests.sim.helpers import policy, scenario


def test_an_ai_that_absorbs_duplicates_leaves_answerers_time_for_new_questions() -> None:
    costly = {"duplicate_share": 0.25, "duplicate_handling_answers": 2.0}
    plain = run_pair(scenario(agents=20_000, weeks=52, ai={"duplicate_absorption": 0.0}, platform=costly), policy())
    absorbing = run_pair(scenario(agents=20_000, weeks=52, ai={"duplicate_absorption": 3.0}, platform=costly), policy())
    p, a = plain.baseline.series, absorbing.baseline.series
    assert a["duplicates_posted"].sum() < 0.6 * p["duplicates_posted"].sum()
    assert a["answered_share"][26:].mean() > p["answered_share"][26:].mean()


def test_duplicate_share_falls_with_the_ai_share_as_documented() -> None:
    sc = load_scenario("default")
    ai = sc.ai.model_copy(update={"duplicate_absorption": 2.0})
    assert dynamics.duplicate_share(0.0, sc.platform, ai) == pytest.approx(sc.platform.duplicate_share)
    assert dynamics.duplicate_share(0.5, sc.platform, ai) == pytest.approx(sc.platform.duplicate_share * 0.25)


def test_answerers_who_browse_keep_answering_when_they_ask_the_ai() -> None:
    # Most questions go to the AI: answers written while asking vanish with them, answers written while
    # browsing fall only with the platform's activity (elasticity 0.5).
    most_on_ai = {"ai_affinity_mean": 5.0, "adoption_weeks": 0.01}
    no_browse = {"superuser_browse_answers_per_week": 0.0, "occasional_browse_answers_per_week": 0.0}
    kept = {}
    for label, people in (("browsing", {}), ("asking only", no_browse)):
        with_ai = run_pair(scenario(agents=5_000, weeks=30, choice=most_on_ai, people=people), policy(), seed=1)
        never = run_pair(scenario(agents=5_000, weeks=30, run={"ai_launch_week": 30}, people=people), policy(), seed=1)
        kept[label] = with_ai.baseline.series["answers"][10:].sum() / never.baseline.series["answers"][10:].sum()
    assert kept["asking only"] < 0.2
    assert kept["browsing"] > 2 * kept["asking only"]


def test_a_thinner_stock_is_found_less_often() -> None:
    platform = load_scenario("default").platform
    assert dynamics.not_found_share(1.0, platform) == pytest.approx(platform.not_found_share)
    half = 1.0 - dynamics.not_found_share(0.5, platform)
    assert half == pytest.approx((1.0 - platform.not_found_share) * 0.5**platform.find_stock_elasticity)
    assert half < 0.85  # the paradox of reuse bites: the issue saw 0.994 -> 0.992
    off = platform.model_copy(update={"find_stock_elasticity": 0.0})
    assert dynamics.not_found_share(0.5, off) == pytest.approx(platform.not_found_share)


def test_time_to_an_answer_grows_as_answers_per_question_fall() -> None:
    platform = load_scenario("default").platform
    assert dynamics.time_to_answer(1.0, 1.0, platform) == pytest.approx(platform.time_to_answer_hours)
    assert dynamics.time_to_answer(0.25, 1.0, platform) == pytest.approx(4 * platform.time_to_answer_hours)
    assert dynamics.wait_value(platform.time_to_answer_hours, platform) == 1.0
    assert dynamics.wait_value(48.0, platform) < dynamics.wait_value(2.0, platform) < 1.0


def test_pre_existing_trend_shrinks_platform_activity_without_any_ai() -> None:
    sc = scenario(agents=3_000, weeks=105, run={"ai_launch_week": 105}, platform={"trend_per_year": -0.5})
    base = run_pair(sc, policy(), seed=3).baseline
    s = base.series
    assert s["trend_factor"][104] == pytest.approx(0.25, rel=0.01)
    assert s["platform_questions"][100:105].mean() < 0.3 * s["platform_questions"][:5].mean()
    assert s["ai_queries"].sum() == 0


def test_capability_changes_at_retraining_along_a_seeded_uncertain_path() -> None:
    ai = load_scenario("default").ai.model_copy(
        update={"capability_growth_sd_per_year": 0.0, "retrain_every_weeks": 52}
    )
    path = dynamics.capability_path(157, 0, ai, seed=1)
    assert path[51] == 1.0 and path[52] == pytest.approx(1.0 + ai.exogenous_growth_per_year)
    assert path[156] == pytest.approx((1.0 + ai.exogenous_growth_per_year) ** 3)
    noisy = ai.model_copy(update={"capability_growth_sd_per_year": 0.3})
    a, b = dynamics.capability_path(157, 0, noisy, seed=1), dynamics.capability_path(157, 0, noisy, seed=2)
    assert not np.array_equal(a, b)
    np.testing.assert_array_equal(a, dynamics.capability_path(157, 0, noisy, seed=1))
    assert set(np.flatnonzero(np.diff(a)) + 1) <= {52, 104, 156}


def test_baseline_and_policy_share_the_capability_path() -> None:
    pair = run_pair(scenario(agents=2_000, weeks=60, ai={"capability_growth_sd_per_year": 0.3}), policy())
    base, with_policy = pair.baseline, pair.policy
    np.testing.assert_array_equal(base.series["ai_capability"], with_policy.series["ai_capability"])


def test_compute_cost_and_revenue_follow_their_dated_trajectories() -> None:
    ai = load_scenario("default").ai
    ref = ai.compute_cost_reference_date
    assert dynamics.per_year(0.36, 0.5, ref, ref) == pytest.approx(0.36)
    later = date(ref.year + 2, ref.month, ref.day)
    assert dynamics.per_year(0.36, 0.5, later, ref) == pytest.approx(0.09, rel=0.01)
    base = run_pair(scenario(agents=1_000, weeks=104), policy()).baseline
    cost = base.series["compute_cost_cents_per_query"]
    years = 52 / 52.0
    assert cost[52] / cost[0] == pytest.approx(ai.compute_cost_change_per_year ** (years * 364 / 365.25), rel=1e-6)
    np.testing.assert_allclose(base.series["compute_cost_cents"], base.series["ai_queries"] * cost, rtol=1e-12)
    assert math.isclose(base.series["revenue_cents_per_query"][0], base.series["revenue_cents_per_query"][-1])
