"""A service on a given database, through FastAPI's test client, with one key per role."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from fastapi.testclient import TestClient

from datalever.ledger.posting import Ledger
from datalever.service.app import create_app
from datalever.service.settings import Settings
from datalever.web.keys import create_key
from tests.support.clock import Clock

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


@contextmanager
def make_api(database_url: str, clock: Clock) -> Iterator[Api]:
    """A running app on `database_url` (keys cached for no time) with an admin, operator and platform key.

    Platform keys are scoped: "platform" speaks for GitHub, "platform:<name>" for each other platform."""
    app = create_app(Settings(database_url=database_url, auth_cache_seconds=0), clock=clock)
    ledger: Ledger = app.state.ledger
    tokens = {}
    with ledger.engine.begin() as conn:
        for role in ("admin", "operator"):
            tokens[role] = create_key(conn, role)[1]
        tokens["platform"] = create_key(conn, "platform", platform="github")[1]
        for platform in ("stackexchange", "wikipedia"):
            tokens[f"platform:{platform}"] = create_key(conn, "platform", platform=platform)[1]
    try:
        with TestClient(app) as client:
            yield Api(client, ledger, clock, tokens)
    finally:
        ledger.engine.dispose()
