"""Benchmark: the vectorized simulator against the same model written agent by agent in Mesa 3.

Both runs use the same scenario, the same policy file, the same people (traits drawn by
datalever.sim.population from the same seed), the same platform and AI dynamics (datalever.sim.dynamics via
the engine's Simulation object) and the same datalever.economy rules; only the per-person weekly step differs:
NumPy over arrays of people versus one Python `step()` per Mesa agent. Random draws differ, so aggregates
agree within sampling noise, not bit for bit.

    .venv/bin/python benchmarks/sim_vs_mesa.py [--agents 100000] [--weeks 52] [--big 1000000] [--repeat 3]

Prints both times, the ratio, an agreement table of aggregate outcomes, and agent-steps per second of the
vectorized engine at --big agents (the whole policy model: credits, fallback, nudge, feedback, stipends).
"""

from __future__ import annotations

import argparse
import bisect
import math
import statistics
import sys
import time
from typing import Any

import mesa
import numpy as np

from datalever.economy import (
    Policy,
    allowance_due,
    citations_due,
    expiry_month_index,
    feedback_reward,
    load_policy,
    reputation_after,
)
from datalever.economy.stipends import (
    counts_accepted_answer,
    counts_scored_post,
    qualified,
    stackexchange_rule,
    stipend_due,
)
from datalever.sim.engine import (
    _F,
    BLOCK_FIELDS,
    NEVER,
    REPUTATION_PER_ACCEPTED,
    REPUTATION_PER_UPVOTE,
    RunResult,
    Simulation,
    run_simulations,
)
from datalever.sim.scenario import Scenario, load_scenario, with_overrides


class Person(mesa.Agent):
    """One person, with the same traits and the same weekly rules as a row of the vectorized engine."""

    def __init__(self, model: EcosystemModel, traits: dict[str, Any]) -> None:
        super().__init__(model)
        self.whole: int = traits["whole"]
        self.fraction: float = traits["fraction"]
        self.exp_neg_affinity: float = traits["exp_neg_affinity"]
        self.adoption_week: float = traits["adoption_week"]
        self.linked: bool = traits["linked"]
        self.spammer: bool = traits["spammer"]
        self.contribution_rate: float = traits["contribution_rate"]  # 0 for non-contributors
        self.browse_rate: float = traits["browse_rate"]  # answers a week while browsing; 0 for non-contributors
        self.rate: float = traits["rate"]
        self.affinity: float = traits["affinity"]
        self.surplus = 0.0
        self.reputation = model.policy.feedback.initial_reputation
        self.buckets: dict[int, int] = {}
        self.received = 0
        self.platform_reputation: float = traits["platform_reputation"]
        self.month_scored = 0
        self.month_accepted = 0

    def step(self) -> None:
        model, rnd, tally = self.model, self.model.random, self.model.tally
        ctx, rules = model.ctx, model.policy
        questions = self.whole + (1 if rnd.random() < self.fraction else 0)
        tally[_F["questions"]] += questions
        served = clicks = 0
        gain = 0.0  # log-sum gain of having the AI as an option, per question
        if self.adoption_week <= ctx.aware_weeks:
            p = 1.0 / (1.0 + ctx.odds * self.exp_neg_affinity)
            gain = math.log1p(math.exp(ctx.gap + self.affinity))
            wanted = int(questions * p + rnd.random())
            tally[_F["ai_wanted"]] += wanted
            served = wanted
            if wanted:
                balance = sum(self.buckets.values())
                cost = model.session_cost[wanted]
                if cost > balance:
                    served = bisect.bisect_right(model.session_cost, balance) - 1
                    cost = model.session_cost[served]
                    gain *= 1.0 - (wanted - served) / max(questions, 1)
                    tally[_F["fallback_questions"]] += wanted - served
                    tally[_F["people_out_of_credits"]] += 1
                remaining = cost
                for key in sorted(self.buckets, key=lambda k: (k == NEVER, k)):
                    take = min(self.buckets[key], remaining)
                    self.buckets[key] -= take
                    remaining -= take
                tally[_F["credits_spent"]] += cost
                cited = citations_due(self.received, self.received + served, rules.nudge) if served else 0
                self.received += served
                if cited:
                    clicks = int(cited * model.click_through + rnd.random())
                    tally[_F["citations"]] += cited
                    tally[_F["citation_visits"]] += clicks
                if served:
                    self.feedback(served)
        tally[_F["ai_queries"]] += served
        week_surplus = self.rate * (ctx.platform_utility + gain)
        self.surplus += week_surplus
        tally[_F["surplus_utils"]] += week_surplus
        if self.contribution_rate or self.browse_rate:
            visits = questions - served + clicks
            browse = self.browse_rate * ctx.browse_scale
            tally[_F["browse_answers"]] += browse
            answers = int(visits * self.contribution_rate * ctx.answer_scale + browse + rnd.random())
            if self.linked and model.scores_answers:  # as in the engine: only linked members can be paid
                for _ in range(answers):
                    self.score_answer()
            tally[_F["answers"]] += answers
            tally[_F["active_contributors"]] += answers > 0

    def score_answer(self) -> None:
        """One answer's score and acceptance (same model as the engine), judged by the policy's criteria."""
        rnd, platform = self.model.random, self.model.scenario.platform
        rep = self.platform_reputation
        low, high = platform.answer_positive_new, platform.answer_positive_expert
        score = 0
        if rnd.random() < low + (high - low) * rep / (rep + platform.answer_reputation_half):
            score = 1
            while rnd.random() < platform.answer_extra_vote_chance:
                score += 1
        accepted = rnd.random() < platform.answer_accepted_share
        criteria = self.model.policy.stipend.criteria.stackexchange
        self.month_scored += counts_scored_post(score, criteria)
        self.month_accepted += counts_accepted_answer(score, accepted, False)
        self.platform_reputation += score * REPUTATION_PER_UPVOTE + accepted * REPUTATION_PER_ACCEPTED

    def feedback(self, served: int) -> None:
        model, rnd, tally, rules = self.model, self.model.random, self.model.tally, self.model.policy.feedback
        people = model.scenario.people
        given = min(int(served * people.feedback_rate_paid + rnd.random()), rules.daily_cap * 7)
        if not given:
            return
        accept = people.feedback_accept_spam if self.spammer else people.feedback_accept_genuine
        accepted = int(given * accept + rnd.random())
        tally[_F["feedback_given"]] += given
        tally[_F["feedback_accepted"]] += accepted
        earned = 0
        for j in range(given):
            ok = (j + 1) * accepted // given > j * accepted // given
            if ok:
                earned += feedback_reward(self.reputation, rules)
            self.reputation = reputation_after(self.reputation, ok, rules)
        if earned:
            key = int(expiry_month_index(rules.expires, model.ctx.month))
            self.buckets[key] = self.buckets.get(key, 0) + earned
            tally[_F["credits_feedback"]] += earned

    def month_start(self, allowance: int, allowance_key: int, pay_stipends: bool, stipend_key: int) -> None:
        tally, month, rules = self.model.tally, self.model.ctx.month, self.model.policy.stipend
        if pay_stipends:
            rule = stackexchange_rule(self.month_scored, self.month_accepted, rules.criteria.stackexchange)
            stipend = stipend_due(int(qualified(rule) and self.linked), rules)
            if stipend:
                self.buckets[stipend_key] = self.buckets.get(stipend_key, 0) + stipend
                tally[_F["credits_stipend"]] += stipend
                tally[_F["stipend_recipients"]] += 1
        self.month_scored = self.month_accepted = 0
        for key in [k for k in self.buckets if k != NEVER and k <= month]:
            tally[_F["credits_expired"]] += self.buckets.pop(key)
        if allowance:
            self.buckets[allowance_key] = self.buckets.get(allowance_key, 0) + allowance


