"""The weekly step of the ecosystem model, vectorized over people with NumPy.

Process order each week (see docs/simulator.md): calendar-month events under the policy (stipend for last
month's active participants, expiry, allowance) -> AI retraining and quality -> each person's questions ->
logit split between AI and platform -> credits: price, fallback for those who cannot pay, the AI's citations
-> feedback -> platform visits and contributions -> the platform's stock, found and posted questions.

Every credit rule is a call into `datalever.economy` (the same functions the ledger service runs), including
stipend eligibility: the model scores each answer and the Stack Exchange criteria of the policy file judge them.
"""

from __future__ import annotations

import math
import os
import sys
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt

from datalever.economy import (
    Policy,
    allowance_due,
    citations_due,
    credits_to_cents,
    expiry_month_index,
    feedback_reward,
    month_index,
    reputation_after,
    session_total_price,
    spend_order_key,
)
from datalever.economy.stipends import (
    counts_accepted_answer,
    counts_scored_post,
    qualified,
    stackexchange_rule,
    stipend_due,
)
from datalever.sim import dynamics
from datalever.sim.population import MAX_WEEKLY_QUESTIONS, Traits, block_sizes, draw_traits
from datalever.sim.scenario import RunSection, Scenario

REPUTATION_PER_UPVOTE = 10  # platform reputation per answer upvote (Stack Exchange's reputation rules)
REPUTATION_PER_ACCEPTED = 15  # platform reputation per accepted answer (same rules)
NEVER = -1  # bucket key of credits that never expire
UNIT16 = np.float32(1.0 / 65536.0)  # scales a 16-bit random lane to a uniform in [0, 1)

# Per-block weekly tallies, summed over blocks.
BLOCK_FIELDS = (
    "questions",
    "ai_wanted",
    "ai_queries",
    "fallback_questions",
    "people_out_of_credits",
    "citations",
    "citation_visits",
    "answers",
    "active_contributors",
    "feedback_given",
    "feedback_accepted",
    "credits_spent",
    "credits_feedback",
    "credits_stipend",
    "stipend_recipients",
    "credits_allowance",
    "credits_expired",
    "credits_outstanding",
)
_F = {name: i for i, name in enumerate(BLOCK_FIELDS)}

# Platform, AI and outcome series computed from the tallies each week.
GLOBAL_FIELDS = (
    "platform_questions",
    "platform_visits",
    "questions_posted",
    "posted_answered",
    "find_probability",
    "knowledge_stock",
    "ai_quality",
    "platform_quality",
    "ai_share",
    "questions_answered",
    "answer_quality_total",
    "compute_cost_cents",
    "revenue_cents",
    "feedback_value_cents",
    "operator_net_cents",
    "credit_liability_cents",
    "credits_issued",
)
METRICS = BLOCK_FIELDS + GLOBAL_FIELDS


@dataclass
class WeekContext:
    """What every block needs to know about the week: calendar and the common part of the choice."""

    week: int
    month: int
    new_month: bool
    aware_weeks: float
    odds: float  # exp(-utility gap): a person's AI probability is 1 / (1 + odds * exp(-affinity))


