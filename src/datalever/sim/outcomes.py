"""Outcomes for the three parties and the positive-sum verdict: is everyone at least as well off?

Each party is judged on one headline measure over the horizon (with supporting measures reported beside it):
* operator: cumulative net value in cents = revenue - compute cost + value of accepted feedback - the
  published value of every credit it paid out as feedback reward or stipend (counted when issued, as if all
  were redeemed: the conservative reading);
* platform: the knowledge stock at the horizon (the commons' health, which also feeds the next model);
* people: the total quality of the answers they got (questions answered, weighted by answer quality).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from datalever.economy import Policy
from datalever.sim.engine import RunResult, run_simulations
from datalever.sim.scenario import Scenario, with_overrides

HEADLINE = {
    "operator": "net value (cents)",
    "platform": "knowledge stock at horizon",
    "people": "answer quality received",
}


@dataclass(frozen=True)
class Measure:
    party: str
    name: str
    baseline: float
    policy: float

    @property
    def change_percent(self) -> float:
        if self.baseline == 0:
            return 0.0 if self.policy == 0 else float(np.sign(self.policy)) * 100.0
        return (self.policy - self.baseline) / abs(self.baseline) * 100.0


def totals(result: RunResult) -> dict[str, float]:
    """Horizon totals of one run (sums of flows, final values of stocks)."""
    s = result.series
    total = {name: float(values.sum()) for name, values in s.items()}
    for stock in (
        "knowledge_stock",
        "ai_quality",
        "platform_quality",
        "find_probability",
        "credits_outstanding",
        "credit_liability_cents",
    ):
        total[stock] = float(s[stock][-1])
    total["active_contributors_mean"] = float(s["active_contributors"].mean())
    total["ai_share_mean"] = float(s["ai_share"].mean())
    total["mean_answer_quality"] = total["answer_quality_total"] / max(total["questions_answered"], 1.0)
    total["credits_earned"] = total["credits_feedback"] + total["credits_stipend"]
    return total


def measures(baseline: RunResult, policy: RunResult) -> list[Measure]:
    b, p = totals(baseline), totals(policy)
    rows = [
        ("operator", "net value (cents)", "operator_net_cents"),
        ("operator", "AI queries served", "ai_queries"),
        ("operator", "compute cost (cents)", "compute_cost_cents"),
        ("operator", "accepted feedback", "feedback_accepted"),
        ("operator", "credit liability at horizon (cents)", "credit_liability_cents"),
        ("platform", "knowledge stock at horizon", "knowledge_stock"),
        ("platform", "visits", "platform_visits"),
        ("platform", "questions posted", "questions_posted"),
        ("platform", "answers contributed", "answers"),
        ("platform", "active contributors (weekly mean)", "active_contributors_mean"),
        ("people", "answer quality received", "answer_quality_total"),
        ("people", "questions answered", "questions_answered"),
        ("people", "mean answer quality", "mean_answer_quality"),
        ("people", "credits earned (feedback, stipends)", "credits_earned"),
        ("people", "credits spent on AI queries", "credits_spent"),
        ("people", "questions sent to the fallback", "fallback_questions"),
    ]
    return [Measure(party, name, b[key], p[key]) for party, name, key in rows]


def verdict(items: list[Measure]) -> dict[str, Any]:
    """Positive-sum when every party's headline measure is at least its baseline value."""
    heads = {m.party: m for m in items if HEADLINE[m.party] == m.name}
    better = {party: m.policy >= m.baseline for party, m in heads.items()}
    losers = [party for party, ok in better.items() if not ok]
    parts = ", ".join(f"{party} {heads[party].change_percent:+.1f}% ({HEADLINE[party]})" for party in heads)
    if not losers:
        text = (
            "Positive-sum: the operator, the platform and the people are each at least as well off as with no "
            f"policy over the horizon. Changes: {parts}."
        )
    else:
        who = " and ".join(f"the {party}" for party in losers)
        text = f"Not positive-sum: {who} would be worse off than with no policy. Changes: {parts}."
    return {
        "positive_sum": not losers,
        "losers": losers,
        "text": text,
        "parties": {
            party: {
                "measure": HEADLINE[party],
                "baseline": m.baseline,
                "policy": m.policy,
                "change_percent": m.change_percent,
                "at_least_as_well_off": better[party],
            }
            for party, m in heads.items()
        },
    }


def credit_balance(result: RunResult) -> dict[str, float]:
    """Every credit issued is spent, expired or still outstanding: the ledger identity, checked on the run."""
    s = result.series
    issued = float(s["credits_allowance"].sum() + s["credits_feedback"].sum() + s["credits_stipend"].sum())
    spent = float(s["credits_spent"].sum())
    expired = float(s["credits_expired"].sum())
    outstanding = float(s["credits_outstanding"][-1])
    return {
        "issued": issued,
        "spent": spent,
        "expired": expired,
        "outstanding": outstanding,
        "unaccounted": issued - spent - expired - outstanding,
    }


