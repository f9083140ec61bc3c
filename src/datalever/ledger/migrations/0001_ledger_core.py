"""ledger core: accounts, members, operations, lots, transfers, keys, feedback

Revision ID: 0001_ledger
Revises:
Create Date: 2026-11-27

The system accounts (issuance source, spend and expiry sinks) are rows created here with fixed codes.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0001_ledger"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "accounts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=120), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("bounded", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accounts")),
        sa.UniqueConstraint("code", name=op.f("uq_accounts_code")),
    )
    op.create_table(
        "operations",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("scope", sa.String(length=120), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=True),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("response", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_operations")),
        sa.UniqueConstraint("scope", "key", name="uq_operations_scope_key"),
    )
    op.create_table(
        "lots",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("operation_id", sa.Uuid(), nullable=False),
        sa.Column("source", sa.String(length=40), nullable=False),
        sa.Column("amount", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("remaining", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("granted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("amount > 0", name=op.f("ck_lots_amount_positive")),
        sa.CheckConstraint("remaining >= 0 AND remaining <= amount", name=op.f("ck_lots_remaining_in_range")),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], name=op.f("fk_lots_account_id_accounts")),
        sa.ForeignKeyConstraint(["operation_id"], ["operations.id"], name=op.f("fk_lots_operation_id_operations")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lots")),
    )
    with op.batch_alter_table("lots", schema=None) as batch_op:
        batch_op.create_index(
            "ix_lots_open_by_account",
            ["account_id"],
            unique=False,
            sqlite_where=sa.text("remaining > 0"),
            postgresql_where=sa.text("remaining > 0"),
        )
        batch_op.create_index(
            "ix_lots_open_by_expiry",
            ["expires_at"],
            unique=False,
            sqlite_where=sa.text("remaining > 0 AND expires_at IS NOT NULL"),
            postgresql_where=sa.text("remaining > 0 AND expires_at IS NOT NULL"),
        )

    op.create_table(
        "members",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("external_ref", sa.String(length=200), nullable=True),
        sa.Column("reputation", sa.Float(), nullable=False),
        sa.Column("joined_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("session_position", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("last_query_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], name=op.f("fk_members_account_id_accounts")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_members")),
        sa.UniqueConstraint("account_id", name=op.f("uq_members_account_id")),
        sa.UniqueConstraint("external_ref", name=op.f("uq_members_external_ref")),
    )
    op.create_table(
        "api_keys",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=True),
        sa.Column("label", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"], name=op.f("fk_api_keys_member_id_members")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_keys")),
    )
    op.create_table(
        "feedback",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("query_id", sa.Uuid(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("text_hash", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("reward", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("reputation_before", sa.Float(), nullable=True),
        sa.Column("reputation_after", sa.Float(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("moderated_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"], name=op.f("fk_feedback_member_id_members")),
        sa.ForeignKeyConstraint(["query_id"], ["operations.id"], name=op.f("fk_feedback_query_id_operations")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feedback")),
        sa.UniqueConstraint("member_id", "text_hash", name="uq_feedback_member_text"),
        sa.UniqueConstraint("query_id", name="uq_feedback_query"),
    )
    with op.batch_alter_table("feedback", schema=None) as batch_op:
        batch_op.create_index("ix_feedback_member_created", ["member_id", "created_at"], unique=False)

    op.create_table(
        "transfers",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("operation_id", sa.Uuid(), nullable=False),
        sa.Column("debit_account_id", sa.Integer(), nullable=False),
        sa.Column("credit_account_id", sa.Integer(), nullable=False),
        sa.Column("amount", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("debit_lot_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("credit_lot_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("reverses_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("amount > 0", name=op.f("ck_transfers_amount_positive")),
        sa.CheckConstraint("debit_account_id <> credit_account_id", name=op.f("ck_transfers_distinct_accounts")),
        sa.ForeignKeyConstraint(
            ["credit_account_id"], ["accounts.id"], name=op.f("fk_transfers_credit_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(["credit_lot_id"], ["lots.id"], name=op.f("fk_transfers_credit_lot_id_lots")),
        sa.ForeignKeyConstraint(
            ["debit_account_id"], ["accounts.id"], name=op.f("fk_transfers_debit_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(["debit_lot_id"], ["lots.id"], name=op.f("fk_transfers_debit_lot_id_lots")),
        sa.ForeignKeyConstraint(["operation_id"], ["operations.id"], name=op.f("fk_transfers_operation_id_operations")),
        sa.ForeignKeyConstraint(["reverses_id"], ["transfers.id"], name=op.f("fk_transfers_reverses_id_transfers")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transfers")),
    )
    with op.batch_alter_table("transfers", schema=None) as batch_op:
        batch_op.create_index("ix_transfers_credit_account", ["credit_account_id", "id"], unique=False)
        batch_op.create_index("ix_transfers_debit_account", ["debit_account_id", "id"], unique=False)
        batch_op.create_index(batch_op.f("ix_transfers_operation_id"), ["operation_id"], unique=False)

    accounts = sa.table(
        "accounts",
        sa.column("code", sa.String),
        sa.column("kind", sa.String),
        sa.column("bounded", sa.Boolean),
        sa.column("created_at", sa.DateTime(timezone=True)),
    )
    now = datetime.now(UTC)
    if op.get_context().dialect.name == "sqlite":
        now = now.replace(tzinfo=None)
    op.bulk_insert(
        accounts,
        [
            {"code": "issuance", "kind": "source", "bounded": False, "created_at": now},
            {"code": "spend", "kind": "sink", "bounded": False, "created_at": now},
            {"code": "expiry", "kind": "sink", "bounded": False, "created_at": now},
        ],
    )


def downgrade() -> None:
    with op.batch_alter_table("transfers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_transfers_operation_id"))
        batch_op.drop_index("ix_transfers_debit_account")
        batch_op.drop_index("ix_transfers_credit_account")

    op.drop_table("transfers")
    with op.batch_alter_table("feedback", schema=None) as batch_op:
        batch_op.drop_index("ix_feedback_member_created")

    op.drop_table("feedback")
    op.drop_table("api_keys")
    op.drop_table("members")
    with op.batch_alter_table("lots", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_lots_open_by_expiry",
            sqlite_where=sa.text("remaining > 0 AND expires_at IS NOT NULL"),
            postgresql_where=sa.text("remaining > 0 AND expires_at IS NOT NULL"),
        )
        batch_op.drop_index(
            "ix_lots_open_by_account", sqlite_where=sa.text("remaining > 0"), postgresql_where=sa.text("remaining > 0")
        )

    op.drop_table("lots")
    op.drop_table("operations")
    op.drop_table("accounts")
