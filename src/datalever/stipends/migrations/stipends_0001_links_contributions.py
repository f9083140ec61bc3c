"""stipends: platform links and their audit trail, imported contributions, stipend payments

Revision ID: stipends_0001
Revises: 0002_ledger
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "stipends_0001"
down_revision: str | Sequence[str] | None = "0002_ledger"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "platform_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(length=20), nullable=False),
        sa.Column("site", sa.String(length=200), nullable=False),
        sa.Column("account_id", sa.String(length=100), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("confirmed_by", sa.String(length=64), nullable=True),
        sa.Column("unlinked_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('requested', 'confirmed', 'unlinked')", name=op.f("ck_platform_links_status_known")
        ),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"], name=op.f("fk_platform_links_member_id_members")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_platform_links")),
    )
    op.create_index("ix_platform_links_member", "platform_links", ["member_id"])
    op.create_index(
        "uq_platform_links_confirmed_account",
        "platform_links",
        ["platform", "site", "account_id"],
        unique=True,
        sqlite_where=sa.text("status = 'confirmed'"),
        postgresql_where=sa.text("status = 'confirmed'"),
    )
    op.create_table(
        "link_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("link_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(length=20), nullable=False),
        sa.Column("site", sa.String(length=200), nullable=False),
        sa.Column("account_id", sa.String(length=100), nullable=False),
        sa.Column("action", sa.String(length=12), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "action IN ('requested', 'confirmed', 'unlinked')", name=op.f("ck_link_events_action_known")
        ),
        sa.ForeignKeyConstraint(["link_id"], ["platform_links.id"], name=op.f("fk_link_events_link_id_platform_links")),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"], name=op.f("fk_link_events_member_id_members")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_link_events")),
    )
    op.create_index("ix_link_events_link_id", "link_events", ["link_id"])
    op.create_index("ix_link_events_account", "link_events", ["platform", "site", "account_id", "id"])
    op.create_table(
        "contribution_imports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(length=20), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("records_read", sa.Integer(), nullable=False),
        sa.Column("records_new", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contribution_imports")),
    )
    op.create_table(
        "contributions",
        sa.Column("id", BigId, nullable=False),
        sa.Column("import_id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(length=20), nullable=False),
        sa.Column("site", sa.String(length=200), nullable=False),
        sa.Column("account_id", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("source_id", sa.String(length=100), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("month", sa.Integer(), nullable=False),
        sa.Column("user_name", sa.String(length=200), nullable=True),
        sa.Column("score", sa.Integer(), nullable=True),
        sa.Column("accepted", sa.Boolean(), nullable=True),
        sa.Column("merged", sa.Boolean(), nullable=True),
        sa.Column("reverted", sa.Boolean(), nullable=True),
        sa.Column("self_approved", sa.Boolean(), nullable=True),
        sa.Column("namespace", sa.Integer(), nullable=True),
        sa.Column("minor", sa.Boolean(), nullable=True),
        sa.Column("size_change", sa.Integer(), nullable=True),
        sa.Column("repository", sa.String(length=200), nullable=True),
        sa.Column("repository_owner", sa.String(length=100), nullable=True),
        sa.Column("public", sa.Boolean(), nullable=True),
        sa.Column("url", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["import_id"], ["contribution_imports.id"], name=op.f("fk_contributions_import_id_contribution_imports")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contributions")),
        sa.UniqueConstraint("platform", "site", "source_id", name="uq_contributions_source"),
    )
    op.create_index("ix_contributions_account_month", "contributions", ["platform", "site", "account_id", "month"])
    op.create_table(
        "stipend_payments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("month", sa.Integer(), nullable=False),
        sa.Column("amount", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("rules", sa.Text(), nullable=False),
        sa.Column("operation_id", sa.Uuid(), nullable=False),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("amount > 0", name=op.f("ck_stipend_payments_amount_positive")),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"], name=op.f("fk_stipend_payments_member_id_members")),
        sa.ForeignKeyConstraint(
            ["operation_id"], ["operations.id"], name=op.f("fk_stipend_payments_operation_id_operations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stipend_payments")),
        sa.UniqueConstraint("member_id", "month", name="uq_stipend_payments_member_month"),
    )


def downgrade() -> None:
    op.drop_table("stipend_payments")
    op.drop_index("ix_contributions_account_month", table_name="contributions")
    op.drop_table("contributions")
    op.drop_table("contribution_imports")
    op.drop_index("ix_link_events_account", table_name="link_events")
    op.drop_index("ix_link_events_link_id", table_name="link_events")
    op.drop_table("link_events")
    op.drop_index("uq_platform_links_confirmed_account", table_name="platform_links")
    op.drop_index("ix_platform_links_member", table_name="platform_links")
    op.drop_table("platform_links")
