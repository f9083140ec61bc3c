"""What an AI query costs: a base price, and a surge once a session runs long.

Long sessions cost more because they cost the operator more compute and because the fallback (the
platform's own search) is the better place for a long hunt.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from datalever.economy._arrays import FloatLike, IntLike, unwrap_int
from datalever.economy.policy import QueryPolicy


def query_price(position_in_session: IntLike, rules: QueryPolicy) -> Any:
    """Price in credits of the k-th query of a session (k counts from 1).

    Queries 1..surge_after cost `base_price`; every later query in the same session costs
    `base_price * surge_multiplier` (one step, not compounding).
    """
    k = np.asarray(position_in_session)
    if np.any(k < 1):
        raise ValueError("position_in_session counts from 1")
    price = np.where(k > rules.surge_after, rules.base_price * rules.surge_multiplier, rules.base_price)
    return unwrap_int(price.astype(np.int64))


def session_total_price(queries_in_session: IntLike, rules: QueryPolicy) -> Any:
    """Total credits for a session of n queries (0 for n = 0); the closed form of summing query_price."""
    n = np.asarray(queries_in_session, dtype=np.int64)
    if np.any(n < 0):
        raise ValueError("queries_in_session must be >= 0")
    regular = np.minimum(n, rules.surge_after)
    surged = n - regular
    total = regular * rules.base_price + surged * rules.base_price * rules.surge_multiplier
    return unwrap_int(total)


def next_session_position(previous_position: IntLike, minutes_since_previous: FloatLike, rules: QueryPolicy) -> Any:
    """Position of a new query in its session: 1 after an idle gap (or with no previous query), else k+1.

    A previous_position of 0 means "no previous query".
    """
    previous = np.asarray(previous_position, dtype=np.int64)
    gap = np.asarray(minutes_since_previous, dtype=np.float64)
    new_session = (previous == 0) | (gap >= rules.session_idle_minutes)
    return unwrap_int(np.where(new_session, 1, previous + 1))
