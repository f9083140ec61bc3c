"""How a posting locks the members it spends from: their rows and account rows, in id order.

One fixed order means two transactions never deadlock on members. The members' spendable lots are read
by a second statement, after the lock is held: at READ COMMITTED a statement sees the data as of its
start, so lots read in the locking statement itself would miss a debit committed by the transaction it
waited for (a stale balance, a lot driven negative). Each statement costs one read whatever the batch's
size; PostgreSQL's batch sends both in one pipelined round trip. The storage backends use SQLAlchemy's
statements for SQLite and the same statements compiled to psycopg SQL for PostgreSQL.
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


def _lots_of(which: ColumnElement[bool], *, lateral: bool = False) -> Select[Any]:
    """The spendable lots of some members: (lot id, account id, remaining, expires_at) per lot.

    PostgreSQL gets a LATERAL join, one index probe per member; as a plain join the planner hashed the
    whole lots table for a batch of a few members. `OFFSET 0` keeps PostgreSQL from flattening the
    LATERAL subquery back into that join.
    """
    members = select(MEMBERS.c.account_id).where(which)
    if lateral:
        owners = members.subquery("owners")
        lots = (
            select(LOTS.c.id, LOTS.c.account_id, LOTS.c.remaining, LOTS.c.expires_at)
            .where(LOTS.c.account_id == owners.c.account_id, LOTS.c.remaining > literal_column("0"))
            .offset(literal_column("0"))
            .lateral("spendable")
        )
        return select(*lots.c).select_from(owners.join(lots, true()))
    return select(LOTS.c.id, LOTS.c.account_id, LOTS.c.remaining, LOTS.c.expires_at).where(
        LOTS.c.account_id.in_(members), LOTS.c.remaining > literal_column("0")
    )


def _pg(statement: Select[Any]) -> str:
    return str(statement.compile(dialect=psycopg.dialect()))  # type: ignore[no-untyped-call]


_GIVEN = MEMBERS.c.id.in_(bindparam("member_ids", expanding=True))
_GIVEN_PG = MEMBERS.c.id == any_(bindparam("member_ids", type_=ARRAY(Integer)))

MEMBER_LOCK = _lock(_GIVEN)
"""Lock members (parameter `member_ids`) and read their state (`MEMBER_STATE`), in id order."""

MEMBER_LOTS = _lots_of(_GIVEN)
"""The spendable lots of members (parameter `member_ids`): run after `MEMBER_LOCK`, never in its statement."""

MEMBER_LOCK_PG = _pg(_lock(_GIVEN_PG))
"""`MEMBER_LOCK` as psycopg SQL, for the pipelined batch read (`member_ids` is one array)."""

MEMBER_LOTS_PG = _pg(_lots_of(_GIVEN_PG, lateral=True))
"""`MEMBER_LOTS` as psycopg SQL (`member_ids` is one array)."""
