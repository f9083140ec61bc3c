"""Expiry: move what is left of expired lots to the expiry sink. Spent credits are never touched.

Each account is handled in its own short transaction under its lock; the lot remainders are re-read under
the lock, so a run racing with charges or with another run expires each credit exactly once.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from datalever.ledger.models import LOTS
from datalever.ledger.posting import Idempotency, Ledger, Leg, Outcome, Posting, Serializer, request_hash
from datalever.ledger.values import NO_STATUS, Result, recorded


@dataclass(frozen=True)
class ExpiryRun(Result):
    accounts: int
    lots: int
    credits: int

    def body(self) -> dict[str, Any]:
        return self.record()


class _NothingLeft(Exception):
    """Another run or a spend emptied the lots first: roll back, record nothing."""


def run_expiry(ledger: Ledger, now: datetime | None = None) -> ExpiryRun:
    """Post one expiry operation per account holding lots whose `expires_at` is at or before `now`."""
    now = now or ledger.clock()
    with ledger.engine.connect().execution_options(readonly=True) as conn:
        rows = conn.execute(
            select(LOTS.c.account_id, LOTS.c.id).where(
                LOTS.c.remaining > 0, LOTS.c.expires_at.is_not(None), LOTS.c.expires_at <= now
            )
        ).all()
    by_account: dict[int, list[int]] = defaultdict(list)
    for row in rows:
        by_account[row.account_id].append(row.id)
    accounts = lots = credits = 0
    for account_id, lot_ids in sorted(by_account.items()):
        expired = _expire_account(ledger, account_id, sorted(lot_ids), now)
        if expired:
            accounts += 1
            lots += len(expired)
            credits += sum(expired.values())
    return ExpiryRun(accounts, lots, credits)


def _expire_account(ledger: Ledger, account_id: int, lot_ids: list[int], now: datetime) -> dict[int, int]:
    key = f"{account_id}:{now.isoformat()}"
    idem = Idempotency("expiry", key, request_hash("expiry", account_id, now.isoformat()))
    expired: dict[int, int] = {}

    def work(posting: Posting) -> tuple[int, dict[str, Any]]:
        expired.clear()  # a retried attempt starts afresh
        posting.lock_accounts([account_id])
        remaining = posting.conn.execute(
            select(LOTS.c.id, LOTS.c.remaining).where(LOTS.c.id.in_(lot_ids), LOTS.c.remaining > 0)
        ).all()
        legs = [Leg(account_id, ledger.expiry, row.remaining, "expiry", debit_lot=row.id) for row in remaining]
        if not legs:
            raise _NothingLeft
        posting.post(legs)
        expired.update({row.id: row.remaining for row in remaining})
        return NO_STATUS, {"account_id": account_id, "lots": expired}

    try:
        outcome = ledger.execute(idem, "expiry", work, now=now)
    except _NothingLeft:
        return {}
    return {} if outcome.replayed else expired


def run_expiry_once(ledger: Ledger, idem: Idempotency, reply: Serializer = recorded) -> Outcome:
    """The run behind an HTTP request: a retried request returns the first run's figures."""
    stored = ledger.find(idem)
    if stored is not None:
        return stored
    result = run_expiry(ledger)
    return ledger.execute(idem, "expiry.run", lambda _posting: result, reply=reply)
