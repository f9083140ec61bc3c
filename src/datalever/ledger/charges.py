"""Charging a query: the hot path. One short transaction that locks only the member being charged."""

from __future__ import annotations

from typing import Any

from datalever.economy import next_session_position, query_price
from datalever.ledger.batching import Batcher
from datalever.ledger.posting import BatchItem, Idempotency, Ledger, Leg, Outcome, Posting, Work


def charge_work(ledger: Ledger, member_id: int, reference: str | None = None) -> Work:
    """The posting of one charge: price from the member's session position, paid to the spend sink.

    The session position follows `next_session_position`: a query after an idle gap starts a new session.
    """
    rules = ledger.policy.query

    def work(posting: Posting) -> tuple[int, dict[str, Any]]:
        member = posting.lock_member(member_id)
        minutes = 0.0
        if member.last_query_at is not None:
            minutes = (posting.now - member.last_query_at).total_seconds() / 60.0
        previous = member.session_position if member.last_query_at is not None else 0
        position = int(next_session_position(previous, minutes, rules))
        price = int(query_price(position, rules))
        posting.post([Leg(member.account_id, ledger.spend, price, "query")])
        posting.update_member(member_id, session_position=position, last_query_at=posting.now)
        return 201, {
            "query_id": str(posting.operation_id),
            "member_id": member_id,
            "price": price,
            "position_in_session": position,
            "balance": posting.balance(member.account_id),
            "reference": reference,
            "charged_at": posting.now.isoformat(),
        }

    return work


def charge_query(
    ledger: Ledger,
    idem: Idempotency,
    member_id: int,
    reference: str | None = None,
    batcher: Batcher | None = None,
) -> Outcome:
    """Charge one AI query; InsufficientCredits (nothing charged) if the member is short.

    With a `batcher`, the charge shares a transaction with other concurrent charges (same effects).
    """
    work = charge_work(ledger, member_id, reference)
    if batcher is not None:
        return batcher.submit(BatchItem(idem, "query", work, member_id))
    return ledger.execute(idem, "query", work, member_id=member_id)


async def charge_query_async(
    ledger: Ledger, idem: Idempotency, member_id: int, batcher: Batcher, reference: str | None = None
) -> Outcome:
    """`charge_query` for the event loop: the request waits on the batch without holding a thread."""
    return await batcher.submit_async(BatchItem(idem, "query", charge_work(ledger, member_id, reference), member_id))
