"""The service fixture for the flows API, on SQLite and (mandatory in CI) on a fresh PostgreSQL database."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.support.api import Api, make_api
from tests.support.clock import Clock
from tests.support.postgres import fresh_database


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def flows_api(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Api]:
    clock = Clock(datetime(2026, 3, 10, 12, 0, tzinfo=UTC))
    if request.param == "sqlite":
        with make_api(f"sqlite:///{tmp_path / 'flows.db'}", clock) as api:
            yield api
        return
    with fresh_database("flows") as url, make_api(url, clock) as api:
        yield api
