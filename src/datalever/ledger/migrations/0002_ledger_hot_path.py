"""ledger hot path: HOT-friendly lot indexes, history through lots, room on each page for HOT updates

Revision ID: 0002_ledger
Revises: 0001_ledger
Create Date: 2026-11-27

A charge updates one lot's `remaining` and one member's session fields. With no index mentioning those
columns and free space left on each page, PostgreSQL updates them in place (HOT) without new index entries.
Transfers are no longer indexed by account: every transfer touching a member names the member's lot, so a
member's history is found through its lots, and no index entry lands on a sink account's hot page.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_ledger"
down_revision: str | Sequence[str] | None = "0001_ledger"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("lots", schema=None) as batch_op:
        batch_op.drop_index("ix_lots_open_by_account")
        batch_op.drop_index("ix_lots_open_by_expiry")
        batch_op.create_index("ix_lots_account", ["account_id"], unique=False)
        batch_op.create_index(
            "ix_lots_expiring",
            ["expires_at"],
            unique=False,
            sqlite_where=sa.text("expires_at IS NOT NULL"),
            postgresql_where=sa.text("expires_at IS NOT NULL"),
        )
    with op.batch_alter_table("transfers", schema=None) as batch_op:
        batch_op.drop_index("ix_transfers_debit_account")
        batch_op.drop_index("ix_transfers_credit_account")
        batch_op.create_index(
            "ix_transfers_debit_lot",
            ["debit_lot_id"],
            unique=False,
            sqlite_where=sa.text("debit_lot_id IS NOT NULL"),
            postgresql_where=sa.text("debit_lot_id IS NOT NULL"),
        )
        batch_op.create_index(
            "ix_transfers_credit_lot",
            ["credit_lot_id"],
            unique=False,
            sqlite_where=sa.text("credit_lot_id IS NOT NULL"),
            postgresql_where=sa.text("credit_lot_id IS NOT NULL"),
        )
    if op.get_context().dialect.name == "postgresql":
        op.execute("ALTER TABLE lots SET (fillfactor = 70)")
        op.execute("ALTER TABLE members SET (fillfactor = 80)")


def downgrade() -> None:
    if op.get_context().dialect.name == "postgresql":
        op.execute("ALTER TABLE lots RESET (fillfactor)")
        op.execute("ALTER TABLE members RESET (fillfactor)")
    with op.batch_alter_table("transfers", schema=None) as batch_op:
        batch_op.drop_index("ix_transfers_credit_lot")
        batch_op.drop_index("ix_transfers_debit_lot")
        batch_op.create_index("ix_transfers_credit_account", ["credit_account_id", "id"], unique=False)
        batch_op.create_index("ix_transfers_debit_account", ["debit_account_id", "id"], unique=False)
    with op.batch_alter_table("lots", schema=None) as batch_op:
        batch_op.drop_index("ix_lots_expiring")
        batch_op.drop_index("ix_lots_account")
        batch_op.create_index(
            "ix_lots_open_by_expiry",
            ["expires_at"],
            unique=False,
            sqlite_where=sa.text("remaining > 0 AND expires_at IS NOT NULL"),
            postgresql_where=sa.text("remaining > 0 AND expires_at IS NOT NULL"),
        )
        batch_op.create_index(
            "ix_lots_open_by_account",
            ["account_id"],
            unique=False,
            sqlite_where=sa.text("remaining > 0"),
            postgresql_where=sa.text("remaining > 0"),
        )
