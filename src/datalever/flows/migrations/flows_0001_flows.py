"""flows: coalitions, data-use preferences, flow-report views, what-ifs, monthly alignment scores

Revision ID: flows_0001
Revises: 0002_ledger
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "flows_0001"
down_revision: str | Sequence[str] | None = "0002_ledger"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "flow_coalitions",
        sa.Column("id", sa.String(length=120), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("change_cost", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_flow_coalitions")),
    )
    op.create_table(
        "flow_coalition_members",
        sa.Column("coalition_id", sa.String(length=120), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("change_cost", sa.Integer(), nullable=True),
        sa.Column("joined_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["coalition_id"],
            ["flow_coalitions.id"],
            name=op.f("fk_flow_coalition_members_coalition_id_flow_coalitions"),
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_flow_coalition_members_member_id_members")
        ),
        sa.PrimaryKeyConstraint("coalition_id", "member_id", name=op.f("pk_flow_coalition_members")),
    )
    op.create_table(
        "flow_preferences",
        sa.Column("id", BigId, nullable=False),
        sa.Column("coalition_id", sa.String(length=120), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=40), nullable=True),
        sa.ForeignKeyConstraint(
            ["coalition_id"], ["flow_coalitions.id"], name=op.f("fk_flow_preferences_coalition_id_flow_coalitions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_flow_preferences")),
        sa.UniqueConstraint("coalition_id", "version", name=op.f("uq_flow_preferences_coalition_id")),
    )
    op.create_table(
        "flow_report_views",
        sa.Column("id", BigId, nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("coalition_id", sa.String(length=120), nullable=False),
        sa.Column("viewed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"], name=op.f("fk_flow_report_views_member_id_members")),
        sa.ForeignKeyConstraint(
            ["coalition_id"], ["flow_coalitions.id"], name=op.f("fk_flow_report_views_coalition_id_flow_coalitions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_flow_report_views")),
    )
    op.create_index("ix_flow_report_views_member_viewed", "flow_report_views", ["member_id", "viewed_at"])
    op.create_table(
        "flow_whatifs",
        sa.Column("id", BigId, nullable=False),
        sa.Column("coalition_id", sa.String(length=120), nullable=False),
        sa.Column("system", sa.String(length=120), nullable=False),
        sa.Column("withheld", sa.String(length=120), nullable=False),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["coalition_id"], ["flow_coalitions.id"], name=op.f("fk_flow_whatifs_coalition_id_flow_coalitions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_flow_whatifs")),
    )
    op.create_index("ix_flow_whatifs_coalition_system", "flow_whatifs", ["coalition_id", "system"])
    op.create_table(
        "flow_alignment_scores",
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("coalition_id", sa.String(length=120), nullable=False),
        sa.Column("system", sa.String(length=120), nullable=False),
        sa.Column("members", sa.Integer(), nullable=False),
        sa.Column("aware", sa.Integer(), nullable=False),
        sa.Column("can_reason", sa.Integer(), nullable=False),
        sa.Column("agency", sa.Integer(), nullable=False),
        sa.Column("aligned", sa.Integer(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["coalition_id"],
            ["flow_coalitions.id"],
            name=op.f("fk_flow_alignment_scores_coalition_id_flow_coalitions"),
        ),
        sa.PrimaryKeyConstraint("month", "coalition_id", "system", name=op.f("pk_flow_alignment_scores")),
    )
    op.create_table(
        "flow_alignment_concentration",
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("system", sa.String(length=120), nullable=False),
        sa.Column("gini", sa.Float(), nullable=True),
        sa.Column("hhi", sa.Float(), nullable=True),
        sa.Column("thresholds", sa.JSON(), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("month", "system", name=op.f("pk_flow_alignment_concentration")),
    )


def downgrade() -> None:
    op.drop_table("flow_alignment_concentration")
    op.drop_table("flow_alignment_scores")
    op.drop_index("ix_flow_whatifs_coalition_system", table_name="flow_whatifs")
    op.drop_table("flow_whatifs")
    op.drop_index("ix_flow_report_views_member_viewed", table_name="flow_report_views")
    op.drop_table("flow_report_views")
    op.drop_table("flow_preferences")
    op.drop_table("flow_coalition_members")
    op.drop_table("flow_coalitions")
