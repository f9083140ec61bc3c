"""Charging a query: the hot path. One short transaction that locks only the member being charged."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from datalever.economy import cites_platform, next_session_position, query_price
from datalever.ledger.batching import Batcher
from datalever.ledger.posting import BatchItem, Idempotency, Ledger, Leg, Outcome, Posting, Serializer, Work
from datalever.ledger.values import Result, recorded


@dataclass(frozen=True)
class Charge(Result):
    """A charged query: its price from the member's session position, and what the member has left."""

    query_id: uuid.UUID
    member_id: int
    price: int
    position_in_session: int
    balance: int
    reference: str | None
    charged_at: datetime
    citation_url: str | None
    """The platform this answer should cite (the policy's nudge), or None when no citation is due."""

    def record(self) -> dict[str, Any]:  # written out: this runs for every charge
        return {
            "query_id": str(self.query_id),
            "member_id": self.member_id,
            "price": self.price,
            "position_in_session": self.position_in_session,
            "balance": self.balance,
            "reference": self.reference,
            "charged_at": self.charged_at.isoformat(),
            "citation_url": self.citation_url,
        }


def charge_work(ledger: Ledger, member_id: int, reference: str | None = None) -> Work:
    """The posting of one charge: price from the member's session position, paid to the spend sink.

    The session position follows `next_session_position`: a query after an idle gap starts a new session.
    The member's answers are counted, and every `cite_every`-th one carries the nudge's citation URL.
    """
    rules = ledger.policy.query
    nudge = ledger.policy.nudge
    platform = str(nudge.url or ledger.policy.fallback.url)

    def work(posting: Posting) -> Charge:
        member = posting.lock_member(member_id)
        minutes = 0.0
        if member.last_query_at is not None:
            minutes = (posting.now - member.last_query_at).total_seconds() / 60.0
        previous = member.session_position if member.last_query_at is not None else 0
        position = int(next_session_position(previous, minutes, rules))
        price = int(query_price(position, rules))
        posting.post([Leg(member.account_id, ledger.spend, price, "query")])
        answers = member.answers + 1
        posting.update_member(member_id, session_position=position, last_query_at=posting.now, answers=answers)
        balance = posting.balance(member.account_id)
        assert price > 0 and balance >= 0
        citation = platform if cites_platform(answers, nudge) else None
        return Charge(posting.operation_id, member_id, price, position, balance, reference, posting.now, citation)

    return work


def charge_item(
    ledger: Ledger, idem: Idempotency, member_id: int, reference: str | None = None, reply: Serializer = recorded
) -> BatchItem:
    """One charge as an item of a batch."""
    return BatchItem(idem, "query", charge_work(ledger, member_id, reference), member_id, reply)


def charge_query(
    ledger: Ledger,
    idem: Idempotency,
    member_id: int,
    reference: str | None = None,
    batcher: Batcher | None = None,
    reply: Serializer = recorded,
) -> Outcome:
    """Charge one AI query; InsufficientCredits (nothing charged) if the member is short.

    With a `batcher`, the charge shares a transaction with other concurrent charges (same effects).
    """
    if batcher is not None:
        return batcher.submit(charge_item(ledger, idem, member_id, reference, reply))
    return ledger.execute(idem, "query", charge_work(ledger, member_id, reference), member_id=member_id, reply=reply)


async def charge_query_async(
    ledger: Ledger,
    idem: Idempotency,
    member_id: int,
    batcher: Batcher,
    reference: str | None = None,
    reply: Serializer = recorded,
) -> Outcome:
    """`charge_query` for the event loop: the request waits on the batch without holding a thread."""
    return await batcher.submit_async(charge_item(ledger, idem, member_id, reference, reply))
