"""ledger: members count the AI answers charged to them (the nudge cites the platform every n-th one)

Revision ID: 0004_ledger
Revises: 0003_merge
Create Date: 2026-12-01

Adds `members.answers` (0 by default) and fills it from the charges already stored (operations of kind
`query`: only charges that went through are stored), so the nudge keeps counting where a member is. No
index mentions it, so a charge's update of the member row stays a HOT update on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_ledger"
down_revision: str | Sequence[str] | None = "0003_merge"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A plain ADD COLUMN on both databases: a batch (copy and drop) of `members` would break the foreign keys
    # of api_keys and feedback on SQLite.
    op.add_column("members", sa.Column("answers", sa.Integer(), server_default=sa.text("0"), nullable=False))
    # One pass over the stored charges (SQLite >= 3.33 and PostgreSQL both have UPDATE ... FROM).
    op.execute(
        "UPDATE members SET answers = counted.answers FROM "
        "(SELECT member_id, count(*) AS answers FROM operations WHERE kind = 'query' AND member_id IS NOT NULL "
        "GROUP BY member_id) AS counted WHERE counted.member_id = members.id"
    )


def downgrade() -> None:
    op.drop_column("members", "answers")  # SQLite >= 3.35 drops a column in place
