"""Issue 10, "Credits created from a string" and "No 5xx from bad input": every value is parsed in its one
spelling and bounded, on SQLite and PostgreSQL; nothing changes when a request is refused."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from datalever.cli import app
from tests.support.api import Api, make_api
from tests.support.clock import Clock
from tests.variants import FULLWIDTH_MONTH, other_spellings

runner = CliRunner()


@pytest.fixture
def both(database_url: str) -> Iterator[Api]:
    """The service on SQLite and on PostgreSQL (mandatory in CI), its clock in December 2026."""
    with make_api(database_url, Clock(datetime(2026, 12, 15, 12, 0, tzinfo=UTC))) as api:
        yield api


def _balance(api: Api, member_id: int) -> int:
    return int(api.get(f"/v1/members/{member_id}/balance", "admin").json()["balance"])


def test_allowance_month_in_full_width_digits_is_refused(both: Api, database_url: str) -> None:
    api = both
    member_id = api.new_member()
    first = api.post("/v1/allowance/runs", "admin", {"month": "2026-12"})
    assert first.status_code == 200, first.text
    granted = _balance(api, member_id)
    assert granted == first.json()["credits_granted"] > 0
    for month in (FULLWIDTH_MONTH, "2026-12\n", " 2026-12", "2026-\uff11\uff12", "0000-01", "2026-1"):
        refused = api.post("/v1/allowance/runs", "admin", {"month": month})
        assert refused.status_code == 422, (month, refused.text)
        assert refused.json()["code"] == "invalid_request" and "YYYY-MM" in refused.json()["detail"]
    assert _balance(api, member_id) == granted  # granted once, whatever the spelling
    result = runner.invoke(app, ["allowance", "run", "--month", FULLWIDTH_MONTH, "--database-url", database_url])
    assert result.exit_code == 2 and "YYYY-MM" in result.output
    assert _balance(api, member_id) == granted


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_other_spellings_never_reach_the_ledger(api: Api, data: st.DataObject) -> None:
    """Unicode digits, whitespace and newlines in months, ids and keys: 4xx (422), and nothing changes."""
    member_id = 1 if api.get("/v1/members/1", "admin").status_code == 200 else api.new_member(credits=10)
    before = _balance(api, member_id)
    month = data.draw(other_spellings("2026-03"))
    assert api.post("/v1/allowance/runs", "admin", {"month": month}).status_code == 422
    assert api.post(f"/v1/stipends/{quote(month, safe='')}/run", "admin", {}).status_code == 422
    member = quote(data.draw(other_spellings(str(member_id))), safe="")
    assert api.post(f"/v1/members/{member}/charges", "operator", {}).status_code == 422
    assert api.post(f"/v1/members/{member}/grants", "admin", {"amount": 5}).status_code == 422
    grant = api.post(f"/v1/members/{member_id}/grants", "admin", {"amount": data.draw(other_spellings("5"))})
    assert grant.status_code == 422
    assert _balance(api, member_id) == before


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/v1/members", {"external_ref": "ref\x00x"}),
        ("/v1/members", {"external_ref": "x" * 201}),
        ("/v1/members", {"external_ref": " padded"}),
        ("/v1/allowance/runs", {"month": "0000-01"}),
        ("/v1/members/1/grants", {"amount": 2**63}),
        ("/v1/members/1/grants", {"amount": "5"}),
    ],
)
def test_out_of_bounds_fields_are_422(both: Api, path: str, body: dict[str, object]) -> None:
    api = both
    api.new_member()
    response = api.post(path, "admin", body)
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "invalid_request" and isinstance(response.json()["detail"], str)


def test_nul_in_feedback_and_reports_is_422_not_500(both: Api) -> None:
    api = both
    member_id = api.new_member(credits=10)
    role = api.member_key(member_id)
    query = api.post(f"/v1/members/{member_id}/charges", "operator", {"reference": "q-1"}).json()["query_id"]
    feedback = api.post(f"/v1/members/{member_id}/feedback", role, {"query_id": query, "text": "bad\x00answer"})
    assert feedback.status_code == 422, feedback.text
    charge = api.post(f"/v1/members/{member_id}/charges", "operator", {"reference": "q\x00"})
    assert charge.status_code == 422, charge.text
    record = {
        "platform": "github",
        "site": "github.com",
        "user_id": "7",
        "kind": "push",
        "source_id": "s1",
        "occurred_at": "2026-12-01T00:00:00Z",
    }
    for bad in ({"score": 2**63}, {"score": 2**31}, {"detail": "x\x00"}, {"user_id": "7\x00"}, {"site": "GitHub.com"}):
        response = api.post("/v1/platforms/github/contributions", "platform", {"contributions": [record | bad]})
        assert response.status_code == 422, (bad, response.text)
    good = api.post(
        "/v1/platforms/github/contributions", "platform", {"contributions": [record | {"score": 2**31 - 1}]}
    )
    assert good.status_code == 201, good.text
    assert _balance(api, member_id) == 9


def test_request_body_over_the_limit_is_413(tmp_path: object) -> None:
    from pathlib import Path

    from fastapi.testclient import TestClient

    from datalever.service.app import create_app
    from datalever.service.settings import Settings
    from datalever.web.keys import create_key

    assert isinstance(tmp_path, Path)
    service = create_app(Settings(database_url=f"sqlite:///{tmp_path / 'l.db'}", max_body_bytes=1000))
    with service.state.ledger.engine.begin() as conn:
        token = create_key(conn, "admin")[1]
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": "k1", "Content-Type": "application/json"}
    with TestClient(service) as client:
        big = client.post("/v1/members", content=b'{"external_ref": "' + b"x" * 2000 + b'"}', headers=headers)
        assert big.status_code == 413 and big.json()["code"] == "request_too_large"

        def chunks() -> Iterator[bytes]:
            yield b'{"external_ref": "'
            for _ in range(10):
                yield b"x" * 200
            yield b'"}'

        streamed = client.post("/v1/members", content=chunks(), headers=headers)  # chunked: no Content-Length
        assert streamed.status_code == 413 and streamed.json()["code"] == "request_too_large"
        small = client.post("/v1/members", json={"external_ref": "ok"}, headers=headers)
        assert small.status_code == 201
