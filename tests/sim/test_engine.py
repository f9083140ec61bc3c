"""Properties of the ecosystem model: determinism, the policy's credit rules, and sanity of the dynamics."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from datalever.economy.stipends import qualified, stackexchange_rule, stipend_due
from datalever.sim import population
from datalever.sim.engine import _F, BLOCK_FIELDS, METRICS, Simulation, run_simulations
from datalever.sim.outcomes import credit_balance, summarize
from tests.sim.helpers import policy, run_pair, scenario


def test_same_seed_same_series_and_summary() -> None:
    sc = scenario(seed=11)
    first = run_pair(sc)
    second = run_pair(sc)
    for a, b in zip(first, second, strict=True):
        for name in METRICS:
            np.testing.assert_array_equal(a.series[name], b.series[name], err_msg=name)
    assert summarize(*first, policy_source="default") == summarize(*second, policy_source="default")


def test_different_seed_different_run() -> None:
    a, _ = run_pair(scenario(seed=1))
    b, _ = run_pair(scenario(seed=2))
    assert not np.array_equal(a.series["questions"], b.series["questions"])


def test_results_do_not_depend_on_thread_count(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(population, "BLOCK_SIZE", 700)  # several blocks in a small run
    sc = scenario(agents=3_000, weeks=20)
    one = run_pair(sc, threads=1)
    three = run_pair(sc, threads=3)
    for a, b in zip(one, three, strict=True):
        for name in METRICS:
            np.testing.assert_array_equal(a.series[name], b.series[name], err_msg=name)


def test_worker_processes_give_the_same_results(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(population, "BLOCK_SIZE", 700)
    sc = scenario(agents=3_000, weeks=15)
    pol = policy()
    in_threads = run_simulations(sc, [None, pol], ["b", "p"], processes=False)
    in_processes = run_simulations(sc, [None, pol], ["b", "p"], processes=True, threads=2)
    for a, b in zip(in_threads, in_processes, strict=True):
        assert a.initial_stock == b.initial_stock
        for name in METRICS:
            np.testing.assert_array_equal(a.series[name], b.series[name], err_msg=name)


def test_better_ai_takes_more_questions() -> None:
    weak, _ = run_pair(scenario(ai={"quality_max": 0.6}))
    strong, _ = run_pair(scenario(ai={"quality_max": 0.99}))
    assert strong.series["ai_queries"].sum() > weak.series["ai_queries"].sum() * 1.05
    assert strong.series["platform_questions"].sum() < weak.series["platform_questions"].sum()


def test_no_ai_before_launch() -> None:
    base, with_policy = run_pair(scenario(weeks=30, run={"ai_launch_week": 10}))
    for result in (base, with_policy):
        assert result.series["ai_queries"][:10].sum() == 0
        assert result.series["ai_queries"][10:].sum() > 0


def test_without_credits_everyone_falls_back_to_the_platform() -> None:
    broke = policy(allowance={"credits_per_month": 0}, feedback={"base_reward": 0}, stipend={"credits_per_month": 0})
    _, result = run_pair(scenario(), broke)
    s = result.series
    assert s["ai_wanted"].sum() > 0
    assert s["ai_queries"].sum() == 0
    np.testing.assert_array_equal(s["fallback_questions"], s["ai_wanted"])
    # Every question goes to the platform, less the platform's pre-existing trend (questions asked elsewhere).
    np.testing.assert_allclose(s["platform_questions"], s["questions"] * s["trend_factor"], rtol=1e-12)


def test_scarce_credits_send_heavy_users_to_the_fallback() -> None:
    _, scarce = run_pair(scenario(), policy(allowance={"credits_per_month": 5}))
    _, ample = run_pair(scenario(), policy(allowance={"credits_per_month": 10_000}))
    assert scarce.series["fallback_questions"].sum() > 0
    assert ample.series["fallback_questions"].sum() == 0
    assert scarce.series["platform_visits"].sum() > ample.series["platform_visits"].sum()


@pytest.mark.parametrize("expires", ["end_of_month", "end_of_next_month", "never"])
def test_credits_balance_issued_equals_spent_expired_outstanding(expires: str) -> None:
    _, result = run_pair(scenario(weeks=30), policy(allowance={"expires": expires}))
    s = result.series
    issued = np.cumsum(s["credits_allowance"] + s["credits_feedback"] + s["credits_stipend"])
    accounted = np.cumsum(s["credits_spent"] + s["credits_expired"]) + s["credits_outstanding"]
    np.testing.assert_array_equal(issued, accounted)
    assert credit_balance(result)["unaccounted"] == 0
    assert s["credits_spent"].sum() > 0
    if expires == "never":
        assert s["credits_expired"].sum() == 0
    else:
        assert s["credits_expired"].sum() > 0


def test_running_balances_match_the_credit_buckets_every_week() -> None:
    sim = Simulation(scenario(weeks=20), policy(allowance={"credits_per_month": 20}))
    for week in range(20):
        context = sim.begin_week(week)
        sim.finish_week(week, [block.step(context) for block in sim.blocks])
        for block in sim.blocks:
            block.audit()
    assert sim.series["fallback_questions"].sum() > 0  # the scarce allowance made people run short
    block = sim.blocks[0]
    block.balance[0] += 1  # a balance edited outside a transfer is caught
    with pytest.raises(AssertionError, match="differ from the credit buckets"):
        block.audit()


def test_allowance_follows_the_policy_each_calendar_month() -> None:
    sc = scenario(agents=2_000, weeks=10)  # weeks from 2022-12-05 to 2023-02-06: December, January, February
    _, result = run_pair(sc, policy(allowance={"credits_per_month": 40}))
    allowance = result.series["credits_allowance"]
    assert allowance.sum() == 3 * 40 * 2_000
    assert np.count_nonzero(allowance) == 3


def test_price_and_session_surge_come_from_the_policy() -> None:
    cheap = policy(query={"base_price": 1, "surge_after": 50})
    costly = policy(query={"base_price": 3, "surge_after": 50})
    _, a = run_pair(scenario(policy_response={"queries_per_session": 4}), cheap)
    _, b = run_pair(scenario(policy_response={"queries_per_session": 4}), costly)
    assert a.series["credits_spent"].sum() == a.series["ai_queries"].sum()  # 1 credit a query, never surging
    assert b.series["ai_queries"].sum() < a.series["ai_queries"].sum()  # dearer queries: fewer asked


def test_nudge_citations_follow_the_rule() -> None:
    every = policy(nudge={"cite_every": 1})
    _, result = run_pair(scenario(policy_response={"citation_click_through": 1.0}), every)
    s = result.series
    np.testing.assert_array_equal(s["citations"], s["ai_queries"])
    np.testing.assert_array_equal(s["citation_visits"], s["citations"])
    np.testing.assert_array_equal(s["platform_visits"], s["platform_questions"] + s["citation_visits"])
    _, off = run_pair(scenario(), policy(nudge={"enabled": False}))
    assert off.series["citations"].sum() == 0


def test_stipend_goes_to_active_linked_contributors_only() -> None:
    _, paid = run_pair(scenario(weeks=20), policy(stipend={"credits_per_month": 30, "max_per_member_per_month": 20}))
    s = paid.series
    assert s["stipend_recipients"].sum() > 0
    np.testing.assert_array_equal(s["credits_stipend"], s["stipend_recipients"] * 20)  # capped per member
    unreachable = {"stackexchange": {"min_scored_posts": 10_000, "min_accepted_answers": 10_000}}
    _, nobody = run_pair(scenario(weeks=20), policy(stipend={"criteria": unreachable}))
    assert nobody.series["credits_stipend"].sum() == 0


def test_stricter_stackexchange_criteria_pay_fewer_stipend_credits() -> None:
    sc = scenario(weeks=20)
    _, default = run_pair(sc)
    strict = {"stackexchange": {"min_scored_posts": 5, "min_post_score": 3, "min_accepted_answers": 3}}
    _, stricter = run_pair(sc, policy(stipend={"criteria": strict}))
    # Same seed, same people; only the criteria of the policy file differ.
    assert 0 < stricter.series["credits_stipend"].sum() < default.series["credits_stipend"].sum()
    assert stricter.series["stipend_recipients"].sum() < default.series["stipend_recipients"].sum()


def test_stipends_follow_the_modelled_answer_scores() -> None:
    never = {"answer_positive_new": 0.0, "answer_positive_expert": 0.0, "answer_accepted_share": 0.0}
    _, unvoted = run_pair(scenario(weeks=20, platform=never))
    assert unvoted.series["answers"].sum() > 0
    assert unvoted.series["credits_stipend"].sum() == 0  # answers nobody upvotes or accepts never count
    _, default = run_pair(scenario(weeks=20))
    _, liked = run_pair(scenario(weeks=20, platform={"answer_positive_new": 0.9}))
    assert liked.series["stipend_recipients"].sum() > default.series["stipend_recipients"].sum()


def test_platform_reputation_grows_with_upvotes_and_acceptances() -> None:
    sim = Simulation(scenario(weeks=8), policy())
    start = [block.platform_reputation.copy() for block in sim.blocks]
    for week in range(8):
        context = sim.begin_week(week)
        sim.finish_week(week, [block.step(context) for block in sim.blocks])
    for block, before in zip(sim.blocks, start, strict=True):
        assert (block.platform_reputation >= before).all()
        assert (block.platform_reputation > before).any()


def test_stipend_eligibility_is_the_economy_rule_on_the_monthly_counts() -> None:
    # No allowance, so the only credits granted at a month's start are stipends.
    pol = policy(allowance={"credits_per_month": 0}, stipend={"credits_per_month": 30, "max_per_member_per_month": 20})
    sim = Simulation(scenario(weeks=12), pol)
    criteria = pol.stipend.criteria.stackexchange
    checked = 0
    for week in range(12):
        context = sim.begin_week(week)
        if context.new_month and week > 0:
            for block in sim.blocks:
                # What the economy functions decide on the same counts, called directly member by member.
                expected = np.zeros(block.traits.size, np.int64)
                for i, member in enumerate(block.linked_members):
                    rule = stackexchange_rule(int(block.month_scored[i]), int(block.month_accepted[i]), criteria)
                    expected[member] = stipend_due(int(qualified(rule)), pol.stipend)
                granted = np.zeros(block.traits.size, np.int64)
                grant = block._grant

                def record(who: Any, amount: Any, expires: int, grant: Any = grant, granted: Any = granted) -> None:
                    granted[who] += amount
                    grant(who, amount, expires)

                block._grant = record  # type: ignore[method-assign]
                tally = np.zeros(len(BLOCK_FIELDS))
                block.month_events(context, tally)
                del block._grant
                np.testing.assert_array_equal(granted, expected)
                assert not granted[~block.traits.linked].any()  # only linked members are ever paid
                assert tally[_F["credits_stipend"]] == expected.sum()
                assert block.month_scored.sum() == 0 and block.month_accepted.sum() == 0  # a new month counts anew
                checked += int(np.count_nonzero(expected))
            context.new_month = False  # month events done above
        sim.finish_week(week, [block.step(context) for block in sim.blocks])
    assert checked > 0  # some members qualified, so the comparison meant something


def test_feedback_credits_rise_with_reward() -> None:
    ample = {"credits_per_month": 100_000}  # nobody runs short, so both runs ask the same questions
    _, low = run_pair(scenario(), policy(allowance=ample, feedback={"base_reward": 1}))
    _, high = run_pair(scenario(), policy(allowance=ample, feedback={"base_reward": 4}))
    assert low.series["credits_feedback"].sum() > 0
    np.testing.assert_array_equal(low.series["feedback_accepted"], high.series["feedback_accepted"])
    np.testing.assert_array_equal(high.series["credits_feedback"], 4 * low.series["credits_feedback"])
    # Reputation raises the rate: later weeks pay more credits per accepted feedback than the base reward.
    per_accepted = low.series["credits_feedback"].sum() / low.series["feedback_accepted"].sum()
    assert per_accepted > 1.0


def test_knowledge_depreciates_without_contributions() -> None:
    no_answers = {
        "superuser_contribution_rate": 0.0,
        "occasional_contribution_rate": 0.0,
        "superuser_browse_answers_per_week": 0.0,
        "occasional_browse_answers_per_week": 0.0,
    }
    sc = scenario(weeks=30, people=no_answers)
    base, _ = run_pair(sc)
    stock = base.series["knowledge_stock"]
    expected = base.initial_stock * (1 - sc.platform.depreciation_per_week) ** np.arange(1, 31)
    np.testing.assert_allclose(stock, expected, rtol=1e-12)
    assert base.series["answers"].sum() == 0


def test_ai_quality_changes_only_at_retraining_without_exogenous_growth() -> None:
    sc = scenario(weeks=40, ai={"exogenous_growth_per_year": 0.0, "retrain_every_weeks": 10})
    base, _ = run_pair(sc)
    quality = base.series["ai_quality"]
    changes = np.flatnonzero(np.diff(quality)) + 1
    assert set(changes.tolist()) <= {10, 20, 30}


def test_participation_is_unequal() -> None:
    traits = population.draw_traits(100_000, scenario(), np.random.default_rng(3))
    share = traits.contributors.size / traits.size
    assert 0.09 < share < 0.11  # the 9 and the 1 of 90-9-1
    assert 0.08 < traits.superuser.mean() < 0.12
    rate = traits.rate
    top = np.sort(rate)[-1_000:].sum() / rate.sum()
    assert top > 0.05  # heavy tail: the top 1% ask more than 5% of questions


def test_baseline_has_no_credit_flows() -> None:
    base, _ = run_pair(scenario())
    for name in ("credits_spent", "credits_allowance", "credits_feedback", "credits_stipend", "fallback_questions"):
        assert base.series[name].sum() == 0


def test_several_variants_share_the_same_people() -> None:
    sc = scenario(weeks=10, run={"ai_launch_week": 20})  # no AI: policy cannot matter yet
    a, b = run_simulations(sc, [None, None], ["a", "b"])
    np.testing.assert_array_equal(a.series["questions"], b.series["questions"])
