"""Tables of the stipend part: platform links and their audit trail, imported contributions, payments.

They live on the ledger's `Base` (same metadata, same naming convention) and are created by this part's
own migration, which revises the ledger's head.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from datalever.ledger.models import Base, BigId, Credits, table_of
from datalever.ledger.types import UTCDateTime

LINK_STATUSES = ("requested", "confirmed", "unlinked")


class PlatformLink(Base):
    """A member's claim to a platform account; it counts only once the platform confirmed it.

    A platform account (platform, site, account id) has at most one confirmed link at a time: the partial
    unique index enforces it even under concurrent confirmations.
    """

    __tablename__ = "platform_links"
    __table_args__ = (
        CheckConstraint("status IN ('requested', 'confirmed', 'unlinked')", name="status_known"),
        Index(
            "uq_platform_links_confirmed_account",
            "platform",
            "site",
            "account_id",
            unique=True,
            sqlite_where=text("status = 'confirmed'"),
            postgresql_where=text("status = 'confirmed'"),
        ),
        Index("ix_platform_links_member", "member_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    platform: Mapped[str] = mapped_column(String(20))
    site: Mapped[str] = mapped_column(String(200))
    account_id: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(12))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime())
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    confirmed_by: Mapped[str | None] = mapped_column(String(64))
    unlinked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class LinkEvent(Base):
    """Audit trail: every request, confirmation and unlinking, with who did it. Rows are never changed."""

    __tablename__ = "link_events"
    __table_args__ = (
        CheckConstraint("action IN ('requested', 'confirmed', 'unlinked')", name="action_known"),
        Index("ix_link_events_account", "platform", "site", "account_id", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    link_id: Mapped[int] = mapped_column(ForeignKey("platform_links.id"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    platform: Mapped[str] = mapped_column(String(20))
    site: Mapped[str] = mapped_column(String(200))
    account_id: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(12))
    actor: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime())


class ContributionImport(Base):
    """One import of platform activity; it commits whole or not at all, with its counts."""

    __tablename__ = "contribution_imports"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform: Mapped[str] = mapped_column(String(20))
    source: Mapped[str] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(String(64))
    records_read: Mapped[int] = mapped_column(Integer)
    records_new: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ContributionRow(Base):
    """A normalized contribution (datalever.importers.Contribution); the same act is stored once."""

    __tablename__ = "contributions"
    __table_args__ = (
        UniqueConstraint("platform", "site", "source_id", name="uq_contributions_source"),
        Index("ix_contributions_account_month", "platform", "site", "account_id", "month"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    import_id: Mapped[int] = mapped_column(ForeignKey("contribution_imports.id"))
    platform: Mapped[str] = mapped_column(String(20))
    site: Mapped[str] = mapped_column(String(200))
    account_id: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(30))
    source_id: Mapped[str] = mapped_column(String(100))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    month: Mapped[int] = mapped_column(Integer)
    user_name: Mapped[str | None] = mapped_column(String(200))
    score: Mapped[int | None] = mapped_column(Integer)
    accepted: Mapped[bool | None] = mapped_column(Boolean)
    merged: Mapped[bool | None] = mapped_column(Boolean)
    reverted: Mapped[bool | None] = mapped_column(Boolean)
    self_approved: Mapped[bool | None] = mapped_column(Boolean)
    namespace: Mapped[int | None] = mapped_column(Integer)
    minor: Mapped[bool | None] = mapped_column(Boolean)
    size_change: Mapped[int | None] = mapped_column(Integer)
    repository: Mapped[str | None] = mapped_column(String(200))
    repository_owner: Mapped[str | None] = mapped_column(String(100))
    public: Mapped[bool | None] = mapped_column(Boolean)
    url: Mapped[str | None] = mapped_column(Text)


class StipendPayment(Base):
    """One member's stipend for one month: at most one, written in the same transaction as its transfer."""

    __tablename__ = "stipend_payments"
    __table_args__ = (
        UniqueConstraint("member_id", "month", name="uq_stipend_payments_member_month"),
        CheckConstraint("amount > 0", name="amount_positive"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    month: Mapped[int] = mapped_column(Integer)
    amount: Mapped[int] = mapped_column(Credits)
    rules: Mapped[str] = mapped_column(Text)  # JSON: [{platform, site, account_id, rule}]
    operation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("operations.id"))
    paid_at: Mapped[datetime] = mapped_column(UTCDateTime())


PLATFORM_LINKS = table_of(PlatformLink)
LINK_EVENTS = table_of(LinkEvent)
CONTRIBUTION_IMPORTS = table_of(ContributionImport)
CONTRIBUTIONS = table_of(ContributionRow)
STIPEND_PAYMENTS = table_of(StipendPayment)
