"""pools: communities (flows coalitions with a pool and catalog nodes), valuations, funding, proposals, votes

Revision ID: 0006_pools
Revises: 0005_webapp
Create Date: 2026-12-01

A community is a flows coalition: `flow_coalitions` gains its pool account and the platform whose linked
accounts may join, `flow_coalition_members` how a member joined, `flow_preferences` the reason a version
exists (an adopted proposal, pool funding). Columns are added in place (no table rebuild) on both databases.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_pools"
down_revision: str | Sequence[str] | None = "0005_webapp"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Credits = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    # Added in place on both databases: rebuilding flow_coalitions (SQLite's batch mode) would drop a table that
    # other tables' rows refer to, which its foreign keys refuse. SQLite adds a column with an inline REFERENCES.
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE flow_coalitions ADD COLUMN pool_account_id INTEGER REFERENCES accounts (id)")
    else:
        op.add_column("flow_coalitions", sa.Column("pool_account_id", sa.Integer(), nullable=True))
        op.create_foreign_key(
            op.f("fk_flow_coalitions_pool_account_id_accounts"),
            "flow_coalitions",
            "accounts",
            ["pool_account_id"],
            ["id"],
        )
    op.create_index("uq_flow_coalitions_pool_account_id", "flow_coalitions", ["pool_account_id"], unique=True)
    op.add_column("flow_coalitions", sa.Column("link_platform", sa.String(length=20), nullable=True))
    op.add_column("flow_coalitions", sa.Column("link_site", sa.String(length=200), nullable=True))
    op.add_column("flow_coalition_members", sa.Column("joined_via", sa.String(length=80), nullable=True))
    op.add_column("flow_preferences", sa.Column("reason", sa.String(length=80), nullable=True))

    op.create_table(
        "community_nodes",
        sa.Column("coalition_id", sa.String(length=120), nullable=False),
        sa.Column("node_id", sa.String(length=120), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["coalition_id"], ["flow_coalitions.id"], name=op.f("fk_community_nodes_coalition_id_flow_coalitions")
        ),
        sa.PrimaryKeyConstraint("coalition_id", "node_id", name=op.f("pk_community_nodes")),
    )
    op.create_table(
        "valuation_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("method", sa.String(length=20), nullable=False),
        sa.Column("model", sa.String(length=120), nullable=False),
        sa.Column("fit", sa.String(length=20), nullable=False),
        sa.Column("range_point", sa.String(length=10), nullable=False),
        sa.Column("catalog_version", sa.String(length=64), nullable=False),
        sa.Column("inputs", sa.JSON(), nullable=False),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_valuation_runs")),
    )
    op.create_index("ix_valuation_runs_month", "valuation_runs", ["month"])
    op.create_table(
        "pool_fundings",
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("coalition_id", sa.String(length=120), nullable=False),
        sa.Column("amount", Credits, nullable=False),
        sa.Column("operator", sa.String(length=120), nullable=False),
        sa.Column("valuation_run_id", sa.Integer(), nullable=False),
        sa.Column("operation_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("amount >= 0", name=op.f("ck_pool_fundings_amount_not_negative")),
        sa.ForeignKeyConstraint(
            ["coalition_id"], ["flow_coalitions.id"], name=op.f("fk_pool_fundings_coalition_id_flow_coalitions")
        ),
        sa.ForeignKeyConstraint(
            ["valuation_run_id"], ["valuation_runs.id"], name=op.f("fk_pool_fundings_valuation_run_id_valuation_runs")
        ),
        sa.ForeignKeyConstraint(
            ["operation_id"], ["operations.id"], name=op.f("fk_pool_fundings_operation_id_operations")
        ),
        sa.PrimaryKeyConstraint("month", "coalition_id", name=op.f("pk_pool_fundings")),
    )
    op.create_table(
        "proposals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("coalition_id", sa.String(length=120), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("preferences", sa.JSON(), nullable=True),
        sa.Column("budget", Credits, nullable=True),
        sa.Column("opens_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closes_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tally", sa.JSON(), nullable=True),
        sa.Column("tallied_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("operation_id", sa.Uuid(), nullable=True),
        sa.CheckConstraint("kind IN ('data_use', 'spending')", name=op.f("ck_proposals_kind_known")),
        sa.CheckConstraint("status IN ('open', 'adopted', 'rejected')", name=op.f("ck_proposals_status_known")),
        sa.ForeignKeyConstraint(
            ["coalition_id"], ["flow_coalitions.id"], name=op.f("fk_proposals_coalition_id_flow_coalitions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_proposals")),
    )
    op.create_index("ix_proposals_coalition", "proposals", ["coalition_id"])
    op.create_table(
        "proposal_options",
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.Column("option_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("cost", Credits, nullable=True),
        sa.Column("recipient_member_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("cost IS NULL OR cost > 0", name=op.f("ck_proposal_options_cost_positive")),
        sa.ForeignKeyConstraint(
            ["proposal_id"], ["proposals.id"], name=op.f("fk_proposal_options_proposal_id_proposals")
        ),
        sa.ForeignKeyConstraint(
            ["recipient_member_id"], ["members.id"], name=op.f("fk_proposal_options_recipient_member_id_members")
        ),
        sa.PrimaryKeyConstraint("proposal_id", "option_id", name=op.f("pk_proposal_options")),
    )
    op.create_table(
        "votes",
        sa.Column("id", BigId, nullable=False),
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.Column("option_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("votes", sa.Integer(), nullable=False),
        sa.Column("credits", Credits, nullable=False),
        sa.Column("operation_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("votes > 0", name=op.f("ck_votes_votes_positive")),
        sa.CheckConstraint("credits >= 0", name=op.f("ck_votes_credits_not_negative")),
        sa.ForeignKeyConstraint(["proposal_id"], ["proposals.id"], name=op.f("fk_votes_proposal_id_proposals")),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"], name=op.f("fk_votes_member_id_members")),
        sa.ForeignKeyConstraint(["operation_id"], ["operations.id"], name=op.f("fk_votes_operation_id_operations")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_votes")),
    )
    op.create_index("ix_votes_proposal_member", "votes", ["proposal_id", "member_id"])


def downgrade() -> None:
    op.drop_index("ix_votes_proposal_member", table_name="votes")
    op.drop_table("votes")
    op.drop_table("proposal_options")
    op.drop_index("ix_proposals_coalition", table_name="proposals")
    op.drop_table("proposals")
    op.drop_table("pool_fundings")
    op.drop_index("ix_valuation_runs_month", table_name="valuation_runs")
    op.drop_table("valuation_runs")
    op.drop_table("community_nodes")
    with op.batch_alter_table("flow_preferences") as batch:
        batch.drop_column("reason")
    with op.batch_alter_table("flow_coalition_members") as batch:
        batch.drop_column("joined_via")
    op.drop_index("uq_flow_coalitions_pool_account_id", table_name="flow_coalitions")
    with op.batch_alter_table("flow_coalitions") as batch:
        if op.get_bind().dialect.name != "sqlite":
            batch.drop_constraint(op.f("fk_flow_coalitions_pool_account_id_accounts"), type_="foreignkey")
        batch.drop_column("link_site")
        batch.drop_column("link_platform")
        batch.drop_column("pool_account_id")
