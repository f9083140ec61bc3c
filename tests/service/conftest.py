"""A service on a fresh SQLite database, with one key per role and a clock the test controls."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from datalever.ledger.keys import create_key
from datalever.ledger.posting import Ledger
from datalever.service.app import create_app
from datalever.service.settings import Settings
from tests.ledger.conftest import Clock

_keys = itertools.count()


@dataclass
class Api:
    """A test client plus the plaintext keys of each role."""

    client: TestClient
    ledger: Ledger
    clock: Clock
    tokens: dict[str, str]

    def headers(self, role: str, key: str | None = None) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {self.tokens[role]}"}
        if key is not None:
            headers["Idempotency-Key"] = key
        return headers

    def post(self, path: str, role: str, json: Any = None, key: str | None = "auto") -> Any:
        key = f"auto-{next(_keys)}" if key == "auto" else key
        return self.client.post(path, json=json, headers=self.headers(role, key))

    def get(self, path: str, role: str) -> Any:
        return self.client.get(path, headers=self.headers(role))

    def member_key(self, member_id: int) -> str:
        with self.ledger.engine.begin() as conn:
            _principal, token = create_key(conn, "member", member_id)
        role = f"member:{member_id}"
        self.tokens[role] = token
        return role

    def new_member(self, credits: int = 0) -> int:
        member_id = int(self.post("/v1/members", "admin", {}).json()["id"])
        if credits:
            response = self.post(f"/v1/members/{member_id}/grants", "admin", {"amount": credits, "source": "test"})
            assert response.status_code == 201, response.text
        return member_id


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    clock = Clock(datetime(2026, 3, 10, 12, 0, tzinfo=UTC))
    app = create_app(Settings(database_url=f"sqlite:///{tmp_path / 'service.db'}", auth_cache_seconds=0), clock=clock)
    ledger: Ledger = app.state.ledger
    tokens = {}
    with ledger.engine.begin() as conn:
        for role in ("admin", "operator", "platform"):
            tokens[role] = create_key(conn, role)[1]
    with TestClient(app) as client:
        yield Api(client, ledger, clock, tokens)
    ledger.engine.dispose()
