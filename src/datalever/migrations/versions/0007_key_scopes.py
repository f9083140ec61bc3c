"""platform keys are scoped: api_keys.platform and api_keys.site

Revision ID: 0007_key_scopes
Revises: 0006_pools
Create Date: 2026-12-01

A platform key belongs to one platform (and optionally one site). Existing platform keys get no scope
(NULL): they still authenticate, but every platform route refuses them with 403 until an admin runs
`datalever keys scope KEY_ID --platform NAME [--site SITE]` (docs/operations.md). Nothing is guessed:
a key that reported for several platforms must not silently keep that power.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_key_scopes"
down_revision: str | Sequence[str] | None = "0006_pools"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("api_keys", sa.Column("platform", sa.String(20), nullable=True))
    op.add_column("api_keys", sa.Column("site", sa.String(200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("api_keys") as batch:
        batch.drop_column("site")
        batch.drop_column("platform")
