"""The ledger's declaration: its tables and its migrations; no routes or commands (the credits part has those)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from datalever.part import Part

if TYPE_CHECKING:
    from sqlalchemy import MetaData


def _metadata() -> MetaData:
    from datalever.ledger.models import Base

    return Base.metadata


PART = Part(name="ledger", metadata=_metadata, migrations=Path(__file__).parent / "migrations")
