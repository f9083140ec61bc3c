"""The by-source summary and the web app's tables on PostgreSQL (month grouping is compiled per database)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from datalever.service.app import create_app
from datalever.service.settings import Settings
from datalever.web.keys import create_key
from tests.support.clock import Clock
from tests.support.postgres import fresh_database
from tests.support.web import Web

pytestmark = pytest.mark.postgres


def test_summary_by_source_sign_in_and_directory_on_postgres() -> None:
    with fresh_database("dl_webapp") as url:
        clock = Clock(datetime(2026, 3, 31, 23, 30, tzinfo=UTC))  # late on the last day: month is UTC's
        app = create_app(Settings(database_url=url, auth_cache_seconds=0), clock=clock)
        web = Web(app, app.state.ledger, clock)
        with web.ledger.engine.begin() as conn:
            for role in ("admin", "operator", "platform"):
                web.tokens[role] = create_key(conn, role, platform="stackexchange" if role == "platform" else None)[1]
        member = web.new_member(30)
        web.api("POST", f"/v1/members/{member}/charges", role="operator", json={})
        march = web.api("GET", "/v1/summary?from=2026-03&to=2026-03").json()
        assert march["by_source"]["issued"]["grant"] == 30 and march["by_source"]["spent"]["grant"] == 1
        assert web.api("GET", "/v1/summary?from=2026-04").json()["credits_issued"] == 0
        client: TestClient = web.browser()
        web.sign_in(client, "member", member)
        assert "30" in client.get("/me").text
        assert client.get("/v1/levers").json()["count"] >= 25
        web.ledger.engine.dispose()
