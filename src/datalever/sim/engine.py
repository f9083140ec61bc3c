"""The weekly step of the ecosystem model, vectorized over people with NumPy.

Two sets of entities, each with one function per process step (see docs/simulator.md, section 3):

* **People** (`People`, one object per block of people, stepped in parallel): month events under the policy
  (stipend, expiry, allowance) -> `ask` -> `choose` (logit split and the log-sum of consumer surplus) ->
  `charge` (credits and the fallback) -> `nudge` (citations of the platform) -> `give_feedback` ->
  `contribute` (answers while asking and while browsing) -> `score_answers` (for the stipend criteria).
* **The platform and the AI** (`Platform`, `Assistant`, one each): `Assistant.retrain` -> the people's week ->
  `Platform.step` (found, duplicate and new questions, answers, stock, quality, time to an answer) ->
  `Assistant.account` (compute cost, revenue, feedback value, credits paid out).

Every weekly metric is declared once in `datalever.sim.metrics`. Every credit rule is a call into
`datalever.economy` (the same functions the ledger service runs), including stipend eligibility.
"""

from __future__ import annotations

import math
import os
import sys
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt

from datalever.economy import (
    Policy,
    allowance_due,
    apply_verdicts,
    citations_due,
    credits_to_cents,
    expiry_month_index,
    month_index,
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
from datalever.sim.memory import keep_freed_memory
from datalever.sim.metrics import INDEX, NAMES, PEOPLE_FIELDS
from datalever.sim.population import MAX_WEEKLY_QUESTIONS, Traits, block_sizes, draw_traits
from datalever.sim.scenario import RunSection, Scenario

REPUTATION_PER_UPVOTE = 10  # platform reputation per answer upvote (Stack Exchange's reputation rules)
REPUTATION_PER_ACCEPTED = 15  # platform reputation per accepted answer (same rules)
NEVER = -1  # bucket key of credits that never expire
UNIT16 = np.float32(1.0 / 65536.0)  # scales a 16-bit random lane to a uniform in [0, 1)

BLOCK_FIELDS = PEOPLE_FIELDS  # the tallies a block of people returns each week, in this order
METRICS = NAMES
_F = INDEX


@dataclass
class WeekContext:
    """What every block of people needs to know about the week: calendar, choice, platform activity."""

    week: int
    month: int
    new_month: bool
    aware_weeks: float
    odds: float  # exp(-utility gap): a person's AI probability is 1 / (1 + odds * exp(-affinity))
    gap: float = 0.0  # common part of U(AI) - U(platform), utility units (log(1/odds))
    platform_utility: float = 0.0  # V(platform) = beta_quality * platform quality - effort_platform
    answer_scale: float = 1.0  # the platform's pre-existing trend, applied to answers written there
    browse_scale: float = 1.0  # browsing answerers' activity: trend x response to the platform's activity


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

    @property
    def price_cents(self) -> float:
        """Average price of one query in cents (credits at their published value)."""
        return self.price_per_query * self.policy.credit.value_cents


def week_date(scenario: Scenario, week: int) -> date:
    return scenario.run.start + timedelta(weeks=week)


def calendar_month(scenario: Scenario, week: int) -> int:
    day = week_date(scenario, week)
    return month_index(datetime(day.year, day.month, day.day, tzinfo=UTC))


@dataclass
class People:
    """One block of people and their changing state in one run; one method per process step."""

    traits: Traits
    rng: np.random.Generator
    scenario: Scenario
    rules: Rules | None
    contribution_rate: npt.NDArray[np.float32] = field(init=False)
    browse_rate: npt.NDArray[np.float32] = field(init=False)  # answers a week while browsing, per contributor
    browse_total: float = field(init=False, default=0.0)  # their sum over the block
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
    gain_sum: npt.NDArray[np.float32] = field(init=False)  # log-sum gains per question so far (see `people`)
    earned_credits: npt.NDArray[np.int64] = field(init=False)  # feedback and stipend credits received so far
    logsum_gain: npt.NDArray[np.float32] = field(init=False)  # this week's log(1 + exp(U_AI - U_platform))
    reputation: npt.NDArray[np.float64] = field(init=False)
    buckets: dict[int, npt.NDArray[np.int32]] = field(init=False)
    outstanding: int = field(init=False, default=0)
    rate_total: float = field(init=False, default=0.0)  # expected questions a week of the whole block
    platform_utility_sum: float = field(init=False, default=0.0)  # sum over weeks of V(platform), float32 steps
    _month: int = field(init=False, default=0)  # calendar month of the week being stepped

    def __post_init__(self) -> None:
        n = self.traits.size
        people, response = self.scenario.people, self.scenario.policy_response
        rate = self.traits.contribution_rate
        browse = np.where(
            self.traits.superuser, people.superuser_browse_answers_per_week, people.occasional_browse_answers_per_week
        ).astype(np.float32)
        if self.rules is not None and self.rules.policy.stipend.credits_per_month > 0:
            boost = np.where(
                self.traits.linked[self.traits.contributors], 1.0 + response.stipend_contribution_response, 1.0
            )
            rate = np.minimum(rate * boost, 1.0).astype(np.float32)
            browse = (browse * boost).astype(np.float32)
        self.contribution_rate = rate
        self.browse_rate = browse
        self.browse_total = float(browse.sum(dtype=np.float64))
        self.questions = np.zeros(n, np.int16)
        self.ai = np.zeros(n, np.int16)
        self.extra_visits = np.zeros(n, np.int16)
        self.scratch = np.empty(n, np.float32)
        self.scratch2 = np.empty(n, np.float32)
        self.balance = np.zeros(n, np.int32)  # always the sum of the buckets (see audit)
        self.cost = np.empty(n, np.int32)
        self.below = np.empty(n, np.bool_)
        self.linked_positions = np.flatnonzero(self.traits.linked[self.traits.contributors])
        self.linked_members = self.traits.contributors[self.linked_positions]
        k = self.linked_positions.size
        self.month_scored = np.zeros(k, np.int32)
        self.month_accepted = np.zeros(k, np.int32)
        self.platform_reputation = np.where(
            self.traits.superuser[self.linked_positions],
            people.superuser_initial_reputation,
            people.occasional_initial_reputation,
        ).astype(np.float32)
        self.scores_answers = self.rules is not None and self.rules.policy.stipend.credits_per_month > 0
        self.ai_answers_received = np.zeros(n, np.int32)
        self.gain_sum = np.zeros(n, np.float32)
        self.earned_credits = np.zeros(n, np.int64)
        self.logsum_gain = np.empty(n, np.float32)
        initial = self.rules.policy.feedback.initial_reputation if self.rules else 0.0
        self.reputation = np.full(n, initial, np.float64)
        self.buckets = {}
        self.outstanding = 0
        self.rate_total = float(self.traits.rate.sum(dtype=np.float64))

    def people(self) -> dict[str, npt.NDArray[Any]]:
        """Per-person results at the end of a run, for welfare by group (see outcomes.welfare_by_group)."""
        tr = self.traits
        klass = np.zeros(tr.size, np.int8)
        klass[tr.contributors] = np.where(tr.superuser, 2, 1)
        return {
            "surplus_utils": tr.rate.astype(np.float64)
            * (self.gain_sum.astype(np.float64) + self.platform_utility_sum),
            "earned_credits": self.earned_credits,
            "balance": self.balance.astype(np.int64),
            "contributor_class": klass,
            "linked": tr.linked,
        }

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

    def month_events(self, ctx: WeekContext, tally: npt.NDArray[np.float64]) -> None:
        """Calendar-month events under the policy: last month's stipends, expiry, this month's allowance."""
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
                self.earned_credits[self.linked_members[paid]] += stipends[paid]
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
        """One week of this block of people; returns its tallies (in the order of BLOCK_FIELDS)."""
        tally = np.zeros(len(BLOCK_FIELDS), np.float64)
        self._month = ctx.month
        if self.rules is not None and ctx.new_month:
            self.month_events(ctx, tally)
        # One 64-bit draw per person a week, cut into four independent 16-bit uniforms (lanes): questions,
        # AI split, feedback, contributions. Stochastic rounding at 1/65536 resolution is ample here.
        lanes = self.rng.bit_generator.random_raw(self.traits.size).view(np.uint16).reshape(self.traits.size, 4)
        q = self.ask(lanes[:, 0])
        aware = self.choose(ctx, lanes[:, 1], tally)
        ai = self.ai[:aware]
        clicked: npt.NDArray[np.intp] | None = None
        if aware:
            if self.rules is not None:
                self.charge(ai, tally)
                clicked = self.nudge(ai, tally)
            self.give_feedback(ai, lanes[:aware, 2], tally)
        self.account_surplus(ctx, aware, tally)
        self.contribute(ctx, lanes[:, 3], clicked, tally)
        tally[_F["questions"]] = q.sum()
        tally[_F["ai_queries"]] = ai.sum()
        tally[_F["credits_outstanding"]] = self.outstanding
        return tally

    def ask(self, lane: npt.NDArray[np.uint16]) -> npt.NDArray[np.int16]:
        """Questions: the integer part of the weekly rate, plus one more with the fractional part's chance."""
        q = self.questions
        np.less(lane, self.traits.rate_fraction16, out=self.below)
        np.add(self.traits.rate_whole, self.below, out=q)
        return q

    def choose(self, ctx: WeekContext, lane: npt.NDArray[np.uint16], tally: npt.NDArray[np.float64]) -> int:
        """Logit split of each aware person's questions (aware people are a prefix of the block); also the
        per-question log-sum gain log(1 + exp(U_AI - U_platform)) for consumer surplus. Returns the prefix."""
        tr = self.traits
        aware = (
            int(np.searchsorted(tr.adoption_week, np.float32(ctx.aware_weeks), side="right"))
            if ctx.aware_weeks > 0
            else 0
        )
        if not aware:
            return 0
        share = self.scratch[:aware]
        np.multiply(tr.exp_neg_affinity[:aware], np.float32(ctx.odds), out=share)
        share += np.float32(1.0)
        # The log-sum gain log(1 + exp(d)), d = gap + affinity, as log1p(exp(affinity) * exp(gap)): one
        # multiply and one (vectorized) log1p a week.
        gain = self.logsum_gain[:aware]
        np.multiply(tr.exp_affinity[:aware], np.float32(math.exp(ctx.gap)), out=gain)
        np.log1p(gain, out=gain)
        np.divide(self.questions[:aware], share, out=share)  # expected AI questions: q * p
        share += np.multiply(lane[:aware], UNIT16, out=self.scratch2[:aware])
        np.copyto(self.ai[:aware], share, casting="unsafe")  # floor: an unbiased integer split
        tally[_F["ai_wanted"]] = self.ai[:aware].sum()
        return aware

    def account_surplus(self, ctx: WeekContext, aware: int, tally: npt.NDArray[np.float64]) -> None:
        """Expected consumer surplus of the week: each person's question rate times the log-sum of one question
        (the platform's utility plus the log-sum gain of those who know the AI; questions turned away for want
        of credits were taken out of the gain by `charge`)."""
        tr = self.traits
        base = np.float32(ctx.platform_utility)
        # The platform's utility is the same for everyone this week: one number, multiplied by each person's
        # question rate only when the per-person results are read (see `people`).
        self.platform_utility_sum += float(base)
        week_total = self.rate_total * float(base)
        if aware:
            gain = self.logsum_gain[:aware]
            self.gain_sum[:aware] += gain  # per question; multiplied by the question rate when read
            weighted = np.multiply(tr.rate[:aware], gain, out=self.scratch2[:aware])
            week_total += float(weighted.sum())
        tally[_F["surplus_utils"]] = week_total

    def contribute(
        self,
        ctx: WeekContext,
        lane: npt.NDArray[np.uint16],
        clicked: npt.NDArray[np.intp] | None,
        tally: npt.NDArray[np.float64],
    ) -> None:
        """Answers: each platform visit of a contributor (own questions not taken by the AI, fallbacks,
        citation visits) becomes an answer at their contribution rate, plus the answers they write while
        browsing to answer; both scaled by the platform's trend (stochastic rounding)."""
        c = self.traits.contributors
        visits = self.questions[c] - self.ai[c]
        if clicked is not None:
            visits += self.extra_visits[c]
            self.extra_visits[clicked] = 0
        expected = visits * (self.contribution_rate * np.float32(ctx.answer_scale))
        expected += self.browse_rate * np.float32(ctx.browse_scale)
        answers = (expected + lane[c] * UNIT16).astype(np.int32)
        if self.scores_answers:
            self.score_answers(answers[self.linked_positions])
        tally[_F["answers"]] = answers.sum()
        tally[_F["browse_answers"]] = self.browse_total * ctx.browse_scale
        tally[_F["active_contributors"]] = np.count_nonzero(answers)

    def score_answers(self, answers: npt.NDArray[np.int32]) -> None:
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

    def charge(self, ai: npt.NDArray[np.int16], tally: npt.NDArray[np.float64]) -> None:
        """Session-priced queries paid in credits; whoever cannot pay falls back to the platform.

        `ai` holds the wanted AI questions of the aware prefix and is cut down in place to those served.
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
            # A question turned away for want of credits gets the platform's utility, not the log-sum.
            self.logsum_gain[short] *= np.float32(1.0) - (wanted - served) / np.maximum(self.questions[short], 1)
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

    def nudge(self, ai: npt.NDArray[np.int16], tally: npt.NDArray[np.float64]) -> npt.NDArray[np.intp]:
        """The AI's nudge: some answers cite the platform, and some citations become platform visits.
        Returns who got citation visits this week."""
        assert self.rules is not None
        m = ai.size
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

    def give_feedback(
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
        # Verdicts are applied one submission at a time, as the service does (economy.apply_verdicts, the
        # vectorized form of feedback_reward and reputation_after verdict by verdict); accepted verdicts are
        # spread evenly over a person's submissions of the week. Stochastic rounding can give one accepted more
        # than given when every verdict is accepted anyway: capped, which changes no verdict.
        np.minimum(accepted, given, out=accepted)
        earned, rep = apply_verdicts(self.reputation[who], given, accepted, rules)
        self.reputation[who] = rep
        if earned.any():
            self._grant(who, earned, int(expiry_month_index(rules.expires, self._month)))
            self.earned_credits[who] += earned
        tally[_F["credits_feedback"]] = earned.sum()


def block_seeds(run: RunSection) -> list[np.random.SeedSequence]:
    """One independent stream per block of people plus one for the platform, all from the run's seed."""
    return np.random.SeedSequence(run.seed).spawn(len(block_sizes(run.agents)) + 1)


def build_blocks(scenario: Scenario, policy: Policy | None, indices: Iterable[int]) -> list[People]:
    """The blocks with the given indices; block i is the same people wherever and whenever it is built."""
    sizes, seeds = block_sizes(scenario.run.agents), block_seeds(scenario.run)
    rules = Rules.build(policy, scenario) if policy is not None else None
    blocks = []
    for i in indices:
        rng = np.random.default_rng(seeds[i])
        blocks.append(People(draw_traits(sizes[i], scenario, rng), rng, scenario, rules))
    return blocks


def block_sums(blocks: Sequence[People]) -> list[tuple[float, float]]:
    """Expected weekly visits and answers of each block with no AI and no policy (the platform's steady state).

    Per block, so that totals are always added in block order, wherever the blocks were stepped.
    """
    sums = []
    for b in blocks:
        t, people = b.traits, b.scenario.people
        answers = float((t.rate[t.contributors] * t.contribution_rate).sum(dtype=np.float64))
        supers = int(np.count_nonzero(t.superuser))
        answers += supers * people.superuser_browse_answers_per_week
        answers += (t.contributors.size - supers) * people.occasional_browse_answers_per_week
        sums.append((b.rate_total, answers))
    return sums


@dataclass
class Platform:
    """The knowledge platform: its stock, how well search finds answers, duplicates, answers and waits."""

    scenario: Scenario
    steady: dynamics.SteadyState
    rng: np.random.Generator
    stock: float = field(init=False)
    quality: float = field(init=False)
    browse_factor: float = field(init=False, default=1.0)
    stock_history: list[float] = field(init=False, default_factory=list)

    def __post_init__(self) -> None:
        self.stock = self.steady.stock
        self.quality = self.steady.quality

    def trend(self, week: int) -> float:
        """The pre-existing trend of activity, independent of the AI: 1 at week 0."""
        return float((1.0 + self.scenario.platform.trend_per_year) ** (week / 52.0))

    def stock_relative(self) -> float:
        return self.stock / self.steady.stock if self.steady.stock > 0 else 1.0

    def step(self, week: int, questions: float, ai_queries: float, answers: float, s: dict[str, Any]) -> None:
        """The week on the platform: searches find answers or post new questions (some duplicates), answers
        land on new questions after the duplicates are closed, the stock grows and depreciates."""
        platform, ai = self.scenario.platform, self.scenario.ai
        self.stock_history.append(self.stock)
        asks = int(questions - ai_queries)
        trend = self.trend(week)
        not_found = dynamics.not_found_share(self.stock_relative(), platform)
        duplicates = dynamics.duplicate_share(ai_queries / max(questions, 1.0), platform, ai)
        posted = int(self.rng.binomial(asks, min(1.0, trend * not_found)))
        dups = int(self.rng.binomial(posted, duplicates))
        novel = posted - dups
        effective = dynamics.effective_answers(answers, dups, platform)
        share = dynamics.answered_share(novel, effective)
        answered = int(self.rng.binomial(novel, share))
        hours = dynamics.time_to_answer(effective / max(novel, 1), self.steady.answers_per_question, platform)
        wait = dynamics.wait_value(hours, platform) if math.isfinite(hours) else 0.0
        self.quality = dynamics.platform_quality(not_found, duplicates, share, wait, platform)
        self.stock = self.stock * (1.0 - platform.depreciation_per_week) + answered
        # Browsing answerers respond to how many new questions there are, apart from the trend.
        if self.steady.novel_posted > 0:
            activity = asks * not_found * (1.0 - duplicates) / self.steady.novel_posted
            self.browse_factor = float(min(activity, 2.0) ** platform.browse_activity_elasticity)
        s["platform_questions"][week] = asks * trend
        s["questions_posted"][week] = posted
        s["duplicates_posted"][week] = dups
        s["posted_answered"][week] = answered
        s["find_probability"][week] = 1.0 - not_found
        s["knowledge_stock"][week] = self.stock
        s["platform_quality"][week] = self.quality
        s["answered_share"][week] = share
        s["time_to_answer_hours"][week] = min(hours, 1e6)
        s["browse_factor"][week] = self.browse_factor
        s["trend_factor"][week] = trend


@dataclass
class Assistant:
    """The AI assistant and its operator: retraining on the platform's stock, quality, and the economics."""

    scenario: Scenario
    initial_stock: float
    capability: npt.NDArray[np.float64]  # capability multiplier of the model in use, by week
    snapshot: float = 1.0
    quality: float = 0.0

    def retrain(self, week: int, stock_history: Sequence[float]) -> None:
        """Every `retrain_every_weeks` from launch, a new model from the stock as it was `training_lag_weeks` ago."""
        run, ai = self.scenario.run, self.scenario.ai
        since = week - run.ai_launch_week
        if since >= 0 and since % ai.retrain_every_weeks == 0:
            snapshot_week = week - ai.training_lag_weeks
            stock = stock_history[snapshot_week] if snapshot_week >= 0 else self.initial_stock
            self.snapshot = stock / self.initial_stock if self.initial_stock > 0 else 1.0
        self.quality = dynamics.ai_quality(self.snapshot, float(self.capability[week]), ai) if since >= 0 else 0.0

    def account(self, week: int, total: npt.NDArray[np.float64], policy: Policy | None, s: dict[str, Any]) -> None:
        """The operator's week in cents: revenue - compute cost + value of accepted feedback - earned credits
        at their published value (counted when issued, as if all were redeemed: the conservative reading)."""
        ai = self.scenario.ai
        day = week_date(self.scenario, week)
        cost = dynamics.per_year(
            ai.compute_cost_cents_per_query, ai.compute_cost_change_per_year, day, ai.compute_cost_reference_date
        )
        revenue = dynamics.per_year(
            ai.revenue_cents_per_query, ai.revenue_change_per_year, day, ai.compute_cost_reference_date
        )
        served = float(total[_F["ai_queries"]])
        value = policy.credit.value_cents if policy is not None else 0
        earned = total[_F["credits_feedback"]] + total[_F["credits_stipend"]]
        s["ai_quality"][week] = self.quality
        s["ai_capability"][week] = self.capability[week]
        s["compute_cost_cents_per_query"][week] = cost
        s["revenue_cents_per_query"][week] = revenue
        s["compute_cost_cents"][week] = served * cost
        s["revenue_cents"][week] = served * revenue
        s["feedback_value_cents"][week] = total[_F["feedback_accepted"]] * ai.feedback_value_cents
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
class Simulation:
    """One run (baseline when policy is None): the blocks of people, the platform and the AI."""

    scenario: Scenario
    policy: Policy | None
    sums: list[tuple[float, float]] | None = None  # per block (visits, answers) when blocks live elsewhere
    blocks: list[People] = field(init=False)
    series: dict[str, npt.NDArray[np.float64]] = field(init=False)

    def __post_init__(self) -> None:
        run = self.scenario.run
        self.rules = Rules.build(self.policy, self.scenario) if self.policy is not None else None
        if self.sums is None:  # people stepped in this process
            self.blocks = build_blocks(self.scenario, self.policy, range(len(block_sizes(run.agents))))
            self.sums = block_sums(self.blocks)
        else:  # people stepped elsewhere (worker processes), which reported their totals
            self.blocks = []
        visits, answers = 0.0, 0.0
        for block_visits, block_answers in self.sums:  # in block order: the same floats however blocks are spread
            visits += block_visits
            answers += block_answers
        steady = dynamics.steady_state(visits, answers, self.scenario.platform)
        self.platform = Platform(self.scenario, steady, np.random.default_rng(block_seeds(run)[-1]))
        capability = dynamics.capability_path(run.weeks, run.ai_launch_week, self.scenario.ai, run.seed)
        self.assistant = Assistant(self.scenario, steady.stock, capability)
        self.initial_stock = steady.stock
        self.months = [calendar_month(self.scenario, w) for w in range(run.weeks)]
        self.series = {name: np.zeros(run.weeks, np.float64) for name in METRICS}

    def begin_week(self, week: int) -> WeekContext:
        """Retrain the AI if due, and tell the people this week's prices, qualities and platform activity."""
        history = [*self.platform.stock_history, self.platform.stock]
        self.assistant.retrain(week, history)
        choice = self.scenario.choice
        price_cents = self.rules.price_cents if self.rules is not None else 0.0
        gap = dynamics.utility_gap(self.assistant.quality, self.platform.quality, price_cents, choice)
        gap = max(min(gap, 50.0), -50.0)
        month = self.months[week]
        trend = self.platform.trend(week)
        return WeekContext(
            week=week,
            month=month,
            new_month=week == 0 or month != self.months[week - 1],
            aware_weeks=float(week - self.scenario.run.ai_launch_week + 1),
            odds=math.exp(-gap),
            gap=gap,
            platform_utility=dynamics.platform_utility(self.platform.quality, choice),
            answer_scale=trend,
            browse_scale=trend * self.platform.browse_factor,
        )

    def finish_week(self, week: int, tallies: Sequence[npt.NDArray[np.float64]]) -> None:
        """Add up the people's week, then step the platform and account for the operator."""
        total = np.sum(tallies, axis=0)
        s = self.series
        for name, value in zip(BLOCK_FIELDS, total, strict=True):
            s[name][week] = value
        questions, served = float(total[_F["questions"]]), float(total[_F["ai_queries"]])
        answers = float(total[_F["answers"]])
        self.platform.step(week, questions, served, answers, s)
        self.assistant.account(week, total, self.policy, s)
        s["platform_visits"][week] = s["platform_questions"][week] + total[_F["citation_visits"]]
        s["ai_share"][week] = served / max(questions, 1.0)
        found = s["platform_questions"][week] - s["questions_posted"][week] + s["duplicates_posted"][week]
        answered = s["posted_answered"][week]
        platform = self.scenario.platform
        s["questions_answered"][week] = served + found + answered
        s["answer_quality_total"][week] = (
            served * self.assistant.quality + found * platform.quality_found + answered * platform.quality_posted
        )


@dataclass
class RunResult:
    """Weekly series of one run plus what is needed to label them."""

    label: str
    scenario: Scenario
    series: dict[str, npt.NDArray[np.float64]]
    initial_stock: float
    policy: Policy | None = None
    people: dict[str, npt.NDArray[Any]] = field(default_factory=dict)  # per-person end-of-run arrays


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
    keep_freed_memory()
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
            people = remote.people()
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
        people = [join_people([block.people() for block in sim.blocks]) for sim in sims]
    return [
        RunResult(label, scenario, sim.series, sim.initial_stock, sim.policy, group)
        for label, sim, group in zip(labels, sims, people, strict=True)
    ]


def join_people(blocks: Sequence[dict[str, npt.NDArray[Any]]]) -> dict[str, npt.NDArray[Any]]:
    """Per-person arrays of blocks, in block order, as one set of arrays."""
    return {name: np.concatenate([b[name] for b in blocks]) for name in blocks[0]} if blocks else {}
