"""Grants of credits: how much allowance is due, and when each kind of grant expires.

Allowance credits expire so the liability an operator carries stays bounded; earned credits (feedback,
stipends) do not by default, because they pay for work already done.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import numpy as np

from datalever.economy._arrays import IntLike, unwrap_int
from datalever.economy.policy import AllowancePolicy, Expiry

_MONTHS_UNTIL_EXPIRY: dict[Expiry, int | None] = {
    Expiry.END_OF_MONTH: 0,
    Expiry.END_OF_NEXT_MONTH: 1,
    Expiry.NEVER: None,
}


def months_of_validity(rule: Expiry) -> int | None:
    """Whole months after the grant month during which a grant stays spendable (None: forever)."""
    return _MONTHS_UNTIL_EXPIRY[rule]


def expires_at(rule: Expiry, granted_at: datetime) -> datetime | None:
    """The instant a grant expires (the first moment it is no longer spendable), or None.

    A grant made any time in month M with validity v expires at 00:00 UTC on the first day of M + v + 1.
    """
    extra = months_of_validity(rule)
    if extra is None:
        return None
    month_index = granted_at.year * 12 + (granted_at.month - 1) + extra + 1
    return datetime(month_index // 12, month_index % 12 + 1, 1, tzinfo=UTC)


def expiry_month_index(rule: Expiry, grant_month_index: IntLike) -> Any:
    """Vectorized form for month-indexed models: index of the first month the grant is no longer valid.

    Returns -1 where the grant never expires.
    """
    extra = months_of_validity(rule)
    months = np.asarray(grant_month_index, dtype=np.int64)
    if extra is None:
        return unwrap_int(np.full_like(months, -1))
    return unwrap_int(months + extra + 1)


def allowance_due(rules: AllowancePolicy, joined_month_index: IntLike, month_index: IntLike) -> Any:
    """Allowance owed to a member for a month: the full monthly amount once they have joined, else 0.

    Month indices are `year * 12 + month - 1`; a member who joins mid-month gets that month's allowance.
    """
    joined = np.asarray(joined_month_index, dtype=np.int64)
    month = np.asarray(month_index, dtype=np.int64)
    return unwrap_int(np.where(joined <= month, rules.credits_per_month, 0).astype(np.int64))


def month_index(moment: datetime) -> int:
    """Calendar month as one integer, so month arithmetic is plain addition."""
    return moment.year * 12 + moment.month - 1
