"""Tables of the pools part (migration `0006_pools`): communities' catalog nodes, valuation runs, monthly pool
funding, proposals with their options, and votes.

A community is a flows coalition (`flow_coalitions`, extended with its pool account and joining platform);
there is no second concept. Credits never live here: pools are ledger accounts (`pool:<coalition id>`),
and every row that records a movement names the ledger operation that made it.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, Integer, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from datalever.ledger.models import Base, BigId, Credits
from datalever.ledger.types import UTCDateTime


class CommunityNode(Base):
    """A catalog node (site, organization, project) whose data is the community's."""

    __tablename__ = "community_nodes"

    coalition_id: Mapped[str] = mapped_column(ForeignKey("flow_coalitions.id"), primary_key=True)
    node_id: Mapped[str] = mapped_column(String(120), primary_key=True)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ValuationRun(Base):
    """One collective valuation with everything needed to reproduce it (catalog version, model, fit, method)."""

    __tablename__ = "valuation_runs"
    __table_args__ = (Index("ix_valuation_runs_month", "month"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    month: Mapped[str] = mapped_column(String(7))
    method: Mapped[str] = mapped_column(String(20))
    model: Mapped[str] = mapped_column(String(120))
    fit: Mapped[str] = mapped_column(String(20))
    range_point: Mapped[str] = mapped_column(String(10))
    catalog_version: Mapped[str] = mapped_column(String(64))
    inputs: Mapped[dict[str, Any]] = mapped_column(JSON)
    result: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str | None] = mapped_column(String(64))


class PoolFunding(Base):
    """A community's share of one month's pool budget, written in the same transaction as its transfer."""

    __tablename__ = "pool_fundings"
    __table_args__ = (CheckConstraint("amount >= 0", name="amount_not_negative"),)

    month: Mapped[str] = mapped_column(String(7), primary_key=True)
    coalition_id: Mapped[str] = mapped_column(ForeignKey("flow_coalitions.id"), primary_key=True)
    amount: Mapped[int] = mapped_column(Credits)
    operator: Mapped[str] = mapped_column(String(120))
    valuation_run_id: Mapped[int] = mapped_column(ForeignKey("valuation_runs.id"))
    operation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("operations.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Proposal(Base):
    """A community proposal: a data-use change (new preferences) or pool spending (projects with costs)."""

    __tablename__ = "proposals"
    __table_args__ = (
        CheckConstraint("kind IN ('data_use', 'spending')", name="kind_known"),
        CheckConstraint("status IN ('open', 'adopted', 'rejected')", name="status_known"),
        Index("ix_proposals_coalition", "coalition_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    coalition_id: Mapped[str] = mapped_column(ForeignKey("flow_coalitions.id"))
    kind: Mapped[str] = mapped_column(String(12))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    preferences: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    budget: Mapped[int | None] = mapped_column(Credits)
    opens_at: Mapped[datetime] = mapped_column(UTCDateTime())
    closes_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(12))
    created_by: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    tally: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    tallied_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    operation_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)


class ProposalOption(Base):
    """An option of a proposal: 'for'/'against' a data-use change, or a project with its cost and recipient."""

    __tablename__ = "proposal_options"
    __table_args__ = (CheckConstraint("cost IS NULL OR cost > 0", name="cost_positive"),)

    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id"), primary_key=True)
    option_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    cost: Mapped[int | None] = mapped_column(Credits)
    recipient_member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))


class Vote(Base):
    """Votes a member bought on one option, with the credits paid and the ledger operation that moved them.

    Never published per member: tallies show per-option totals only.
    """

    __tablename__ = "votes"
    __table_args__ = (
        CheckConstraint("votes > 0", name="votes_positive"),
        CheckConstraint("credits >= 0", name="credits_not_negative"),
        Index("ix_votes_proposal_member", "proposal_id", "member_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id"))
    option_id: Mapped[int] = mapped_column(Integer)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    votes: Mapped[int] = mapped_column(Integer)
    credits: Mapped[int] = mapped_column(Credits)
    operation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("operations.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
