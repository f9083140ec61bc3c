"""Credits to money: the published value of a credit turns outstanding credits into a liability."""

from __future__ import annotations

from typing import Any

import numpy as np

from datalever.economy._arrays import FloatLike, IntLike, unwrap_float, unwrap_int
from datalever.economy.policy import CreditPolicy


def credits_to_cents(credits: IntLike | FloatLike, rules: CreditPolicy | int) -> Any:
    """Value in cents of `credits` at the published value (`rules`, or the value in cents of one credit).

    Whole credits (the ledger's) give exact whole cents; the simulator's expected counts (floats) give floats.
    """
    value_cents = rules if isinstance(rules, int) else rules.value_cents
    if isinstance(value_cents, bool) or value_cents < 0:
        raise ValueError(f"a credit's value in cents must be a non-negative whole number, got {value_cents!r}")
    amounts = np.asarray(credits)
    if amounts.dtype.kind in "iu":
        return unwrap_int(amounts.astype(np.int64) * value_cents)
    if amounts.dtype.kind == "f":
        return unwrap_float(amounts * float(value_cents))
    raise ValueError(f"credits must be numbers, got {amounts.dtype}")
