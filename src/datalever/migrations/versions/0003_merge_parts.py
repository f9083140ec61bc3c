"""merge the parts: stipends and flows both branched off 0002_ledger

Revision ID: 0003_merge
Revises: stipends_0001, flows_0001
Create Date: 2026-11-27

No schema change. It joins the two branches so the history has a single head again: `upgrade` targets
"head", and a database already at both old heads (upgraded to "heads" before this revision) moves here
without running anything else. The next revision of any part revises this one.
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0003_merge"
down_revision: str | Sequence[str] | None = ("stipends_0001", "flows_0001")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
