"""The credit policy: one validated document shared by the ledger service and the simulator."""

from __future__ import annotations

import itertools
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Annotated

from pydantic import Field, HttpUrl, field_validator

from datalever.economy.alignment import AlignmentPolicy
from datalever.economy.config import StrictModel, parse_toml, read_file
from datalever.economy.nudge import NudgePolicy
from datalever.economy.stipends import StipendCriteria

NonNegativeInt = Annotated[int, Field(ge=0)]
PositiveInt = Annotated[int, Field(gt=0)]
Probability = Annotated[float, Field(ge=0.0, le=1.0)]


class Expiry(StrEnum):
    """When a grant of credits expires, counted in calendar months from the month it was granted."""

    END_OF_MONTH = "end_of_month"
    END_OF_NEXT_MONTH = "end_of_next_month"
    NEVER = "never"


class CreditPolicy(StrictModel):
    value_cents: PositiveInt = Field(description="Published value of one credit, in cents.")


class AllowancePolicy(StrictModel):
    credits_per_month: NonNegativeInt
    expires: Expiry = Expiry.END_OF_NEXT_MONTH


class QueryPolicy(StrictModel):
    base_price: PositiveInt
    session_idle_minutes: PositiveInt = 30
    surge_after: PositiveInt = 5
    surge_multiplier: PositiveInt = 2


class FeedbackTier(StrictModel):
    min_reputation: Probability
    multiplier: NonNegativeInt


class FeedbackPolicy(StrictModel):
    base_reward: NonNegativeInt
    expires: Expiry = Expiry.NEVER
    daily_cap: PositiveInt = 10
    initial_reputation: Probability = 0.5
    reputation_gain: Probability = 0.1
    reputation_loss: Probability = 0.3
    tiers: list[FeedbackTier] = Field(min_length=1)

    @field_validator("tiers")
    @classmethod
    def _tiers_ascending_from_zero(cls, tiers: list[FeedbackTier]) -> list[FeedbackTier]:
        thresholds = [tier.min_reputation for tier in tiers]
        if thresholds[0] != 0.0:
            raise ValueError("the first tier must start at min_reputation = 0.0")
        if any(b <= a for a, b in itertools.pairwise(thresholds)):
            raise ValueError("tiers must be listed in strictly increasing min_reputation")
        return tiers


class FallbackPolicy(StrictModel):
    url: HttpUrl


class StipendPolicy(StrictModel):
    credits_per_month: NonNegativeInt
    max_per_member_per_month: NonNegativeInt
    expires: Expiry = Expiry.NEVER
    criteria: StipendCriteria = Field(default_factory=StipendCriteria)


class Policy(StrictModel):
    """A whole credit policy file. Sections map one-to-one to the TOML tables in policies/default.toml."""

    credit: CreditPolicy
    allowance: AllowancePolicy
    query: QueryPolicy
    feedback: FeedbackPolicy
    fallback: FallbackPolicy
    stipend: StipendPolicy
    nudge: NudgePolicy = NudgePolicy()
    alignment: AlignmentPolicy = AlignmentPolicy()


DEFAULT_POLICY_RESOURCE = "default.toml"


def load_policy(path: str | Path | None = None) -> Policy:
    """Load and validate a policy file; without a path, the packaged default policy."""
    if path is None:
        with resources.as_file(resources.files("datalever.economy") / DEFAULT_POLICY_RESOURCE) as default:
            return parse_toml(read_file(default), Policy, str(default))
    return parse_toml(read_file(path), Policy, str(path))
