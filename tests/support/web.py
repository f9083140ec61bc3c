"""The web app under test: a browser-like client (https, cookies) and signing in through a one-time code exactly
as a person would."""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from typing import Any

from fastapi.testclient import TestClient

from datalever.ledger.posting import Ledger
from datalever.webapp.sessions import create_code
from tests.support.clock import Clock

_keys = itertools.count()
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class Web:
    app: Any
    ledger: Ledger
    clock: Clock
    tokens: dict[str, str] = field(default_factory=dict)

    def browser(self) -> TestClient:
        """A fresh client with its own cookie jar (https, so Secure cookies are sent)."""
        return TestClient(self.app, base_url="https://testserver", follow_redirects=False)

    def api(self, method: str, path: str, role: str = "admin", json: Any = None) -> Any:
        headers = {"Authorization": f"Bearer {self.tokens[role]}", "Idempotency-Key": f"k-{next(_keys)}"}
        with TestClient(self.app, base_url="https://testserver") as client:
            return client.request(method, path, json=json, headers=headers)

    def new_member(self, credits: int = 0) -> int:
        member_id = int(self.api("POST", "/v1/members", json={}).json()["id"])
        if credits:
            response = self.api("POST", f"/v1/members/{member_id}/grants", json={"amount": credits, "source": "test"})
            assert response.status_code == 201, response.text
        return member_id

    def code(self, role: str = "member", member_id: int | None = None) -> str:
        with self.ledger.engine.begin() as conn:
            return create_code(conn, role, member_id, "test", self.clock())[0]

    def sign_in(self, client: TestClient, role: str = "member", member_id: int | None = None) -> str:
        """Sign `client` in through the sign-in form; returns the session's CSRF token."""
        form = client.get("/signin")
        token = CSRF.search(form.text)
        assert token is not None
        response = client.post("/signin", data={"csrf_token": token.group(1), "code": self.code(role, member_id)})
        assert response.status_code == 303, response.text
        return csrf_of(client.get("/levers"))


def csrf_of(response: Any) -> str:
    found = CSRF.search(response.text)
    assert found is not None, "no CSRF token on the page"
    return found.group(1)
