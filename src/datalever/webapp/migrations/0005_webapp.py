"""webapp: browser sessions, one-time sign-in codes, sign-in attempts, the data-levers directory (seeded)

Revision ID: 0005_webapp
Revises: 0004_ledger
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0005_webapp"
down_revision: str | Sequence[str] | None = "0004_ledger"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
SEEDED_AT = datetime(2026, 12, 1, tzinfo=UTC)


def upgrade() -> None:
    op.create_table(
        "web_sessions",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=True),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"], name=op.f("fk_web_sessions_member_id_members")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_web_sessions")),
    )
    op.create_index("ix_web_sessions_expires", "web_sessions", ["expires_at"])
    op.create_table(
        "signin_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=True),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"], name=op.f("fk_signin_codes_member_id_members")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_signin_codes")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_signin_codes_code_hash")),
    )
    op.create_table(
        "signin_attempts",
        sa.Column("id", BigId, nullable=False),
        sa.Column("client", sa.String(length=64), nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_signin_attempts")),
    )
    op.create_index("ix_signin_attempts_client_at", "signin_attempts", ["client", "at"])
    levers = op.create_table(
        "levers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("lever", sa.String(length=40), nullable=False),
        sa.Column("url", sa.String(length=500), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("nodes", sa.JSON(), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("reject_reason", sa.Text(), nullable=True),
        sa.Column("submitted_by", sa.Integer(), nullable=True),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("moderated_by", sa.String(length=64), nullable=True),
        sa.Column("moderated_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "lever IN ('data_strike', 'conscious_data_contribution', 'data_poisoning', 'regulation', 'bargaining')",
            name=op.f("ck_levers_lever_known"),
        ),
        sa.CheckConstraint("status IN ('pending', 'approved', 'rejected')", name=op.f("ck_levers_status_known")),
        sa.ForeignKeyConstraint(["submitted_by"], ["members.id"], name=op.f("fk_levers_submitted_by_members")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_levers")),
    )
    op.create_index("ix_levers_status", "levers", ["status"])
    op.create_table(
        "lever_votes",
        sa.Column("lever_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["lever_id"], ["levers.id"], name=op.f("fk_lever_votes_lever_id_levers")),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"], name=op.f("fk_lever_votes_member_id_members")),
        sa.PrimaryKeyConstraint("lever_id", "member_id", name=op.f("pk_lever_votes")),
    )
    # The seed: real, cited entries shipped with the package (approved, submitted by nobody).
    from datalever.webapp.seed import seed_entries

    stamp = SEEDED_AT if op.get_bind().dialect.name != "sqlite" else SEEDED_AT.replace(tzinfo=None)
    op.bulk_insert(
        levers,
        [
            {
                **entry.model_dump(mode="json"),
                "status": "approved",
                "submitted_at": stamp,
                "moderated_at": stamp,
                "moderated_by": "seed",
            }
            for entry in seed_entries()
        ],
    )


def downgrade() -> None:
    op.drop_table("lever_votes")
    op.drop_index("ix_levers_status", table_name="levers")
    op.drop_table("levers")
    op.drop_index("ix_signin_attempts_client_at", table_name="signin_attempts")
    op.drop_table("signin_attempts")
    op.drop_table("signin_codes")
    op.drop_index("ix_web_sessions_expires", table_name="web_sessions")
    op.drop_table("web_sessions")
