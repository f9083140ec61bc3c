"""The AI's nudge: answers that cite the platform thread they drew on, so people go back to the commons.

Deterministic and countable, so the service can decide per answer and the simulator per batch of answers
with the same rule: every `cite_every`-th answer a member receives carries a citation link to the platform.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from pydantic import AnyHttpUrl, Field

from datalever.economy._arrays import IntLike, unwrap_bool, unwrap_int
from datalever.economy.config import StrictModel


class NudgePolicy(StrictModel):
    """How often the AI refers a member to the knowledge platform it learned from."""

    enabled: bool = True
    cite_every: int = Field(default=5, gt=0, description="Every n-th AI answer to a member cites the platform.")
    url: AnyHttpUrl | None = Field(
        default=None,
        description="The platform a citation points to (a charge's `citation_url`); default: the fallback URL.",
    )


def cites_platform(answer_number: IntLike, rules: NudgePolicy) -> Any:
    """Whether a member's n-th AI answer (n counts from 1) carries a citation link to the platform."""
    if type(answer_number) is int:  # the service's one answer per charge: no array round trip
        if answer_number < 1:
            raise ValueError("answer_number counts from 1")
        return rules.enabled and answer_number % rules.cite_every == 0
    n = np.asarray(answer_number, dtype=np.int64)
    if np.any(n < 1):
        raise ValueError("answer_number counts from 1")
    return unwrap_bool((n % rules.cite_every == 0) & rules.enabled)


def citations_due(answers_before: IntLike, answers_now: IntLike, rules: NudgePolicy) -> Any:
    """Citations among answers number answers_before+1 .. answers_now: the batch form of cites_platform."""
    before, now = np.asarray(answers_before), np.asarray(answers_now)
    if before.dtype.kind not in "iu" or now.dtype.kind not in "iu":
        raise ValueError("answer counts must be integers")
    if np.any(now < before) or np.any(before < 0):
        raise ValueError("need 0 <= answers_before <= answers_now")
    if not rules.enabled:
        return unwrap_int(np.zeros_like(now))
    # Integer arrays keep their dtype (the simulator's int32 counters); the arithmetic is exact either way.
    return unwrap_int(now // rules.cite_every - before // rules.cite_every)
