"""Tables of the web app (migration `0005_webapp`): browser sessions, one-time sign-in codes, sign-in attempts
(for rate limiting), and the data-levers directory with its upvotes.

Secrets are never stored: a session cookie and a sign-in code are kept as SHA-256 digests only.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from datalever.ledger.models import Base, BigId, table_of
from datalever.ledger.types import UTCDateTime

LEVERS = ("data_strike", "conscious_data_contribution", "data_poisoning", "regulation", "bargaining")
"""The five data levers (Vincent et al., FAccT 2021, plus the two institutional levers the essay names)."""

LEVER_STATUSES = ("pending", "approved", "rejected")


class WebSession(Base):
    """A signed-in browser: who (role, member) until when, and the CSRF token its forms must carry."""

    __tablename__ = "web_sessions"
    __table_args__ = (Index("ix_web_sessions_expires", "expires_at"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # SHA-256 of the cookie value
    role: Mapped[str] = mapped_column(String(20))
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())


class SignInCode(Base):
    """A one-time sign-in code, created by an admin (any role) or by a member's own API key (itself)."""

    __tablename__ = "signin_codes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(20))
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class SignInAttempt(Base):
    """One sign-in attempt from a client address; failures in a window are what the rate limit counts."""

    __tablename__ = "signin_attempts"
    __table_args__ = (Index("ix_signin_attempts_client_at", "client", "at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    client: Mapped[str] = mapped_column(String(64))
    ok: Mapped[bool] = mapped_column(Boolean)
    at: Mapped[datetime] = mapped_column(UTCDateTime())


class Lever(Base):
    """A directory entry: a tool or action that pulls a data lever, with the catalog nodes it affects."""

    __tablename__ = "levers"
    __table_args__ = (
        CheckConstraint(
            "lever IN ('data_strike', 'conscious_data_contribution', 'data_poisoning', 'regulation', 'bargaining')",
            name="lever_known",
        ),
        CheckConstraint("status IN ('pending', 'approved', 'rejected')", name="status_known"),
        Index("ix_levers_status", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text)
    lever: Mapped[str] = mapped_column(String(40))
    url: Mapped[str] = mapped_column(String(500))
    tags: Mapped[list[str]] = mapped_column(JSON)
    nodes: Mapped[list[str]] = mapped_column(JSON)
    evidence: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(12))
    reject_reason: Mapped[str | None] = mapped_column(Text)
    submitted_by: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime())
    moderated_by: Mapped[str | None] = mapped_column(String(64))
    moderated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class LeverVote(Base):
    """One member's upvote of one entry (at most one: the primary key)."""

    __tablename__ = "lever_votes"

    lever_id: Mapped[int] = mapped_column(ForeignKey("levers.id"), primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())


WEB_SESSIONS = table_of(WebSession)
SIGNIN_CODES = table_of(SignInCode)
SIGNIN_ATTEMPTS = table_of(SignInAttempt)
LEVER_TABLE = table_of(Lever)
LEVER_VOTES = table_of(LeverVote)
