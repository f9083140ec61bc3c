"""Fixtures every test folder may use; shared helpers (plain functions and classes) live in tests/support.

PostgreSQL tests read DATALEVER_TEST_POSTGRES_URL; CI makes them mandatory.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import settings

from tests.support.api import Api, make_api
from tests.support.clock import Clock
from tests.support.data import DEFAULT_POLICY
from tests.support.postgres import fresh_database

# Tests never assert wall-clock time: Hypothesis's per-example deadline would fail a correct test on a busy
# 2-core machine (CI shares its cores with PostgreSQL and the test servers), so it is off everywhere.
settings.register_profile("datalever", deadline=None)
settings.load_profile("datalever")


@pytest.fixture(autouse=True)
def _user_data_folder(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Commands run without --database-url use the user data folder: never the real one in tests."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path_factory.mktemp("user-data")))


@pytest.fixture
def default_policy_path() -> Path:
    return DEFAULT_POLICY


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database: a SQLite file, or a fresh PostgreSQL database (that run is mandatory in CI)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'ledger.db'}"
        return
    with fresh_database("dl_ledger") as url:
        yield url


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    """A service on a fresh SQLite database, with one key per role and a clock the test controls."""
    with make_api(f"sqlite:///{tmp_path / 'service.db'}", Clock(datetime(2026, 3, 10, 12, 0, tzinfo=UTC))) as api:
        yield api