def summarize(baseline: RunResult, policy: RunResult, *, policy_source: str) -> dict[str, Any]:
    """The summary.json document: inputs, horizon totals of both runs, per-party measures and the verdict."""
    run = policy.scenario.run
    items = measures(baseline, policy)
    return {
        "scenario": policy.scenario.name,
        "policy": policy_source,
        "agents": run.agents,
        "weeks": run.weeks,
        "seed": run.seed,
        "start": run.start.isoformat(),
        "verdict": verdict(items),
        "measures": [
            {
                "party": m.party,
                "measure": m.name,
                "baseline": m.baseline,
                "policy": m.policy,
                "change_percent": m.change_percent,
            }
            for m in items
        ],
        "totals": {"baseline": totals(baseline), "policy": totals(policy)},
        "credits": credit_balance(policy),
        "credit_value_cents": policy.policy.credit.value_cents if policy.policy is not None else 0,
        "scenario_parameters": policy.scenario.model_dump(mode="json"),
    }


# -- The stable API for analyses (discover, forecast, sweeps): see /work/notes/SIM_API.md ---------------------

HEADLINE_DELTAS = ("operator_cents", "platform_answers", "people_surplus_cents")


@dataclass(frozen=True)
class PairResult:
    """A baseline run (no policy) and a policy run of the same people, seed and world (common random numbers)."""

    baseline: RunResult
    policy: RunResult


def run_pair(
    scenario: Scenario,
    policy: Policy,
    seed: int | None = None,
    agents: int | None = None,
    weeks: int | None = None,
    *,
    threads: int = 1,
) -> PairResult:
    """Run the scenario without and with the policy (same seed); `seed/agents/weeks` override `[run]`.

    One thread by default: analyses run many pairs side by side (Dask workers), one per core.
    """
    chosen = with_overrides(scenario, agents=agents, weeks=weeks, seed=seed)
    baseline, with_policy = run_simulations(chosen, [None, policy], ["baseline", "policy"], threads=threads)
    return PairResult(baseline, with_policy)


def people_cents(result: RunResult) -> npt.NDArray[np.float64]:
    """Each person's money-metric welfare over the run, in cents: expected consumer surplus (log-sum of channel
    utilities divided by the price coefficient, utility per cent) plus earned credits at their published value."""
    beta = result.scenario.choice.beta_price
    value = result.policy.credit.value_cents if result.policy is not None else 0
    people = result.people
    return np.asarray(people["surplus_utils"] / beta + people["earned_credits"] * value, dtype=np.float64)


def party_deltas(pair: PairResult) -> dict[str, float]:
    """Policy minus baseline for each party, in absolute units (never a percent of a number near zero).

    * operator_cents: cumulative net value over the horizon, cents (+ operator_cents_per_person_week);
    * platform_answers: answers contributed over the horizon (+ per week, and the knowledge stock at the horizon);
    * people_surplus_cents: expected consumer surplus per person and week, cents (+ the horizon total).
    """
    b, p = pair.baseline.series, pair.policy.series
    run = pair.policy.scenario.run
    person_weeks = float(run.agents * run.weeks)
    operator = float(p["operator_net_cents"].sum() - b["operator_net_cents"].sum())
    answers = float(p["answers"].sum() - b["answers"].sum())
    people = float(people_cents(pair.policy).sum() - people_cents(pair.baseline).sum())
    return {
        "operator_cents": operator,
        "operator_cents_per_person_week": operator / person_weeks,
        "platform_answers": answers,
        "platform_answers_per_week": answers / run.weeks,
        "platform_stock": float(p["knowledge_stock"][-1] - b["knowledge_stock"][-1]),
        "people_surplus_cents": people / person_weeks,
        "people_surplus_cents_total": people,
    }


def is_positive_sum(deltas: Mapping[str, float], tolerance: float | Mapping[str, float] = 0.0) -> bool:
    """True when no party's headline delta is below minus its tolerance (same units as the delta)."""
    for key in HEADLINE_DELTAS:
        allowed = tolerance if isinstance(tolerance, int | float) else tolerance.get(key, 0.0)
        if deltas[key] < -abs(allowed):
            return False
    return True


def welfare_by_group(pair: PairResult) -> list[dict[str, Any]]:
    """Expected consumer surplus per person-week by group: contributor class, linked or not, and the decile of
    the credit balance at the horizon under the policy (the same people in both runs)."""
    base, pol = people_cents(pair.baseline), people_cents(pair.policy)
    weeks = pair.policy.scenario.run.weeks
    people = pair.policy.people
    n = base.size
    decile = np.empty(n, np.int64)
    decile[np.argsort(people["balance"], kind="stable")] = np.arange(n) * 10 // max(n, 1)
    groups: list[tuple[str, str, npt.NDArray[np.bool_]]] = [("everyone", "all", np.ones(n, np.bool_))]
    for code, name in enumerate(("non-contributor", "occasional contributor", "superuser")):
        groups.append(("contributor class", name, people["contributor_class"] == code))
    groups.append(("linked account", "linked", people["linked"]))
    groups.append(("linked account", "not linked", ~people["linked"]))
    for d in range(10):
        groups.append(("credit-balance decile", f"D{d + 1}", decile == d))
    rows = []
    for group, value, mask in groups:
        count = int(mask.sum())
        if not count:
            continue
        before = float(base[mask].sum()) / (count * weeks)
        after = float(pol[mask].sum()) / (count * weeks)
        rows.append(
            {
                "group": group,
                "value": value,
                "people": count,
                "baseline_cents_per_week": before,
                "policy_cents_per_week": after,
                "change_cents_per_week": after - before,
                "share_better_off": float(np.mean(pol[mask] >= base[mask])),
            }
        )
    return rows
