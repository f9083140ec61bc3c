"""Stages 3 and 4: community pools (monthly budget and its split) and credit votes (cost, cap, quorum).

The `[pools]` policy section and the pure rules over it. Credits are integers everywhere: the budget
split uses the largest-remainder method so the parts always add up to the budget exactly; vote costs
are whole credits. The valuation methods that produce the weights are in `economy.valuation`, the
voting rules that allocate a pool (Method of Equal Shares, quadratic funding) in `economy.voting`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from enum import StrEnum
from fractions import Fraction
from typing import Annotated

from pydantic import Field, model_validator

from datalever.economy.config import StrictModel

NonNegativeInt = Annotated[int, Field(ge=0)]
PositiveInt = Annotated[int, Field(gt=0)]


class BudgetKind(StrEnum):
    FIXED = "fixed"
    SHARE_OF_SPEND = "share_of_spend"


class ValuationMethod(StrEnum):
    TOKEN_SHARE = "token_share"
    LEAVE_ONE_OUT = "leave_one_out"
    SHAPLEY = "shapley"


class RangePoint(StrEnum):
    """Which point of a catalog interval (an unstated share) the allocation uses."""

    LOW = "low"
    MIDPOINT = "midpoint"
    HIGH = "high"


class VoteCost(StrEnum):
    LINEAR = "linear"
    QUADRATIC = "quadratic"


class VoteCreditsTo(StrEnum):
    POOL = "pool"
    BURN = "burn"


class SpendingRule(StrEnum):
    EQUAL_SHARES = "equal_shares"
    QUADRATIC_FUNDING = "quadratic_funding"


class ValuationPolicy(StrictModel):
    method: ValuationMethod = Field(ValuationMethod.SHAPLEY, description="How community value is estimated.")
    model: str = Field("llama-65b", min_length=1, description="Catalog model whose training data is valued.")
    fit: str = Field("chinchilla", pattern=r"^(chinchilla|besiroglu)$", description="Scaling-law fit (loss methods).")
    range_point: RangePoint = Field(RangePoint.MIDPOINT, description="Point of an interval share the split uses.")
    shapley_exact_max: int = Field(15, ge=1, le=20, description="Exact Shapley up to this many communities.")
    shapley_samples: int = Field(2000, ge=10, le=1_000_000, description="Permutations sampled beyond that.")
    shapley_confidence: float = Field(0.95, gt=0.0, lt=1.0, description="Confidence of the stated error bound.")
    seed: int = Field(0, ge=0, description="Seed of the sampled Shapley estimate (reproducible runs).")


class VotingPolicy(StrictModel):
    cost: VoteCost = Field(VoteCost.QUADRATIC, description="n votes cost n x price (linear) or n^2 x price.")
    credits_per_vote: PositiveInt = Field(1, description="Price unit: the first vote costs this many credits.")
    max_votes_per_member: PositiveInt = Field(10, description="Cap on one member's votes per proposal option.")
    window_days: PositiveInt = Field(14, description="Default voting window of a proposal, in days.")
    quorum_voters: NonNegativeInt = Field(1, description="At least this many distinct members must vote.")
    quorum_percent: int = Field(0, ge=0, le=100, description="... and at least this share of the members.")
    credits_to: VoteCreditsTo = Field(VoteCreditsTo.POOL, description="Where the credits spent on votes go.")
    spending_rule: SpendingRule = Field(SpendingRule.EQUAL_SHARES, description="How pool-spending votes allocate.")


class PoolsPolicy(StrictModel):
    """The `[pools]` section: optional in a policy file; these defaults apply when it is absent."""

    budget: BudgetKind = Field(BudgetKind.FIXED, description="A fixed monthly budget or a share of query spend.")
    budget_credits: NonNegativeInt = Field(10_000, description="Monthly budget when budget = 'fixed'.")
    spend_share_percent: int = Field(10, ge=0, le=100, description="Share of the month's query spend, in percent.")
    operator: str = Field("Ai2", min_length=1, description="Operator funding the pools (a crawler-list operator).")
    funding_counts_months: PositiveInt = Field(
        12, description="A funding transfer names its operator a pool funder for this many months."
    )
    valuation: ValuationPolicy = Field(default_factory=ValuationPolicy)
    voting: VotingPolicy = Field(default_factory=VotingPolicy)

    @model_validator(mode="after")
    def _budget_is_set(self) -> PoolsPolicy:
        if self.budget is BudgetKind.SHARE_OF_SPEND and self.spend_share_percent == 0:
            raise ValueError("budget = 'share_of_spend' needs spend_share_percent > 0")
        return self


def monthly_budget(policy: PoolsPolicy, credits_spent_on_queries: int) -> int:
    """Credits the operator puts into the pools for a month."""
    assert credits_spent_on_queries >= 0
    if policy.budget is BudgetKind.FIXED:
        return policy.budget_credits
    return credits_spent_on_queries * policy.spend_share_percent // 100


def split_budget(budget: int, weights: Mapping[str, float | Fraction]) -> dict[str, int]:
    """Split an integer budget in proportion to non-negative weights, parts summing to the budget exactly.

    Largest-remainder (Hamilton) apportionment; equal remainders go to the id that sorts first, so the split
    is deterministic. All-zero weights give nothing to anyone (the budget stays with the operator).
    """
    if budget < 0:
        raise ValueError("budget must be >= 0")
    if any(w < 0 for w in weights.values()):
        raise ValueError("weights must be >= 0")
    total = sum(Fraction(w) for w in weights.values())
    if total == 0 or budget == 0:
        return dict.fromkeys(weights, 0)
    exact = {k: Fraction(w) * budget / total for k, w in weights.items()}
    parts = {k: int(v) for k, v in exact.items()}
    left = budget - sum(parts.values())
    order = sorted(exact, key=lambda k: (-(exact[k] - parts[k]), k))
    for key in order[:left]:
        parts[key] += 1
    assert sum(parts.values()) == budget
    return parts


def vote_cost(votes: int, policy: VotingPolicy) -> int:
    """Credits that `votes` votes on one option cost in total (0 votes cost 0)."""
    if votes < 0:
        raise ValueError("votes must be >= 0")
    units = votes if policy.cost is VoteCost.LINEAR else votes * votes
    return units * policy.credits_per_vote


def additional_cost(held: int, more: int, policy: VotingPolicy) -> int:
    """What `more` votes cost a member who already holds `held` on the same option."""
    if more <= 0:
        raise ValueError("a vote buys at least one vote")
    return vote_cost(held + more, policy) - vote_cost(held, policy)


def within_cap(held: int, more: int, policy: VotingPolicy) -> bool:
    return held + more <= policy.max_votes_per_member


def quorum_met(voters: int, members: int, policy: VotingPolicy) -> bool:
    """Enough distinct members voted: at least `quorum_voters` and `quorum_percent` of the members."""
    if voters < 0 or members < 0 or voters > members:
        raise ValueError("0 <= voters <= members")
    return voters >= policy.quorum_voters and voters * 100 >= policy.quorum_percent * members and voters > 0


def data_use_adopted(votes_for: int, votes_against: int, voters: int, members: int, policy: VotingPolicy) -> bool:
    """A data-use change is adopted with a quorum and strictly more votes for than against."""
    return quorum_met(voters, members, policy) and votes_for > votes_against


def funding_operators(fundings: Sequence[tuple[str, int]], month: int, policy: PoolsPolicy) -> list[str]:
    """Operators whose funding reached the pool within `funding_counts_months` before `month` (inclusive).

    `fundings` are (operator, month index) of real funding transfers with a positive amount.
    """
    first = month - policy.funding_counts_months + 1
    return sorted({op for op, m in fundings if first <= m <= month})
