"""The web layer's table: API keys (created by the ledger's first migration, `0001_ledger`, and kept there).

On the ledger's `Base` so its foreign key to `members` resolves; the ledger itself never reads it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from datalever.ledger.models import Base, table_of
from datalever.ledger.types import UTCDateTime


class ApiKey(Base):
    """An API key: only the SHA-256 of its secret is stored (keys are random, so no slow hash is needed)."""

    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(20))
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    label: Mapped[str | None] = mapped_column(String(200))
    # A platform key's scope (migration 0007_key_scopes): the platform it speaks for and, optionally, one
    # site. NULL on a platform key means "not scoped yet": such a key is refused until an admin scopes it.
    platform: Mapped[str | None] = mapped_column(String(20))
    site: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


API_KEYS = table_of(ApiKey)