class EcosystemModel(mesa.Model):
    """The platform and AI come from the engine's Simulation (shared code); people are Mesa agents."""

    def __init__(self, scenario: Scenario, policy: Policy) -> None:
        super().__init__(seed=scenario.run.seed)
        self.scenario, self.policy = scenario, policy
        self.world = Simulation(scenario, policy)  # same traits, same platform/AI state and rules
        assert self.world.rules is not None
        self.session_cost = self.world.rules.session_cost.tolist()
        self.click_through = scenario.policy_response.citation_click_through
        self.scores_answers = policy.stipend.credits_per_month > 0
        for block in self.world.blocks:
            t = block.traits
            rate = np.zeros(t.size, np.float32)
            rate[t.contributors] = block.contribution_rate
            browse = np.zeros(t.size, np.float32)
            browse[t.contributors] = block.browse_rate
            reputation = np.zeros(t.size, np.float32)
            reputation[block.linked_members] = block.platform_reputation
            for i in range(t.size):
                Person(
                    self,
                    {
                        "whole": int(t.rate_whole[i]),
                        "fraction": float(t.rate_fraction[i]),
                        "exp_neg_affinity": float(t.exp_neg_affinity[i]),
                        "adoption_week": float(t.adoption_week[i]),
                        "linked": bool(t.linked[i]),
                        "spammer": bool(t.spammer[i]),
                        "contribution_rate": float(rate[i]),
                        "browse_rate": float(browse[i]),
                        "rate": float(t.rate[i]),
                        "affinity": float(t.affinity[i]),
                        "platform_reputation": float(reputation[i]),
                    },
                )
        self.week = 0
        self.tally = [0.0] * len(BLOCK_FIELDS)

    def step(self) -> None:
        self.tally = [0.0] * len(BLOCK_FIELDS)
        self.ctx = self.world.begin_week(self.week)
        if self.ctx.new_month:
            rules = self.policy
            assert self.world.rules is not None
            allowance = int(allowance_due(rules.allowance, self.world.rules.start_month, self.ctx.month))
            self.agents.do(
                "month_start",
                allowance,
                int(expiry_month_index(rules.allowance.expires, self.ctx.month)),
                self.week > 0 and rules.stipend.credits_per_month > 0,
                int(expiry_month_index(rules.stipend.expires, self.ctx.month)),
            )
            self.tally[_F["credits_allowance"]] += allowance * len(self.agents)
        self.agents.do("step")
        self.tally[_F["credits_outstanding"]] = sum(sum(a.buckets.values()) for a in self.agents)
        self.world.finish_week(self.week, [np.array(self.tally)])
        self.week += 1


