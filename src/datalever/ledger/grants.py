"""Grants from the issuance source to a member: the way other parts pay credits (e.g. stipends)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from datalever.economy import Expiry, expires_at
from datalever.ledger.posting import Idempotency, Ledger, Leg, Outcome, Posting, Serializer
from datalever.ledger.values import Result, recorded


@dataclass(frozen=True)
class Grant(Result):
    operation_id: uuid.UUID
    member_id: int
    amount: int
    source: str
    expires_at: datetime | None
    balance: int


def grant_credits(
    ledger: Ledger,
    idem: Idempotency,
    member_id: int,
    amount: int,
    source: str,
    expires: Expiry = Expiry.NEVER,
    kind: str = "grant",
    reply: Serializer = recorded,
) -> Outcome:
    """Issue `amount` new credits to a member as a lot labelled `source`, expiring per `expires`.

    `kind` names the transfer (e.g. "grant" for an admin grant, "stipend" for a platform stipend).
    """

    def work(posting: Posting) -> Grant:
        member = posting.lock_member(member_id)
        expiry = expires_at(expires, posting.now)
        posting.post([Leg(ledger.issuance, member.account_id, amount, kind, source=source, expires_at=expiry)])
        return Grant(posting.operation_id, member_id, amount, source, expiry, posting.balance(member.account_id))

    return ledger.execute(idem, kind, work, member_id=member_id, reply=reply)
