"""How a posting locks the members it spends from: their rows and account rows, in id order.

One fixed order means two transactions never deadlock on members. The lock also reads every locked
member's spendable lots in the same statement, so a batch costs one read whatever its size. The storage
backends use one statement each: SQLAlchemy's for SQLite, the psycopg SQL for PostgreSQL.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ARRAY, ColumnElement, Integer, Select, any_, bindparam, literal_column, select, true
from sqlalchemy.dialects.postgresql import psycopg

from datalever.ledger.models import ACCOUNTS, LOTS, MEMBERS

MEMBER_STATE = (
    MEMBERS.c.id,
    MEMBERS.c.account_id,
    MEMBERS.c.reputation,
    MEMBERS.c.joined_at,
    MEMBERS.c.session_position,
    MEMBERS.c.last_query_at,
    MEMBERS.c.answers,
)
"""The columns of `values.MemberState`, in its field order."""


def _lock(which: ColumnElement[bool]) -> Select[Any]:
    return (
        select(*MEMBER_STATE)
        .join(ACCOUNTS, ACCOUNTS.c.id == MEMBERS.c.account_id)
        .where(which)
        .order_by(MEMBERS.c.id)
        .with_for_update()
    )


def _with_lots(lock: Select[Any], *, lateral: bool = False) -> Select[Any]:
    """The lock, joined with each member's spendable lots.

    PostgreSQL gets a LATERAL join, one index probe per locked member; as a plain join the planner
    hashed the whole lots table for a batch of a few members. `OFFSET 0` keeps PostgreSQL from
    flattening the LATERAL subquery back into that join.
    """
    locked = lock.cte("locked").prefix_with("MATERIALIZED", dialect="postgresql")
    spendable = (LOTS.c.account_id == locked.c.account_id) & (LOTS.c.remaining > literal_column("0"))
    if lateral:
        lots = (
            select(LOTS.c.id.label("lot_id"), LOTS.c.remaining, LOTS.c.expires_at)
            .where(spendable)
            .offset(literal_column("0"))
            .lateral("lots")
        )
        return select(*locked.c, lots.c.lot_id, lots.c.remaining, lots.c.expires_at).select_from(
            locked.outerjoin(lots, true())
        )
    return select(*locked.c, LOTS.c.id.label("lot_id"), LOTS.c.remaining, LOTS.c.expires_at).select_from(
        locked.outerjoin(LOTS, spendable)
    )


MEMBER_LOCK_WITH_LOTS = _with_lots(_lock(MEMBERS.c.id.in_(bindparam("member_ids", expanding=True))))
"""Lock members (parameter `member_ids`) and read their state, once per spendable lot (or once, with no lot)."""

MEMBER_LOCK_WITH_LOTS_PG = str(
    _with_lots(_lock(MEMBERS.c.id == any_(bindparam("member_ids", type_=ARRAY(Integer)))), lateral=True).compile(
        dialect=psycopg.dialect()  # type: ignore[no-untyped-call]
    )
)
"""`MEMBER_LOCK_WITH_LOTS` as psycopg SQL, for the pipelined batch read (`member_ids` is one array)."""
