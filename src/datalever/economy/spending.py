"""The spend order: which credits a member spends first.

Credits that expire soonest go first (so as few as possible expire unspent), never-expiring credits last,
and among credits with the same expiry the oldest first. The ledger sorts a member's lots with it (expiry
an instant, age the lot id) and the simulator its credit buckets (expiry a month index, one bucket each).
"""

from __future__ import annotations

from typing import TypeVar

Expiry = TypeVar("Expiry")


def spend_order_key(expires: Expiry | None, age: int = 0) -> tuple[bool, Expiry | None, int]:
    """Sort key of the spend order: soonest expiry first, never-expiring (None) last, then the oldest (lowest
    `age`) first. Expiries of one sort must be comparable with each other (instants, or month indices)."""
    return (expires is None, expires, age)
