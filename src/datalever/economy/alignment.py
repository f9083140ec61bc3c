"""Plural data alignment: thresholds (a policy section) and the pure rules that score them.

A member of a coalition is *aligned* with an AI system when all three hold:

* aware: they opened their flow report within `aware_within_days`;
* can reason: a what-if for that system exists for their coalition (no older than `whatif_within_days`);
* agency: they can change the coalition's data-use preferences for fewer than `max_change_cost` credits.

A coalition's alignment score is the share of its members who are aligned. Across coalitions, the
inequality of scores is a Gini coefficient and the concentration of aligned members a
Herfindahl-Hirschman index. All rules accept scalars or NumPy arrays, like the other economy rules.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from pydantic import Field

from datalever.economy.config import StrictModel


class AlignmentPolicy(StrictModel):
    aware_within_days: int = Field(90, gt=0, description="Opened the flow report within this many days.")
    whatif_within_days: int | None = Field(
        365, gt=0, description="A what-if for the system exists, at most this many days old (none: any age)."
    )
    max_change_cost: int = Field(
        100, ge=0, description="Credits; members who can change their flow for less than this have agency."
    )


def _bool(value: Any) -> NDArray[np.bool_] | bool:
    array = np.asarray(value, dtype=bool)
    return bool(array) if array.ndim == 0 else array


def is_aware(days_since_report_view: ArrayLike, policy: AlignmentPolicy) -> NDArray[np.bool_] | bool:
    """Opened the flow report within the window (never opened: pass `inf` or NaN)."""
    days = np.asarray(days_since_report_view, dtype=float)
    with np.errstate(invalid="ignore"):
        return _bool((days >= 0) & (days <= policy.aware_within_days))


def can_reason(days_since_whatif: ArrayLike, policy: AlignmentPolicy) -> NDArray[np.bool_] | bool:
    """A what-if for the system exists (age in days; none: `inf` or NaN) and is recent enough."""
    days = np.asarray(days_since_whatif, dtype=float)
    limit = np.inf if policy.whatif_within_days is None else policy.whatif_within_days
    with np.errstate(invalid="ignore"):
        return _bool(np.isfinite(days) & (days >= 0) & (days <= limit))


def has_agency(change_cost: ArrayLike, policy: AlignmentPolicy) -> NDArray[np.bool_] | bool:
    """Can reconfigure the flow at a cost (credits) strictly below the policy's threshold."""
    return _bool(np.asarray(change_cost, dtype=float) < policy.max_change_cost)


def aligned(aware: ArrayLike, reason: ArrayLike, agency: ArrayLike) -> NDArray[np.bool_] | bool:
    return _bool(np.logical_and(np.logical_and(aware, reason), agency))


def alignment_score(is_aligned: ArrayLike) -> float:
    """Share of members who meet all three thresholds."""
    values = np.asarray(is_aligned, dtype=bool)
    if values.size == 0:
        raise ValueError("a coalition without members has no alignment score")
    return float(values.mean())


def gini(values: ArrayLike) -> float:
    """Gini coefficient (mean absolute difference / twice the mean); 0 = equal, (n-1)/n = one holds all."""
    x = np.sort(np.asarray(values, dtype=float).ravel())
    if x.size == 0:
        raise ValueError("Gini coefficient of no values is undefined")
    if np.any(x < 0):
        raise ValueError("Gini coefficient needs non-negative values")
    total = x.sum()
    if total == 0:
        return 0.0
    n = x.size
    ranks = np.arange(1, n + 1)
    return float((2.0 * np.sum(ranks * x)) / (n * total) - (n + 1.0) / n)


def hhi(values: ArrayLike) -> float:
    """Herfindahl-Hirschman index of shares (sum of squared shares): 1/n = even, 1 = all in one."""
    x = np.asarray(values, dtype=float).ravel()
    if x.size == 0 or np.any(x < 0):
        raise ValueError("HHI needs at least one non-negative value")
    total = x.sum()
    if total == 0:
        raise ValueError("HHI is undefined when every value is zero")
    shares = x / total
    return float(np.sum(shares * shares))
