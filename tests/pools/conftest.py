"""Pools fixtures: the service fixture (SQLite, a clock the test controls)."""

from __future__ import annotations

from tests.ledger.conftest import database_url  # noqa: F401  (SQLite, and PostgreSQL when configured)
from tests.service.conftest import api  # noqa: F401  (the service fixture, reused as is)