COMPARED = (
    "surplus_utils",
    "browse_answers",
    "questions",
    "ai_queries",
    "platform_questions",
    "fallback_questions",
    "answers",
    "credits_spent",
    "credits_feedback",
    "credits_stipend",
    "stipend_recipients",
    "credits_expired",
    "citation_visits",
)


def agreement(vectorized: RunResult, mesa_series: dict[str, np.ndarray]) -> bool:
    """Totals agree when within 4 standard errors of weekly sampling noise (or 1%), for every measure."""
    ok = True
    print(f"\n{'measure':22s} {'vectorized':>14s} {'mesa':>14s} {'diff %':>8s} {'tolerance %':>12s}")
    for name in (*COMPARED, "knowledge_stock"):
        a, b = vectorized.series[name], mesa_series[name]
        if name == "knowledge_stock":
            va, vb = float(a[-1]), float(b[-1])
        else:
            va, vb = float(a.sum()), float(b.sum())
        diff = (vb - va) / abs(va) * 100 if va else 0.0
        # Poisson-like noise of a total of counts: sqrt(total); doubled for two independent runs.
        tolerance = max(1.0, 4 * math.sqrt(2 * max(va, 1.0)) / max(abs(va), 1.0) * 100)
        agree = abs(diff) <= tolerance
        ok &= agree
        print(f"{name:22s} {va:14,.0f} {vb:14,.0f} {diff:+8.2f} {tolerance:12.2f} {'ok' if agree else 'DIFFERENT'}")
    return ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--agents", type=int, default=100_000)
    parser.add_argument("--weeks", type=int, default=52)
    parser.add_argument("--big", type=int, default=1_000_000, help="agents for the agent-steps/s figure")
    parser.add_argument("--repeat", type=int, default=3, help="repetitions of the vectorized timings (best kept)")
    parser.add_argument("--skip-mesa", action="store_true")
    args = parser.parse_args(argv)

    policy = load_policy()
    scenario = with_overrides(load_scenario("default"), agents=args.agents, weeks=args.weeks)
    steps = args.agents * args.weeks

    times = []
    for _ in range(args.repeat):
        started = time.perf_counter()
        (vectorized,) = run_simulations(scenario, [policy], ["policy"])
        times.append(time.perf_counter() - started)
    vec_time = min(times)
    print(
        f"vectorized: {args.agents:,} agents x {args.weeks} weeks in {vec_time:.2f} s (best of {args.repeat}; "
        f"median {statistics.median(times):.2f} s) = {steps / vec_time / 1e6:.1f} M agent-steps/s"
    )

    ok = True
    if not args.skip_mesa:
        started = time.perf_counter()
        model = EcosystemModel(scenario, policy)
        built = time.perf_counter() - started
        for _ in range(args.weeks):
            model.step()
        mesa_time = time.perf_counter() - started
        print(
            f"mesa {mesa.__version__}: same run in {mesa_time:.1f} s (of which {built:.1f} s building agents) = "
            f"{steps / mesa_time / 1e6:.3f} M agent-steps/s"
        )
        print(f"speed-up: {mesa_time / vec_time:.0f}x (goal >= 300x)")
        ok = agreement(vectorized, model.world.series)
        print("aggregate outcomes agree within sampling noise" if ok else "AGGREGATE OUTCOMES DIFFER")

    big = with_overrides(scenario, agents=args.big)
    big_times, step_times = [], []
    for _ in range(args.repeat):
        started = time.perf_counter()
        sim_started = [0.0]

        def mark(week: int, box: list[float] = sim_started) -> None:
            if week == 0:
                box[0] = time.perf_counter()

        run_simulations(big, [policy], ["policy"], on_week=mark)
        end = time.perf_counter()
        big_times.append(end - started)
        step_times.append(end - sim_started[0])
    best, best_steps = min(big_times), min(step_times)
    big_steps = args.big * args.weeks
    print(
        f"\n{args.big:,} agents x {args.weeks} weeks: {best:.2f} s including drawing the population "
        f"({big_steps / best / 1e6:.1f} M agent-steps/s); weeks 2..{args.weeks} stepping only "
        f"{args.big * (args.weeks - 1) / best_steps / 1e6:.1f} M agent-steps/s (goal >= 50 M/s on 2 cores)"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
