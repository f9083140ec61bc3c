"""Outcomes for the three parties and the positive-sum verdict: is everyone at least as well off?

Each party is judged on one headline measure over the horizon, as an absolute difference from the same world
without the policy (same people, same seed), never as a percent of a number that may be near zero:
* operator: cumulative net value in cents = revenue - compute cost + value of accepted feedback - the
  published value of every credit it paid out as feedback reward or stipend (counted when issued, as if all
  were redeemed: the conservative reading);
* platform: answers contributed over the horizon (its activity, which also feeds the next model);
* people: expected consumer surplus per person and week in cents: the log-sum of the logit's channel
  utilities divided by the price coefficient (utility per cent), plus earned credits at their published value.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from datalever.economy import Policy
from datalever.sim.engine import RunResult, run_simulations
from datalever.sim.metrics import BY_NAME
from datalever.sim.scenario import Scenario, with_overrides

HEADLINE = {
    "operator": "net value (cents)",
    "platform": "answers contributed",
    "people": "consumer surplus (cents per person-week)",
}
HEADLINE_UNITS = {"operator": "cents", "platform": "answers", "people": "cents per person-week"}


@dataclass(frozen=True)
class Measure:
    party: str
    name: str
    baseline: float
    policy: float

    @property
    def change(self) -> float:
        """Policy minus baseline, in the measure's own unit."""
        return self.policy - self.baseline

    @property
    def change_percent(self) -> float:
        """Relative change, only where the baseline is clearly away from zero (else NaN: not meaningful)."""
        if abs(self.baseline) < 1e-9 * max(abs(self.policy), 1.0) or self.baseline == 0:
            return float("nan")
        return (self.policy - self.baseline) / abs(self.baseline) * 100.0


def totals(result: RunResult) -> dict[str, float]:
    """Horizon totals of one run, each metric added up as its declaration says (sum, last value or mean)."""
    s = result.series
    total: dict[str, float] = {}
    for name, values in s.items():
        how = BY_NAME[name].horizon if name in BY_NAME else "sum"
        total[name] = float(values.sum() if how == "sum" else values[-1] if how == "last" else values.mean())
    total["mean_answer_quality"] = total["answer_quality_total"] / max(total["questions_answered"], 1.0)
    total["credits_earned"] = total["credits_feedback"] + total["credits_stipend"]
    if result.people:
        run = result.scenario.run
        total["consumer_surplus_cents_per_person_week"] = float(people_cents(result).sum()) / (run.agents * run.weeks)
    return total


MEASURE_ROWS = (
    ("operator", "net value (cents)", "operator_net_cents"),
    ("operator", "AI queries served", "ai_queries"),
    ("operator", "compute cost (cents)", "compute_cost_cents"),
    ("operator", "revenue (cents)", "revenue_cents"),
    ("operator", "accepted feedback", "feedback_accepted"),
    ("operator", "credit liability at horizon (cents)", "credit_liability_cents"),
    ("platform", "answers contributed", "answers"),
    ("platform", "knowledge stock at horizon", "knowledge_stock"),
    ("platform", "visits", "platform_visits"),
    ("platform", "questions posted", "questions_posted"),
    ("platform", "duplicates posted", "duplicates_posted"),
    ("platform", "active contributors (weekly mean)", "active_contributors"),
    ("platform", "time to a first answer (hours, mean)", "time_to_answer_hours"),
    ("people", "consumer surplus (cents per person-week)", "consumer_surplus_cents_per_person_week"),
    ("people", "questions answered", "questions_answered"),
    ("people", "mean answer quality", "mean_answer_quality"),
    ("people", "credits earned (feedback, stipends)", "credits_earned"),
    ("people", "credits spent on AI queries", "credits_spent"),
    ("people", "questions sent to the fallback", "fallback_questions"),
)


def measures(baseline: RunResult, policy: RunResult) -> list[Measure]:
    b, p = totals(baseline), totals(policy)
    return [Measure(party, name, b[key], p[key]) for party, name, key in MEASURE_ROWS if key in b and key in p]


def verdict(items: list[Measure], tolerance: Mapping[str, float] | None = None) -> dict[str, Any]:
    """Positive-sum when no party's headline measure is below its baseline by more than its tolerance."""
    heads = {m.party: m for m in items if HEADLINE[m.party] == m.name}
    allowed = tolerance or {}
    better = {party: m.change >= -abs(allowed.get(party, 0.0)) for party, m in heads.items()}
    losers = [party for party, ok in better.items() if not ok]
    parts = ", ".join(f"{party} {heads[party].change:+,.3g} {HEADLINE_UNITS[party]}" for party in heads)
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
                "unit": HEADLINE_UNITS[party],
                "baseline": m.baseline,
                "policy": m.policy,
                "change": m.change,
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
        "expired_share": expired / issued if issued else 0.0,
        "allowance_expired_share": expired / float(s["credits_allowance"].sum())
        if s["credits_allowance"].sum()
        else 0.0,
    }


