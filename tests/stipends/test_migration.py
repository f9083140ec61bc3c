"""The stipends migration creates exactly the tables the models declare, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

import datalever.stipends.models  # noqa: F401  (registers the stipend tables on Base.metadata)
from datalever import migrations
from datalever.ledger.db import make_engine
from datalever.ledger.models import Base
from tests.support.postgres import fresh_database

TABLES = {"platform_links", "link_events", "contribution_imports", "contributions", "stipend_payments"}


def _check(url: str) -> None:
    engine = make_engine(url)
    try:
        migrations.upgrade(engine)
        with engine.connect() as conn:
            assert set(inspect(conn).get_table_names()) >= TABLES
            assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
    finally:
        engine.dispose()


def test_migration_matches_models_on_sqlite(tmp_path: Path) -> None:
    _check(f"sqlite:///{tmp_path / 'schema.db'}")


@pytest.mark.postgres
def test_migration_matches_models_on_postgres() -> None:
    with fresh_database("dl_stipends_schema") as url:
        _check(url)
