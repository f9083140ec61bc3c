"""Credits to money: the published value of a credit turns outstanding credits into a liability."""

from __future__ import annotations

from typing import Any

import numpy as np

from datalever.economy._arrays import IntLike, unwrap_int
from datalever.economy.policy import CreditPolicy


def credits_to_cents(credits: IntLike, rules: CreditPolicy) -> Any:
    return unwrap_int(np.asarray(credits, dtype=np.int64) * rules.value_cents)
