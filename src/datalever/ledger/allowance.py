"""The monthly allowance: one grant per member and month, however often the run is repeated."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from datalever import canonical
from datalever.economy import allowance_due, expires_at, month_index
from datalever.ledger.errors import BadRequest, LedgerError
from datalever.ledger.models import MEMBERS
from datalever.ledger.posting import BatchItem, Idempotency, Ledger, Leg, Outcome, Posting, Serializer, request_hash
from datalever.ledger.values import NO_STATUS, Result, recorded

BATCH = 500


@dataclass(frozen=True)
class AllowanceRun(Result):
    month: str
    members_granted: int
    credits_granted: int
    already_granted: int
    expires_at: datetime | None
    not_due: int = 0  # members due nothing for the month (they joined after it)

    def body(self) -> dict[str, Any]:
        return self.record()


def parse_month(month: str, now: datetime, rule_expiry: Callable[[datetime], datetime | None]) -> datetime:
    """First instant of `month` (YYYY-MM); refuses future months and months whose allowance already expired."""
    try:
        year, number = canonical.month_parts(month)  # one spelling: the idempotency keys are built from it
    except canonical.CanonicalError as error:
        raise BadRequest(str(error)) from None
    start = datetime(year, number, 1, tzinfo=UTC)
    if month_index(start) > month_index(now):
        raise BadRequest(f"month {month} is in the future; the allowance is granted once the month has begun")
    expiry = rule_expiry(start)
    if expiry is not None and expiry <= now:
        raise BadRequest(f"the allowance for {month} would already have expired ({expiry.isoformat()})")
    return start


def run_allowance(
    ledger: Ledger,
    month: str,
    now: datetime | None = None,
    progress: Callable[[int], None] | None = None,
) -> AllowanceRun:
    """Grant every member the allowance due for `month`; members already granted for it are skipped.

    Members are granted `BATCH` at a time, each batch one transaction (`Ledger.execute_batch`): every grant
    still has its own idempotency key, so a run cut off half-way and repeated grants each member once.
    """
    now = now or ledger.clock()
    rules = ledger.policy.allowance
    start = parse_month(month, now, lambda moment: expires_at(rules.expires, moment))
    expiry = expires_at(rules.expires, start)
    target = month_index(start)
    granted = credits = already = not_due = 0
    last_id = 0
    while True:
        with ledger.engine.connect() as conn:
            rows = conn.execute(
                select(MEMBERS.c.id, MEMBERS.c.account_id, MEMBERS.c.joined_at)
                .where(MEMBERS.c.id > last_id)
                .order_by(MEMBERS.c.id)
                .limit(BATCH)
            ).all()
        if not rows:
            break
        last_id = rows[-1].id
        grants = []
        for row in rows:
            due = int(allowance_due(rules, month_index(row.joined_at), target))
            if due > 0:
                grants.append((due, _grant(ledger, row.id, row.account_id, month, due, expiry)))
            else:
                not_due += 1
        for (due, _item), outcome in zip(grants, ledger.execute_batch([item for _, item in grants], now), strict=True):
            if isinstance(outcome, LedgerError):
                raise outcome
            if outcome.replayed:
                already += 1
            else:
                granted += 1
                credits += due
        if progress is not None:
            progress(len(rows))
    return AllowanceRun(month, granted, credits, already, expiry, not_due)


def _grant(
    ledger: Ledger, member_id: int, account_id: int, month: str, amount: int, expiry: datetime | None
) -> BatchItem:
    """One member's grant for the month, as a batch item: its key makes a second run replay, not grant."""
    idem = Idempotency("allowance", f"{member_id}:{month}", request_hash("allowance", member_id, month))

    def work(posting: Posting) -> tuple[int, dict[str, Any]]:
        posting.post([Leg(ledger.issuance, account_id, amount, "allowance", expires_at=expiry)])
        return NO_STATUS, {"member_id": member_id, "month": month, "amount": amount}

    return BatchItem(idem, "allowance", work, member_id)


def run_allowance_once(ledger: Ledger, idem: Idempotency, month: str, reply: Serializer = recorded) -> Outcome:
    """The run behind an HTTP request: a retried request returns the first run's figures."""
    stored = ledger.find(idem)
    if stored is not None:
        return stored
    result = run_allowance(ledger, month)
    return ledger.execute(idem, "allowance.run", lambda _posting: result, reply=reply)
