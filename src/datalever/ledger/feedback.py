"""Feedback on a charged query, its spam filter, and the moderation verdict that pays for it.

Spam filter: at most `feedback.daily_cap` submissions per member per UTC day, and the same text (after
NFKC, dropping zero-width characters, folding case and whitespace) is refused if the member already sent
it. A verdict is final: an accepted piece pays `feedback_reward(reputation before the verdict)` as a lot
from the issuance source, and either way the reputation moves by `reputation_after`. Rewards expire per
`feedback.expires` (never, by default).
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, insert, select, update

from datalever.canonical import fold_text
from datalever.economy import expires_at, feedback_reward, reputation_after
from datalever.ledger.errors import BadRequest, Conflict, NotFound, RateLimited
from datalever.ledger.models import FEEDBACK, OPERATIONS
from datalever.ledger.posting import Idempotency, Ledger, Leg, Outcome, Posting, Serializer
from datalever.ledger.values import Result, recorded


def normalise(text: str) -> str:
    """The text the duplicate check compares: NFKC, zero-width characters dropped, case-folded, whitespace
    collapsed (`datalever.canonical.fold_text`), so full-width or invisibly padded copies are duplicates."""
    return fold_text(text)


def _day_start(moment: datetime) -> datetime:
    return moment.replace(hour=0, minute=0, second=0, microsecond=0)


@dataclass(frozen=True)
class Feedback(Result):
    """Feedback as stored: pending until an admin or operator records a verdict."""

    id: int
    member_id: int
    query_id: uuid.UUID
    status: str
    reward: int | None
    created_at: datetime

    @classmethod
    def from_row(cls, row: Any) -> Feedback:
        return cls(row.id, row.member_id, row.query_id, row.status, row.reward, row.created_at)


@dataclass(frozen=True)
class Verdict(Result):
    feedback_id: int
    member_id: int
    accepted: bool
    reward: int
    reputation_before: float
    reputation: float
    balance: int


def feedback_body(row: Any) -> dict[str, Any]:
    return Feedback.from_row(row).record()


def submit_feedback(
    ledger: Ledger, idem: Idempotency, member_id: int, query_id: uuid.UUID, text: str, reply: Serializer = recorded
) -> Outcome:
    """Record feedback on one of the member's charged queries, pending moderation. Moves no credits."""
    rules = ledger.policy.feedback
    cleaned = normalise(text)
    if not cleaned:
        raise BadRequest("feedback text is empty")
    digest = hashlib.sha256(cleaned.encode("utf-8")).hexdigest()

    def work(posting: Posting) -> Feedback:
        posting.lock_member(member_id)  # serialises this member's submissions, so the cap holds under load
        conn = posting.conn
        query = conn.execute(
            select(OPERATIONS.c.member_id).where(OPERATIONS.c.id == query_id, OPERATIONS.c.kind == "query")
        ).first()
        if query is None or query.member_id != member_id:
            raise NotFound(f"query {query_id} is not a charged query of member {member_id}")
        if conn.execute(select(FEEDBACK.c.id).where(FEEDBACK.c.query_id == query_id)).first() is not None:
            raise Conflict(f"feedback on query {query_id} was already submitted")
        today = _day_start(posting.now)
        sent_today = conn.execute(
            select(func.count()).where(
                FEEDBACK.c.member_id == member_id,
                FEEDBACK.c.created_at >= today,
                FEEDBACK.c.created_at < today + timedelta(days=1),
            )
        ).scalar_one()
        if sent_today >= rules.daily_cap:
            raise RateLimited(f"daily feedback cap of {rules.daily_cap} reached; try again after 00:00 UTC")
        duplicate = conn.execute(
            select(FEEDBACK.c.id).where(FEEDBACK.c.member_id == member_id, FEEDBACK.c.text_hash == digest)
        ).first()
        if duplicate is not None:
            raise Conflict(f"the same feedback text was already submitted (feedback {duplicate.id})")
        row = conn.execute(
            insert(FEEDBACK)
            .values(
                member_id=member_id,
                query_id=query_id,
                text=text,
                text_hash=digest,
                status="pending",
                created_at=posting.now,
            )
            .returning(FEEDBACK)
        ).one()
        return Feedback.from_row(row)

    return ledger.execute(idem, "feedback", work, member_id=member_id, reply=reply)


def record_verdict(
    ledger: Ledger, idem: Idempotency, feedback_id: int, accepted: bool, reply: Serializer = recorded
) -> Outcome:
    """Accept (pay per reputation, raise reputation) or reject (lower reputation) pending feedback, once."""
    rules = ledger.policy.feedback

    def work(posting: Posting) -> Verdict:
        conn = posting.conn
        owner = conn.execute(select(FEEDBACK.c.member_id).where(FEEDBACK.c.id == feedback_id)).scalar()
        if owner is None:
            raise NotFound(f"feedback {feedback_id} does not exist")
        member = posting.lock_member(owner)
        posting.member_id = owner
        status = conn.execute(select(FEEDBACK.c.status).where(FEEDBACK.c.id == feedback_id)).scalar_one()
        if status != "pending":
            raise Conflict(f"feedback {feedback_id} was already moderated ({status})")
        reward = int(feedback_reward(member.reputation, rules)) if accepted else 0
        reputation = float(reputation_after(member.reputation, accepted, rules))
        if reward > 0:
            expiry = expires_at(rules.expires, posting.now)
            posting.post([Leg(ledger.issuance, member.account_id, reward, "feedback", expires_at=expiry)])
        posting.update_member(owner, reputation=reputation)
        conn.execute(
            update(FEEDBACK)
            .where(FEEDBACK.c.id == feedback_id)
            .values(
                status="accepted" if accepted else "rejected",
                reward=reward,
                reputation_before=member.reputation,
                reputation_after=reputation,
                moderated_at=posting.now,
            )
        )
        balance = posting.balance(member.account_id)
        return Verdict(feedback_id, owner, accepted, reward, member.reputation, reputation, balance)

    return ledger.execute(idem, "feedback.verdict", work, reply=reply)
