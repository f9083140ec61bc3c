"""The ledger schema (SQLAlchemy 2). Other parts add their tables on the same `Base` and their own migration.

Balances are never stored: a bounded account's balance is the sum of its lots' `remaining`, and every
change to a lot is made by the posting function together with the transfer that explains it.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import cast

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    Uuid,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from datalever.ledger.types import UTCDateTime

# SQLite only auto-increments "INTEGER PRIMARY KEY"; PostgreSQL gets 64-bit ids.
BigId = BigInteger().with_variant(Integer(), "sqlite")
Credits = BigInteger().with_variant(Integer(), "sqlite")

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base for every datalever table, with stable constraint names for migrations."""

    metadata = MetaData(naming_convention=NAMING)


class Account(Base):
    """A place credits live. `bounded` accounts (members, later pools) hold lots and can never go negative;
    unbounded ones (the issuance source, the spend and expiry sinks) are never locked or updated."""

    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(120), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    bounded: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Member(Base):
    """A person with an allowance. Its row lock serialises that member's spending (never a shared row)."""

    __tablename__ = "members"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), unique=True)
    external_ref: Mapped[str | None] = mapped_column(String(200), unique=True)
    reputation: Mapped[float] = mapped_column(Float)
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime())
    session_position: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    last_query_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # AI answers charged to the member so far; the nudge cites the platform in every `cite_every`-th one.
    answers: Mapped[int] = mapped_column(Integer, server_default=text("0"))


class Operation(Base):
    """One posting request: its idempotency key, the hash of its request, and the response first given."""

    __tablename__ = "operations"
    __table_args__ = (UniqueConstraint("scope", "key", name="uq_operations_scope_key"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    scope: Mapped[str] = mapped_column(String(120))
    key: Mapped[str] = mapped_column(String(200))
    request_hash: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(40))
    member_id: Mapped[int | None] = mapped_column(Integer)
    status_code: Mapped[int | None] = mapped_column(Integer)
    response: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Lot(Base):
    """Credits that arrived in a bounded account in one transfer, with their source and expiry.

    `remaining` falls only when a transfer debits this lot (spend, expiry, donation) and rises only when
    a reversing transfer gives credits back to it.
    """

    __tablename__ = "lots"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("remaining >= 0 AND remaining <= amount", name="remaining_in_range"),
        # No index mentions `remaining`, so the update a charge makes to a lot can be a HOT update.
        Index("ix_lots_account", "account_id"),
        Index(
            "ix_lots_expiring",
            "expires_at",
            sqlite_where=text("expires_at IS NOT NULL"),
            postgresql_where=text("expires_at IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    operation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("operations.id"))
    source: Mapped[str] = mapped_column(String(40))
    amount: Mapped[int] = mapped_column(Credits)
    remaining: Mapped[int] = mapped_column(Credits)
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Transfer(Base):
    """An immutable movement of `amount` credits from the debit account to the credit account."""

    __tablename__ = "transfers"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("debit_account_id <> credit_account_id", name="distinct_accounts"),
        # A member's history is found through its lots: no index entry lands on a sink's hot page.
        Index(
            "ix_transfers_debit_lot",
            "debit_lot_id",
            sqlite_where=text("debit_lot_id IS NOT NULL"),
            postgresql_where=text("debit_lot_id IS NOT NULL"),
        ),
        Index(
            "ix_transfers_credit_lot",
            "credit_lot_id",
            sqlite_where=text("credit_lot_id IS NOT NULL"),
            postgresql_where=text("credit_lot_id IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    operation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("operations.id"), index=True)
    debit_account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    credit_account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    amount: Mapped[int] = mapped_column(Credits)
    kind: Mapped[str] = mapped_column(String(40))
    debit_lot_id: Mapped[int | None] = mapped_column(ForeignKey("lots.id"))
    credit_lot_id: Mapped[int | None] = mapped_column(ForeignKey("lots.id"))
    reverses_id: Mapped[int | None] = mapped_column(ForeignKey("transfers.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Feedback(Base):
    """Feedback a member gave on one of their charged queries, and its moderation verdict."""

    __tablename__ = "feedback"
    __table_args__ = (
        UniqueConstraint("member_id", "text_hash", name="uq_feedback_member_text"),
        UniqueConstraint("query_id", name="uq_feedback_query"),
        Index("ix_feedback_member_created", "member_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    query_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("operations.id"))
    text: Mapped[str] = mapped_column(Text)
    text_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(12))
    reward: Mapped[int | None] = mapped_column(Credits)
    reputation_before: Mapped[float | None] = mapped_column(Float)
    reputation_after: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    moderated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


SYSTEM_ACCOUNTS: dict[str, str] = {"issuance": "source", "spend": "sink", "expiry": "sink"}
"""Unbounded system accounts created by the first migration: code -> kind."""


def table_of(model: type[Base]) -> Table:
    """The Core table of a model, typed as a Table for insert()/update() (the hot paths use Core)."""
    return cast(Table, model.__table__)


ACCOUNTS = table_of(Account)
MEMBERS = table_of(Member)
OPERATIONS = table_of(Operation)
LOTS = table_of(Lot)
TRANSFERS = table_of(Transfer)
FEEDBACK = table_of(Feedback)