def _finite(value: float) -> float | None:
    return value if np.isfinite(value) else None


def summarize(
    baseline: RunResult,
    policy: RunResult,
    *,
    policy_source: str,
    replicates: Sequence[Mapping[str, float]] | None = None,
) -> dict[str, Any]:
    """The summary.json document: inputs, horizon totals of both runs, per-party measures, the verdict,
    welfare by group, and (if given) the party deltas of replicate seeds."""
    run = policy.scenario.run
    items = measures(baseline, policy)
    pair = PairResult(baseline, policy)
    summary: dict[str, Any] = {
        "scenario": policy.scenario.name,
        "policy": policy_source,
        "agents": run.agents,
        "weeks": run.weeks,
        "seed": run.seed,
        "start": run.start.isoformat(),
        "verdict": verdict(items),
        "deltas": party_deltas(pair),
        "measures": [
            {
                "party": m.party,
                "measure": m.name,
                "baseline": m.baseline,
                "policy": m.policy,
                "change": m.change,
                "change_percent": _finite(m.change_percent),
            }
            for m in items
        ],
        "welfare_by_group": welfare_by_group(pair),
        "totals": {"baseline": totals(baseline), "policy": totals(policy)},
        "credits": credit_balance(policy),
        "credit_value_cents": policy.policy.credit.value_cents if policy.policy is not None else 0,
        "scenario_parameters": policy.scenario.model_dump(mode="json"),
    }
    for party in summary["verdict"]["parties"].values():
        party["change_percent"] = _finite(party["change_percent"])
    if replicates:
        summary["replicates"] = replicate_summary(replicates)
    return summary


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
    threads: int | None = 1,
) -> PairResult:
    """Run the scenario without and with the policy (same seed); `seed/agents/weeks` override `[run]`.

    One thread by default: analyses run many pairs side by side (Dask workers), one per core; None uses
    every core (threads, or worker processes for runs of several blocks).
    """
    chosen = with_overrides(scenario, agents=agents, weeks=weeks, seed=seed)
    baseline, with_policy = run_simulations(
        chosen, [None, policy], ["baseline", "policy"], threads=threads, processes=None if threads is None else False
    )
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


def replicate_summary(deltas: Sequence[Mapping[str, float]]) -> dict[str, Any]:
    """Mean, standard deviation and 5-95% range of each delta over replicate seeds, and the share of seeds
    that are positive-sum: the seed noise a verdict must clear."""
    keys = list(deltas[0])
    out: dict[str, Any] = {
        "seeds": len(deltas),
        "positive_sum_share": float(np.mean([is_positive_sum(d) for d in deltas])),
    }
    for key in keys:
        values = np.array([d[key] for d in deltas], dtype=np.float64)
        out[key] = {
            "mean": float(values.mean()),
            "sd": float(values.std(ddof=1)) if values.size > 1 else 0.0,
            "p05": float(np.quantile(values, 0.05)),
            "p95": float(np.quantile(values, 0.95)),
        }
    return out


def run_replicates(
    scenario: Scenario, policy: Policy, seeds: Sequence[int], *, threads: int = 1
) -> list[dict[str, float]]:
    """Party deltas of the same scenario and policy under several seeds."""
    return [party_deltas(run_pair(scenario, policy, seed=seed, threads=threads)) for seed in seeds]


def ai_existence_effect(scenario: Scenario, *, threads: int = 1) -> dict[str, Any]:
    """Does the AI's existence leave people better off? The scenario with no policy, with the AI and with the
    AI never launched (same people and seed); each person's consumer surplus over the horizon, in cents.

    This is the test of the Braess-like paradox of Taitler & Ben-Porat (AAAI 2025): an option everyone is free
    to use can leave everyone worse off once its effect on the shared platform plays out.
    """
    never = scenario.model_copy(update={"run": scenario.run.model_copy(update={"ai_launch_week": scenario.run.weeks})})
    with_ai, without = (
        run_simulations(variant, [None], ["world"], threads=threads)[0] for variant in (scenario, never)
    )
    a, b = people_cents(with_ai), people_cents(without)
    person_weeks = scenario.run.agents * scenario.run.weeks
    return {
        "surplus_change_cents_per_person_week": float(a.sum() - b.sum()) / person_weeks,
        "share_better_off": float(np.mean(a > b)),
        "share_worse_off": float(np.mean(a < b)),
        "answers_change": float(with_ai.series["answers"].sum() - without.series["answers"].sum()),
        "knowledge_stock_change": float(with_ai.series["knowledge_stock"][-1] - without.series["knowledge_stock"][-1]),
        "ai_quality_at_horizon": float(with_ai.series["ai_quality"][-1]),
        "platform_quality_at_horizon": {
            "with_ai": float(with_ai.series["platform_quality"][-1]),
            "without_ai": float(without.series["platform_quality"][-1]),
        },
    }
