"""The service fixture for the flows API, on SQLite and (mandatory in CI) on a fresh PostgreSQL database."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from datalever.ledger.keys import create_key
from datalever.ledger.posting import Ledger
from datalever.service.app import create_app
from datalever.service.settings import Settings
from tests.conftest import require_postgres
from tests.ledger.conftest import Clock
from tests.service.conftest import Api


def _fresh_postgres() -> tuple[str, str]:
    base = require_postgres()
    name = f"flows_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(base).set(database=name).render_as_string(hide_password=False), name


def _drop_postgres(name: str) -> None:
    admin = create_engine(require_postgres(), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def flows_api(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Api]:
    database = None
    if request.param == "postgres":
        url, database = _fresh_postgres()
    else:
        url = f"sqlite:///{tmp_path / 'flows.db'}"
    clock = Clock(datetime(2026, 3, 10, 12, 0, tzinfo=UTC))
    app = create_app(Settings(database_url=url, auth_cache_seconds=0), clock=clock)
    ledger: Ledger = app.state.ledger
    tokens = {}
    with ledger.engine.begin() as conn:
        for role in ("admin", "operator", "platform"):
            tokens[role] = create_key(conn, role)[1]
    try:
        with TestClient(app) as client:
            yield Api(client, ledger, clock, tokens)
    finally:
        ledger.engine.dispose()
        if database is not None:
            _drop_postgres(database)
