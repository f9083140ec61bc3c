"""Tables of the flows part, on the ledger's declarative Base (migration `flows_0001`).

The migration environment imports every `datalever.<part>.models`, so Alembic sees these tables.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from datalever.ledger.models import Base, BigId
from datalever.ledger.types import UTCDateTime


class FlowCoalition(Base):
    """A coalition of contributors (usually a platform community) and its cost to change its flow."""

    __tablename__ = "flow_coalitions"
    __table_args__ = (Index("uq_flow_coalitions_pool_account_id", "pool_account_id", unique=True),)

    id: Mapped[str] = mapped_column(String(120), primary_key=True)
    name: Mapped[str | None] = mapped_column(String(200))
    change_cost: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # A coalition is also a community (pools part, migration 0006_pools): its pool account and the platform
    # (and site) whose confirmed linked accounts may join it.
    pool_account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    link_platform: Mapped[str | None] = mapped_column(String(20))
    link_site: Mapped[str | None] = mapped_column(String(200))


class FlowCoalitionMember(Base):
    __tablename__ = "flow_coalition_members"

    coalition_id: Mapped[str] = mapped_column(ForeignKey("flow_coalitions.id"), primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), primary_key=True)
    change_cost: Mapped[int | None] = mapped_column(Integer)
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # How they joined (0006_pools): "link:<link id>" (a confirmed linked account) or "admin:<key id>";
    # NULL for members added through the flows API before communities existed.
    joined_via: Mapped[str | None] = mapped_column(String(80))


class FlowPreferences(Base):
    """One version of a coalition's data-use preferences (the validated document as JSON)."""

    __tablename__ = "flow_preferences"
    __table_args__ = (UniqueConstraint("coalition_id", "version"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    coalition_id: Mapped[str] = mapped_column(ForeignKey("flow_coalitions.id"))
    version: Mapped[int] = mapped_column(Integer)
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str | None] = mapped_column(String(40))
    # Why this version exists (0006_pools): e.g. "proposal:12" (an adopted data-use proposal) or
    # "funding:2026-11" (pool funding changed the funding operators); NULL for a direct PUT.
    reason: Mapped[str | None] = mapped_column(String(80))


class FlowReportView(Base):
    """A member opened their flow report (the 'aware' threshold)."""

    __tablename__ = "flow_report_views"
    __table_args__ = (Index("ix_flow_report_views_member_viewed", "member_id", "viewed_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    coalition_id: Mapped[str] = mapped_column(ForeignKey("flow_coalitions.id"))
    viewed_at: Mapped[datetime] = mapped_column(UTCDateTime())


class FlowWhatIf(Base):
    """A what-if computed for a coalition and a system (the 'can reason' threshold), with its result."""

    __tablename__ = "flow_whatifs"
    __table_args__ = (Index("ix_flow_whatifs_coalition_system", "coalition_id", "system"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    coalition_id: Mapped[str] = mapped_column(ForeignKey("flow_coalitions.id"))
    system: Mapped[str] = mapped_column(String(120))
    withheld: Mapped[str] = mapped_column(String(120))
    result: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class FlowAlignmentScore(Base):
    __tablename__ = "flow_alignment_scores"

    month: Mapped[str] = mapped_column(String(7), primary_key=True)
    coalition_id: Mapped[str] = mapped_column(ForeignKey("flow_coalitions.id"), primary_key=True)
    system: Mapped[str] = mapped_column(String(120), primary_key=True)
    members: Mapped[int] = mapped_column(Integer)
    aware: Mapped[int] = mapped_column(Integer)
    can_reason: Mapped[int] = mapped_column(Integer)
    agency: Mapped[int] = mapped_column(Integer)
    aligned: Mapped[int] = mapped_column(Integer)
    score: Mapped[float] = mapped_column(Float)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime())


class FlowAlignmentConcentration(Base):
    __tablename__ = "flow_alignment_concentration"

    month: Mapped[str] = mapped_column(String(7), primary_key=True)
    system: Mapped[str] = mapped_column(String(120), primary_key=True)
    gini: Mapped[float | None] = mapped_column(Float)
    hhi: Mapped[float | None] = mapped_column(Float)
    thresholds: Mapped[dict[str, Any]] = mapped_column(JSON)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime())
