"""Grants from the issuance source to a member: the way other parts pay credits (e.g. stipends)."""

from __future__ import annotations

from typing import Any

from datalever.economy import Expiry, expires_at
from datalever.ledger.posting import Idempotency, Ledger, Leg, Outcome, Posting


def grant_credits(
    ledger: Ledger,
    idem: Idempotency,
    member_id: int,
    amount: int,
    source: str,
    expires: Expiry = Expiry.NEVER,
    kind: str = "grant",
) -> Outcome:
    """Issue `amount` new credits to a member as a lot labelled `source`, expiring per `expires`.

    `kind` names the transfer (e.g. "grant" for an admin grant, "stipend" for a platform stipend).
    """

    def work(posting: Posting) -> tuple[int, dict[str, Any]]:
        member = posting.lock_member(member_id)
        expiry = expires_at(expires, posting.now)
        posting.post([Leg(ledger.issuance, member.account_id, amount, kind, source=source, expires_at=expiry)])
        return 201, {
            "operation_id": str(posting.operation_id),
            "member_id": member_id,
            "amount": amount,
            "source": source,
            "expires_at": expiry.isoformat() if expiry else None,
            "balance": posting.balance(member.account_id),
        }

    return ledger.execute(idem, kind, work, member_id=member_id)
