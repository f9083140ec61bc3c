"""A service on a fresh SQLite database with a test clock (helpers in tests/support/web.py)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from datalever.ledger.posting import Ledger
from datalever.service.app import create_app
from datalever.service.settings import Settings
from datalever.web.keys import create_key
from tests.support.clock import Clock
from tests.support.web import Web


@pytest.fixture
def web(tmp_path: Path) -> Iterator[Web]:
    clock = Clock(datetime(2026, 3, 10, 12, 0, tzinfo=UTC))
    app = create_app(Settings(database_url=f"sqlite:///{tmp_path / 'web.db'}", auth_cache_seconds=0), clock=clock)
    ledger: Ledger = app.state.ledger
    web = Web(app, ledger, clock)
    with ledger.engine.begin() as conn:
        for role in ("admin", "operator", "platform"):
            web.tokens[role] = create_key(conn, role, platform="stackexchange" if role == "platform" else None)[1]
    yield web
    ledger.engine.dispose()
