"""Storage of the data-levers directory: submit (pending), moderate (approve / reject with a reason), upvote,
search by text, lever and tag, and export.

Entries are small and few (hundreds), so search filters in Python after one indexed read by status; the
text is never interpreted, only shown escaped.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from datalever.ledger.errors import BadRequest, Conflict, NotFound
from datalever.webapp.models import LEVER_TABLE, LEVER_VOTES
from datalever.webapp.seed import Evidence, LeverEntry

LEVER_LABELS = {
    "data_strike": "Data strike",
    "conscious_data_contribution": "Conscious data contribution",
    "data_poisoning": "Data poisoning",
    "regulation": "Regulation",
    "bargaining": "Bargaining",
}


@dataclass(frozen=True)
class StoredLever:
    id: int
    entry: LeverEntry
    status: str
    reject_reason: str | None
    submitted_by: int | None
    submitted_at: datetime
    moderated_at: datetime | None
    votes: int

    def body(self) -> dict[str, Any]:
        return {
            "id": self.id,
            **self.entry.model_dump(mode="json"),
            "lever_label": LEVER_LABELS[self.entry.lever],
            "status": self.status,
            "reject_reason": self.reject_reason,
            "submitted_at": self.submitted_at.isoformat(),
            "moderated_at": self.moderated_at.isoformat() if self.moderated_at else None,
            "votes": self.votes,
        }


def _votes() -> Any:
    return (
        select(func.count())
        .select_from(LEVER_VOTES)
        .where(LEVER_VOTES.c.lever_id == LEVER_TABLE.c.id)
        .scalar_subquery()
        .label("votes")
    )


def _stored(row: Any) -> StoredLever:
    entry = LeverEntry.model_construct(
        title=row.title,
        summary=row.summary,
        lever=row.lever,
        url=row.url,
        tags=list(row.tags),
        nodes=list(row.nodes),
        evidence=[Evidence.model_construct(**item) for item in row.evidence],
    )
    return StoredLever(
        row.id,
        entry,
        row.status,
        row.reject_reason,
        row.submitted_by,
        row.submitted_at,
        row.moderated_at,
        int(row.votes),
    )


def submit(conn: Connection, entry: LeverEntry, member_id: int | None, now: datetime) -> int:
    """A member's submission waits in the moderation queue."""
    result = conn.execute(
        insert(LEVER_TABLE).values(
            **entry.model_dump(mode="json"), status="pending", submitted_by=member_id, submitted_at=now
        )
    )
    assert result.inserted_primary_key is not None
    return int(result.inserted_primary_key[0])


def get(conn: Connection, lever_id: int) -> StoredLever:
    row = conn.execute(select(LEVER_TABLE, _votes()).where(LEVER_TABLE.c.id == lever_id)).first()
    if row is None:
        raise NotFound(f"directory entry {lever_id} does not exist")
    return _stored(row)


def listing(
    conn: Connection,
    status: str = "approved",
    text: str | None = None,
    lever: str | None = None,
    tag: str | None = None,
) -> list[StoredLever]:
    """Entries with `status`, filtered; approved ones by votes then title, the queue oldest first."""
    rows = conn.execute(select(LEVER_TABLE, _votes()).where(LEVER_TABLE.c.status == status)).all()
    found = [_stored(row) for row in rows]
    if lever:
        found = [item for item in found if item.entry.lever == lever]
    if tag:
        found = [item for item in found if tag in item.entry.tags]
    if text:
        needle = text.casefold()
        found = [
            item
            for item in found
            if needle in item.entry.title.casefold()
            or needle in item.entry.summary.casefold()
            or any(needle in t for t in item.entry.tags)
        ]
    if status == "pending":
        return sorted(found, key=lambda item: item.submitted_at)
    return sorted(found, key=lambda item: (-item.votes, item.entry.title.casefold()))


def all_tags(conn: Connection) -> list[tuple[str, int]]:
    counts: dict[str, int] = {}
    for (tags,) in conn.execute(select(LEVER_TABLE.c.tags).where(LEVER_TABLE.c.status == "approved")):
        for tag in tags:
            counts[tag] = counts.get(tag, 0) + 1
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))


def moderate(conn: Connection, lever_id: int, approve: bool, reason: str | None, by: str, now: datetime) -> None:
    """Approve, or reject with a reason the submitter sees; only pending entries can be moderated."""
    if not approve and not (reason and reason.strip()):
        raise BadRequest("a rejection needs a reason the submitter can act on")
    result = conn.execute(
        update(LEVER_TABLE)
        .where(LEVER_TABLE.c.id == lever_id, LEVER_TABLE.c.status == "pending")
        .values(
            status="approved" if approve else "rejected",
            reject_reason=None if approve else (reason or "").strip()[:2000],
            moderated_by=by[:64],
            moderated_at=now,
        )
    )
    if result.rowcount != 1:
        get(conn, lever_id)  # NotFound when it does not exist
        raise Conflict(f"directory entry {lever_id} was already moderated")


def upvote(conn: Connection, lever_id: int, member_id: int, now: datetime) -> int:
    """One upvote per member and approved entry; a second one is a no-op. Returns the entry's votes."""
    if get(conn, lever_id).status != "approved":
        raise NotFound(f"directory entry {lever_id} is not in the public directory")
    try:
        with conn.begin_nested():
            conn.execute(insert(LEVER_VOTES).values(lever_id=lever_id, member_id=member_id, at=now))
    except IntegrityError:
        pass
    return get(conn, lever_id).votes


def voted(conn: Connection, member_id: int) -> set[int]:
    return set(conn.execute(select(LEVER_VOTES.c.lever_id).where(LEVER_VOTES.c.member_id == member_id)).scalars())


def submissions_of(conn: Connection, member_id: int) -> list[StoredLever]:
    rows = conn.execute(
        select(LEVER_TABLE, _votes()).where(LEVER_TABLE.c.submitted_by == member_id).order_by(LEVER_TABLE.c.id.desc())
    ).all()
    return [_stored(row) for row in rows]
