"""Members: a person with a bounded account that receives the allowance and pays for queries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update

from datalever.ledger.errors import Conflict
from datalever.ledger.models import ACCOUNTS, MEMBERS
from datalever.ledger.posting import Idempotency, Ledger, Outcome, Posting, Serializer
from datalever.ledger.values import Result, recorded


@dataclass(frozen=True)
class Member(Result):
    id: int
    external_ref: str | None
    reputation: float
    joined_at: datetime


def member_body(member_id: int, external_ref: str | None, reputation: float, joined_at: datetime) -> dict[str, Any]:
    return Member(member_id, external_ref, reputation, joined_at).record()


def create_member(
    ledger: Ledger, idem: Idempotency, external_ref: str | None = None, reply: Serializer = recorded
) -> Outcome:
    """Open a member and its account (balance 0 until the allowance runs or credits are granted)."""

    def work(posting: Posting) -> Member:
        conn = posting.conn
        if external_ref is not None:
            taken = conn.execute(select(MEMBERS.c.id).where(MEMBERS.c.external_ref == external_ref)).first()
            if taken is not None:
                raise Conflict(f"a member with external_ref {external_ref!r} already exists (id {taken.id})")
        account_id = conn.execute(
            insert(ACCOUNTS)
            .values(code=f"member:new:{posting.operation_id}", kind="member", bounded=True, created_at=posting.now)
            .returning(ACCOUNTS.c.id)
        ).scalar_one()
        reputation = ledger.policy.feedback.initial_reputation
        member_id = conn.execute(
            insert(MEMBERS)
            .values(account_id=account_id, external_ref=external_ref, reputation=reputation, joined_at=posting.now)
            .returning(MEMBERS.c.id)
        ).scalar_one()
        conn.execute(update(ACCOUNTS).where(ACCOUNTS.c.id == account_id).values(code=f"member:{member_id}"))
        posting.member_id = member_id
        return Member(member_id, external_ref, reputation, posting.now)

    return ledger.execute(idem, "member.create", work, reply=reply)