@dataclass
class Rules:
    """The policy's rules, prepared once per run (lookup tables built by the economy functions)."""

    policy: Policy
    session_cost: npt.NDArray[np.int32]  # credits for n AI queries in a week, n = 0..MAX_WEEKLY_QUESTIONS
    price_per_query: float
    start_month: int

    @classmethod
    def build(cls, policy: Policy, scenario: Scenario) -> Rules:
        per = scenario.policy_response.queries_per_session
        n = np.arange(MAX_WEEKLY_QUESTIONS + 1, dtype=np.int64)
        # A week's n queries come in sessions of `per`; the last session may be shorter.
        full_session = int(session_total_price(per, policy.query))
        table = (n // per) * full_session + np.asarray(session_total_price(n % per, policy.query), dtype=np.int64)
        if table[-1] > np.iinfo(np.int32).max:
            raise ValueError("query prices too large for the simulator's int32 credit balances")
        return cls(policy, table.astype(np.int32), full_session / per, calendar_month(scenario, 0))


def calendar_month(scenario: Scenario, week: int) -> int:
    start = datetime(scenario.run.start.year, scenario.run.start.month, scenario.run.start.day, tzinfo=UTC)
    return month_index(start + timedelta(weeks=week))


@dataclass
class Block:
    """One block of people and their changing state in one run."""

    traits: Traits
    rng: np.random.Generator
    scenario: Scenario
    rules: Rules | None
    contribution_rate: npt.NDArray[np.float32] = field(init=False)
    questions: npt.NDArray[np.int16] = field(init=False)
    ai: npt.NDArray[np.int16] = field(init=False)
    extra_visits: npt.NDArray[np.int16] = field(init=False)
    scratch: npt.NDArray[np.float32] = field(init=False)
    scratch2: npt.NDArray[np.float32] = field(init=False)
    balance: npt.NDArray[np.int32] = field(init=False)
    cost: npt.NDArray[np.int32] = field(init=False)
    below: npt.NDArray[np.bool_] = field(init=False)
    # Stipend counts exist for linked contributors only: nobody else can be paid, and scores affect nothing else.
    linked_positions: npt.NDArray[np.intp] = field(init=False)  # their positions among the contributors
    linked_members: npt.NDArray[np.int32] = field(init=False)  # their indices among the people
    month_scored: npt.NDArray[np.int32] = field(init=False)  # answers counted as scored posts this month
    month_accepted: npt.NDArray[np.int32] = field(init=False)  # accepted answers counted this month
    platform_reputation: npt.NDArray[np.float32] = field(init=False)  # reputation on the platform
    scores_answers: bool = field(init=False, default=False)  # only a policy with a stipend needs answer scores
    ai_answers_received: npt.NDArray[np.int32] = field(init=False)
    reputation: npt.NDArray[np.float64] = field(init=False)
    buckets: dict[int, npt.NDArray[np.int32]] = field(init=False)
    outstanding: int = field(init=False, default=0)
    _month: int = field(init=False, default=0)  # calendar month of the week being stepped

    def __post_init__(self) -> None:
        n = self.traits.size
        response = self.scenario.policy_response
        rate = self.traits.contribution_rate
        if self.rules is not None and self.rules.policy.stipend.credits_per_month > 0:
            boost = np.where(
                self.traits.linked[self.traits.contributors], 1.0 + response.stipend_contribution_response, 1.0
            )
            rate = np.minimum(rate * boost, 1.0).astype(np.float32)
        self.contribution_rate = rate
        self.questions = np.zeros(n, np.int16)
        self.ai = np.zeros(n, np.int16)
        self.extra_visits = np.zeros(n, np.int16)
        self.scratch = np.empty(n, np.float32)
        self.balance = np.zeros(n, np.int32)  # always the sum of the buckets (see audit)
        self.cost = np.empty(n, np.int32)
        self.below = np.empty(n, np.bool_)
        self.linked_positions = np.flatnonzero(self.traits.linked[self.traits.contributors])
        self.linked_members = self.traits.contributors[self.linked_positions]
        k = self.linked_positions.size
        self.month_scored = np.zeros(k, np.int32)
        self.month_accepted = np.zeros(k, np.int32)
        people = self.scenario.people
        self.platform_reputation = np.where(
            self.traits.superuser[self.linked_positions],
            people.superuser_initial_reputation,
            people.occasional_initial_reputation,
        ).astype(np.float32)
        self.scores_answers = self.rules is not None and self.rules.policy.stipend.credits_per_month > 0
        self.ai_answers_received = np.zeros(n, np.int32)
        self.scratch2 = np.empty(n, np.float32)
        initial = self.rules.policy.feedback.initial_reputation if self.rules else 0.0
        self.reputation = np.full(n, initial, np.float64)
        self.buckets = {}
        self.outstanding = 0

    # -- credits -----------------------------------------------------------------------------------------
    def _grant(
        self, who: npt.NDArray[np.integer[Any]] | slice, amount: npt.NDArray[np.int64] | int, expires: int
    ) -> None:
        bucket = self.buckets.get(expires)
        if bucket is None:
            bucket = self.buckets[expires] = np.zeros(self.traits.size, np.int32)
        bucket[who] += np.asarray(amount, dtype=np.int32)
        self.balance[who] += np.asarray(amount, dtype=np.int32)
        count = self.traits.size if isinstance(who, slice) else len(who)
        self.outstanding += int(np.sum(amount)) if np.ndim(amount) else int(amount) * count

    def audit(self) -> None:
        """Check the running balances against the credit buckets (each credit is in exactly one bucket)."""
        total = np.zeros(self.traits.size, np.int64)
        for bucket in self.buckets.values():
            if np.any(bucket < 0):
                raise AssertionError("a credit bucket went negative")
            total += bucket
        if not np.array_equal(total, self.balance) or int(total.sum()) != self.outstanding:
            raise AssertionError("running balances differ from the credit buckets")

    def _spending_order(self) -> list[int]:
        """Credits that expire soonest are spent first; never-expiring credits last."""
        return sorted(self.buckets, key=lambda key: spend_order_key(None if key == NEVER else key))

    def _month_events(self, ctx: WeekContext, tally: npt.NDArray[np.float64]) -> None:
        assert self.rules is not None
        policy = self.rules.policy
        if ctx.week > 0 and self.scores_answers:
            # Last month's counts of linked contributors judged by the policy's Stack Exchange criteria; the
            # simulated platform is the only one a member can link, so `stipend_due` gets 0 or 1 platforms.
            rule = stackexchange_rule(self.month_scored, self.month_accepted, policy.stipend.criteria.stackexchange)
            platforms = np.asarray(qualified(rule)).astype(np.int64)
            stipends = np.asarray(stipend_due(platforms, policy.stipend), dtype=np.int64)
            paid = np.flatnonzero(stipends)
            if paid.size:
                expires = int(expiry_month_index(policy.stipend.expires, ctx.month))
                self._grant(self.linked_members[paid], stipends[paid], expires)
            tally[_F["credits_stipend"]] += int(stipends.sum())
            tally[_F["stipend_recipients"]] += paid.size
        self.month_scored[:] = 0
        self.month_accepted[:] = 0
        for key in list(self.buckets):
            if key != NEVER and key <= ctx.month:
                expired = self.buckets.pop(key)
                self.balance -= expired
                lost = int(expired.sum(dtype=np.int64))
                self.outstanding -= lost
                tally[_F["credits_expired"]] += lost
        due = int(allowance_due(policy.allowance, self.rules.start_month, ctx.month))
        if due:
            self._grant(slice(None), due, int(expiry_month_index(policy.allowance.expires, ctx.month)))
            tally[_F["credits_allowance"]] += due * self.traits.size

    # -- the weekly step ---------------------------------------------------------------------------------
    def step(self, ctx: WeekContext) -> npt.NDArray[np.float64]:
        tally = np.zeros(len(BLOCK_FIELDS), np.float64)
        tr, rng = self.traits, self.rng
        self._month = ctx.month
        if self.rules is not None and ctx.new_month:
            self._month_events(ctx, tally)

        # One 64-bit draw per person a week, cut into four independent 16-bit uniforms (lanes): questions,
        # AI split, feedback, contributions. Stochastic rounding at 1/65536 resolution is ample here.
        lanes = rng.bit_generator.random_raw(tr.size).view(np.uint16).reshape(tr.size, 4)

        # Questions: the integer part of the weekly rate, plus one more with the fractional part's chance.
        q = self.questions
        np.less(lanes[:, 0], tr.rate_fraction16, out=self.below)
        np.add(tr.rate_whole, self.below, out=q)

        # Logit split of each aware person's questions (aware people are a prefix of the block).
        aware = (
            int(np.searchsorted(tr.adoption_week, np.float32(ctx.aware_weeks), side="right"))
            if ctx.aware_weeks > 0
            else 0
        )
        ai = self.ai[:aware]
        clicked: npt.NDArray[np.intp] | None = None
        if aware:
            share = self.scratch[:aware]
            np.multiply(tr.exp_neg_affinity[:aware], np.float32(ctx.odds), out=share)
            share += np.float32(1.0)
            np.divide(q[:aware], share, out=share)  # expected AI questions: q * p
            share += np.multiply(lanes[:aware, 1], UNIT16, out=self.scratch2[:aware])
            np.copyto(ai, share, casting="unsafe")  # floor: an unbiased integer split
            tally[_F["ai_wanted"]] = ai.sum()
            if self.rules is not None:
                clicked = self._charge(ai, tally)
            self._feedback(ai, lanes[:aware, 2], tally)

        # Contributions: each platform visit of a contributor becomes an answer at their contribution rate.
        c = tr.contributors
        visits = q[c] - self.ai[c]
        if clicked is not None:
            visits += self.extra_visits[c]
            self.extra_visits[clicked] = 0
        answers = (visits * self.contribution_rate + lanes[c, 3] * UNIT16).astype(np.int32)
        if self.scores_answers:
            self._score_answers(answers[self.linked_positions])
        tally[_F["answers"]] = answers.sum()
        tally[_F["active_contributors"]] = np.count_nonzero(answers)
        tally[_F["questions"]] = q.sum()
        tally[_F["ai_queries"]] = ai.sum()
        tally[_F["credits_outstanding"]] = self.outstanding
        return tally

    def _score_answers(self, answers: npt.NDArray[np.int32]) -> None:
        """Score this week's answers of linked contributors and count those the stipend criteria count.

        Model: an answer ends with a score >= 1 with a chance that rises with its author's platform reputation
        (`answer_positive_new` to `answer_positive_expert`, halfway at `answer_reputation_half`); a positive
        score is 1 plus a geometric tail (`answer_extra_vote_chance`); an answer is accepted by the asker with
        `answer_accepted_share`, never by its author; scores are taken as final when the month is judged.
        Which answers count is decided by `counts_scored_post` and `counts_accepted_answer` from the policy.
        """
        assert self.rules is not None
        who = np.flatnonzero(answers > 0)
        if not who.size:
            return
        platform, rng = self.scenario.platform, self.rng
        author = np.repeat(np.arange(who.size), answers[who])  # one entry per answer: its author's position
        rep = self.platform_reputation[who]
        low, high = np.float32(platform.answer_positive_new), np.float32(platform.answer_positive_expert)
        chance = low + (high - low) * rep / (rep + np.float32(platform.answer_reputation_half))
        draw, chance = rng.random(author.size, dtype=np.float32), chance[author]
        up = np.flatnonzero(draw < chance)
        score = np.zeros(author.size, np.int64)
        score[up] = 1
        extra = platform.answer_extra_vote_chance
        if extra > 0 and up.size:
            # Given a score >= 1, draw / chance is a fresh uniform; inverting it gives a geometric tail, so
            # P(score >= s + 1 | score >= 1) = extra ** s, from the same draw.
            rest = np.maximum(np.float32(1.0) - draw[up] / chance[up], np.float32(1e-30))
            score[up] += (np.log(rest) / np.float32(math.log(extra))).astype(np.int64)
        accepted = np.flatnonzero(rng.random(author.size, dtype=np.float32) < platform.answer_accepted_share)
        criteria = self.rules.policy.stipend.criteria.stackexchange
        scored = np.asarray(counts_scored_post(score, criteria), dtype=np.bool_)
        counted = np.zeros(author.size, np.bool_)
        counted[accepted] = counts_accepted_answer(score[accepted], True, False)
        self.month_scored[who] += np.bincount(author, weights=scored, minlength=who.size).astype(np.int32)
        self.month_accepted[who] += np.bincount(author, weights=counted, minlength=who.size).astype(np.int32)
        gained = score * REPUTATION_PER_UPVOTE
        gained[accepted] += REPUTATION_PER_ACCEPTED
        self.platform_reputation[who] += np.bincount(author, weights=gained, minlength=who.size).astype(np.float32)

    def _charge(self, ai: npt.NDArray[np.int16], tally: npt.NDArray[np.float64]) -> npt.NDArray[np.intp]:
        """Session-priced queries paid in credits; whoever cannot pay falls back to the platform.

        `ai` holds the wanted AI questions of the aware prefix and is cut down in place to those served.
        Returns who got citation visits this week.
        """
        assert self.rules is not None
        m = ai.size
        table = self.rules.session_cost
        balance = self.balance[:m]
        cost = self.cost[:m]
        np.take(table, ai, out=cost, mode="clip")  # ai < len(table) by construction
        short = np.flatnonzero(cost > balance)
        if short.size:
            wanted = ai[short]
            served = (np.searchsorted(table, balance[short], side="right") - 1).astype(np.int16)
            ai[short] = served
            cost[short] = table[served]
            tally[_F["fallback_questions"]] = (wanted - served).sum()
            tally[_F["people_out_of_credits"]] = short.size
        spent = int(cost.sum(dtype=np.int64))
        tally[_F["credits_spent"]] = spent
        balance -= cost
        self.outstanding -= spent
        # Spend the credits that expire soonest first. Most people pay from the first bucket; whoever still
        # owes something continues, as a shrinking subset, to the next.
        order = [self.buckets[key] for key in self._spending_order()]
        if order:
            first = order[0][:m]
            take = np.minimum(first, cost)
            first -= take
            remaining = cost - take
            owing = np.flatnonzero(remaining > 0)
            left = remaining[owing]
            for bucket in order[1:]:
                if not owing.size:
                    break
                have = bucket[owing]
                take = np.minimum(have, left)
                bucket[owing] = have - take
                left = left - take
                keep = left > 0
                owing, left = owing[keep], left[keep]
            if owing.size:  # pragma: no cover - affordability is checked above
                raise AssertionError("spent more credits than held")
        # The AI's nudge: some answers cite the platform, and some citations become platform visits.
        received = self.ai_answers_received[:m]
        citations = np.asarray(citations_due(received, received + ai, self.rules.policy.nudge))
        received += ai
        cited = np.flatnonzero(citations > 0)
        if cited.size:
            ctr = self.scenario.policy_response.citation_click_through
            clicks = (citations[cited] * ctr + self.rng.random(cited.size)).astype(np.int16)
            self.extra_visits[cited] = clicks
            tally[_F["citations"]] = citations[cited].sum()
            tally[_F["citation_visits"]] = clicks.sum()
        return cited

    def _feedback(
        self, ai: npt.NDArray[np.int16], lane: npt.NDArray[np.uint16], tally: npt.NDArray[np.float64]
    ) -> None:
        """Feedback on AI answers; under a policy accepted feedback earns credits at the reputation's rate."""
        people = self.scenario.people
        paid = self.rules is not None and self.rules.policy.feedback.base_reward > 0
        rate = np.float32(people.feedback_rate_paid if paid else people.feedback_rate_unpaid)
        draw = self.scratch[: ai.size]
        np.multiply(ai, rate, out=draw)
        draw += np.multiply(lane, UNIT16, out=self.scratch2[: ai.size])
        who = np.flatnonzero(draw >= 1.0)
        if not who.size:
            return
        given = draw[who].astype(np.int32)
        if self.rules is not None:
            given = np.minimum(given, self.rules.policy.feedback.daily_cap * 7)
        accept = np.where(
            self.traits.spammer[who],
            np.float32(people.feedback_accept_spam),
            np.float32(people.feedback_accept_genuine),
        )
        accepted = (given * accept + self.rng.random(who.size, dtype=np.float32)).astype(np.int32)
        tally[_F["feedback_given"]] = given.sum()
        tally[_F["feedback_accepted"]] = accepted.sum()
        if self.rules is None:
            return
        rules = self.rules.policy.feedback
        # Verdicts are applied one submission at a time, as the service does; accepted verdicts are spread
        # evenly over a person's submissions of the week. Everyone has a first submission; the few with more
        # are sorted (most first) so those still submitting at step j are a prefix and each step uses views.
        rep = self.reputation[who]
        ok = accepted >= given  # the first verdict, (0 + 1) * a // g > 0 * a // g, holds exactly when a >= g
        earned = np.asarray(feedback_reward(rep, rules), dtype=np.int64) * ok
        rep = reputation_after(rep, ok, rules)
        more = np.flatnonzero(given > 1)
        if more.size:
            cap = int(given[more].max())
            small = np.int8 if cap < 127 else np.int32  # 8-bit keys let NumPy use its linear-time radix sort
            more = more[np.argsort((cap - given[more]).astype(small), kind="stable")]
            g_all, a_all, r_all = given[more], accepted[more], rep[more]
            e_all = np.zeros(more.size, np.int64)
            still = np.bincount(g_all)[::-1].cumsum()[::-1]  # still[j]: people with at least j submissions
            for j in range(1, cap):
                k = int(still[j + 1])
                g, a = g_all[:k], a_all[:k]
                step_ok = (j + 1) * a // g > j * a // g
                e_all[:k] += np.asarray(feedback_reward(r_all[:k], rules), dtype=np.int64) * step_ok
                r_all[:k] = reputation_after(r_all[:k], step_ok, rules)
            earned[more] += e_all
            rep[more] = r_all
        self.reputation[who] = rep
        if earned.any():
            self._grant(who, earned, int(expiry_month_index(rules.expires, self._month)))
        tally[_F["credits_feedback"]] = earned.sum()


def block_seeds(run: RunSection) -> list[np.random.SeedSequence]:
    """One independent stream per block of people plus one for the platform, all from the run's seed."""
    return np.random.SeedSequence(run.seed).spawn(len(block_sizes(run.agents)) + 1)


def build_blocks(scenario: Scenario, policy: Policy | None, indices: Iterable[int]) -> list[Block]:
    """The blocks with the given indices; block i is the same people wherever and whenever it is built."""
    sizes, seeds = block_sizes(scenario.run.agents), block_seeds(scenario.run)
    rules = Rules.build(policy, scenario) if policy is not None else None
    blocks = []
    for i in indices:
        rng = np.random.default_rng(seeds[i])
        blocks.append(Block(draw_traits(sizes[i], scenario, rng), rng, scenario, rules))
    return blocks


def block_sums(blocks: Sequence[Block]) -> tuple[float, float]:
    """Expected weekly visits and answers of these people with no AI: they set the platform's steady state."""
    visits = sum(float(b.traits.rate.sum(dtype=np.float64)) for b in blocks)
    answers = sum(
        float((b.traits.rate[b.traits.contributors] * b.traits.contribution_rate).sum(dtype=np.float64)) for b in blocks
    )
    return visits, answers


@dataclass
class Simulation:
    """One run (baseline when policy is None): the blocks of people plus the platform and the AI."""

    scenario: Scenario
    policy: Policy | None
    sums: tuple[float, float] | None = None  # (expected visits, expected answers) when blocks live elsewhere
    blocks: list[Block] = field(init=False)
    series: dict[str, npt.NDArray[np.float64]] = field(init=False)

    def __post_init__(self) -> None:
        run = self.scenario.run
        self.rules = Rules.build(self.policy, self.scenario) if self.policy is not None else None
        self.rng = np.random.default_rng(block_seeds(run)[-1])
        if self.sums is None:  # people stepped in this process
            self.blocks = build_blocks(self.scenario, self.policy, range(len(block_sizes(run.agents))))
            self.sums = block_sums(self.blocks)
        else:  # people stepped elsewhere (worker processes), which reported their totals
            self.blocks = []
        visits, answers = self.sums
        platform = self.scenario.platform
        self.initial_stock = dynamics.equilibrium_stock(visits, answers, run.agents, platform)
        self.stock = self.initial_stock
        posted = visits * (1 - dynamics.find_probability(self.stock, run.agents, platform))
        self.platform_q = dynamics.platform_quality(
            dynamics.find_probability(self.stock, run.agents, platform),
            dynamics.answered_share(posted, answers),
            platform,
        )
        self.snapshot = 1.0
        self.stock_history: list[float] = []
        self.months = [calendar_month(self.scenario, w) for w in range(run.weeks)]
        self.series = {name: np.zeros(run.weeks, np.float64) for name in METRICS}
        self.ai_q = 0.0

    def begin_week(self, week: int) -> WeekContext:
        run, ai = self.scenario.run, self.scenario.ai
        self.stock_history.append(self.stock)
        since = week - run.ai_launch_week
        if since >= 0 and since % ai.retrain_every_weeks == 0:
            snapshot_week = week - ai.training_lag_weeks
            stock = self.stock_history[snapshot_week] if snapshot_week >= 0 else self.initial_stock
            self.snapshot = stock / self.initial_stock
        self.ai_q = dynamics.ai_quality(self.snapshot, since / 52.0, ai) if since >= 0 else 0.0
        price = self.rules.price_per_query if self.rules is not None else 0.0
        gap = dynamics.utility_gap(self.ai_q, self.platform_q, price, self.scenario.choice)
        month = self.months[week]
        return WeekContext(
            week=week,
            month=month,
            new_month=week == 0 or month != self.months[week - 1],
            aware_weeks=float(since + 1),
            odds=math.exp(-max(min(gap, 50.0), -50.0)),
        )

    def finish_week(self, week: int, tallies: Sequence[npt.NDArray[np.float64]]) -> None:
        total = np.sum(tallies, axis=0)
        s = self.series
        for name, value in zip(BLOCK_FIELDS, total, strict=True):
            s[name][week] = value
        agents, platform, ai = self.scenario.run.agents, self.scenario.platform, self.scenario.ai
        asks = int(total[_F["questions"]] - total[_F["ai_queries"]])
        find = dynamics.find_probability(self.stock, agents, platform)
        posted = int(self.rng.binomial(asks, 1.0 - find))
        answers = float(total[_F["answers"]])
        share = dynamics.answered_share(posted, answers)
        answered = int(self.rng.binomial(posted, share))
        self.stock = self.stock * (1.0 - platform.depreciation_per_week) + answered
        self.platform_q = dynamics.platform_quality(find, share, platform)
        served = float(total[_F["ai_queries"]])
        s["platform_questions"][week] = asks
        s["platform_visits"][week] = asks + total[_F["citation_visits"]]
        s["questions_posted"][week] = posted
        s["posted_answered"][week] = answered
        s["find_probability"][week] = find
        s["knowledge_stock"][week] = self.stock
        s["ai_quality"][week] = self.ai_q
        s["platform_quality"][week] = self.platform_q
        s["ai_share"][week] = served / max(total[_F["questions"]], 1.0)
        s["questions_answered"][week] = served + (asks - posted) + answered
        s["answer_quality_total"][week] = (
            served * self.ai_q + (asks - posted) * platform.quality_found + answered * platform.quality_posted
        )
        s["compute_cost_cents"][week] = served * ai.compute_cost_cents_per_query
        s["revenue_cents"][week] = served * ai.revenue_cents_per_query
        s["feedback_value_cents"][week] = total[_F["feedback_accepted"]] * ai.feedback_value_cents
        value = self.policy.credit.value_cents if self.policy is not None else 0
        earned = total[_F["credits_feedback"]] + total[_F["credits_stipend"]]
        # Earned credits count as a cost at their published value when issued (as if all were redeemed).
        s["operator_net_cents"][week] = (
            s["revenue_cents"][week]
            - s["compute_cost_cents"][week]
            + s["feedback_value_cents"][week]
            - credits_to_cents(earned, value)
        )
        s["credit_liability_cents"][week] = credits_to_cents(total[_F["credits_outstanding"]], value)
        s["credits_issued"][week] = (
            total[_F["credits_allowance"]] + total[_F["credits_feedback"]] + total[_F["credits_stipend"]]
        )


@dataclass
class RunResult:
    """Weekly series of one run plus what is needed to label them."""

    label: str
    scenario: Scenario
    series: dict[str, npt.NDArray[np.float64]]
    initial_stock: float
    policy: Policy | None = None


def run_simulations(
    scenario: Scenario,
    policies: Sequence[Policy | None],
    labels: Sequence[str],
    on_week: Callable[[int], None] | None = None,
    threads: int | None = None,
    processes: bool | None = None,
) -> list[RunResult]:
    """Run several variants of a scenario week by week, their blocks of people stepped in parallel.

    Blocks step in threads (NumPy releases the GIL inside its loops) or, for large runs, in worker
    processes that each own some blocks for the whole run (no GIL at all; only the week's context and the
    tallies cross). Each block has its own random stream, so results never depend on how they are spread.
    """
    workers = threads or os.cpu_count() or 1
    blocks = len(block_sizes(scenario.run.agents))
    if processes is None:
        # Forked workers only where fork is the safe default (Linux); threads everywhere else.
        processes = workers > 1 and blocks >= 2 and sys.platform.startswith("linux")
    if processes:
        from datalever.sim.parallel import ProcessBlocks

        with ProcessBlocks(scenario, policies, min(workers, blocks)) as remote:
            sims = [Simulation(scenario, policy, sums=sums) for policy, sums in zip(policies, remote.sums, strict=True)]
            for week in range(scenario.run.weeks):
                tallies = remote.step([sim.begin_week(week) for sim in sims])
                for sim, sim_tallies in zip(sims, tallies, strict=True):
                    sim.finish_week(week, sim_tallies)
                if on_week is not None:
                    on_week(week)
    else:
        sims = [Simulation(scenario, policy) for policy in policies]
        with ThreadPoolExecutor(max_workers=workers) as pool:
            for week in range(scenario.run.weeks):
                contexts = [sim.begin_week(week) for sim in sims]
                jobs = [
                    [pool.submit(block.step, ctx) for block in sim.blocks]
                    for sim, ctx in zip(sims, contexts, strict=True)
                ]
                for sim, sim_jobs in zip(sims, jobs, strict=True):
                    sim.finish_week(week, [job.result() for job in sim_jobs])
                if on_week is not None:
                    on_week(week)
    return [
        RunResult(label, scenario, sim.series, sim.initial_stock, sim.policy)
        for label, sim in zip(labels, sims, strict=True)
    ]
