"""Issue 10, running it in production: rate limits, /readyz, metrics, JSON logs, the API contract, and the
CLI's explanations (allowance for nobody, stipend imports and replays without --site)."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from typer.testing import CliRunner

from datalever.cli import app
from datalever.logs import configure_logging
from datalever.web.ratelimit import RateLimit, RateLimiter
from tests.support.api import Api

runner = CliRunner()
SECOND = 1_000_000_000
EXAMPLE_DUMP = Path(__file__).resolve().parents[1] / "fixtures"


class NanoClock:
    def __init__(self) -> None:
        self.now = 0

    def __call__(self) -> int:
        return self.now


def test_member_and_platform_keys_are_rate_limited_operators_are_not(api: Api) -> None:
    clock = NanoClock()
    api.client.app.state.rate_limiter = RateLimiter(RateLimit(rate=2, period_seconds=1.0, burst=2), clock)
    member_id = api.new_member(credits=20)
    role = api.member_key(member_id)
    assert [api.get(f"/v1/members/{member_id}/balance", role).status_code for _ in range(2)] == [200, 200]
    limited = api.get(f"/v1/members/{member_id}/balance", role)
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "1"
    assert limited.json()["code"] == "rate_limited"
    assert api.get("/v1/policy", "platform").status_code == 200  # another key, its own bucket
    for _ in range(20):  # operators (the gateway's charges) and admins are never limited
        assert api.get(f"/v1/members/{member_id}/balance", "operator").status_code == 200
    clock.now += SECOND // 2
    assert api.get(f"/v1/members/{member_id}/balance", role).status_code == 200


def test_readyz_checks_the_database_and_migrations(api: Api) -> None:
    assert api.client.get("/healthz").json() == {"status": "ok"}
    ready = api.client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["status"] == "ready"
    assert ready.json()["revision"] == ready.json()["head"]
    with api.ledger.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0003_merge'"))
    pending = api.client.get("/readyz")
    assert pending.status_code == 503 and "migrations pending" in pending.json()["database"]
    assert pending.json()["revision"] == ["0003_merge"] and "Retry-After" in pending.headers


def test_metrics_for_prometheus(api: Api) -> None:
    member_id = api.new_member(credits=10)
    assert api.post(f"/v1/members/{member_id}/charges", "operator", {}).status_code == 201
    assert api.get("/metrics", "platform").status_code == 403
    scraped = api.get("/metrics", "operator")
    assert scraped.status_code == 200 and scraped.headers["content-type"].startswith("text/plain")
    body = scraped.text
    assert 'datalever_http_requests_total{method="POST",route="/v1/members",status="201"}' in body
    assert "datalever_http_request_seconds_bucket" in body
    assert "datalever_charge_batch_size_count 1.0" in body  # the fast path's charge, counted per batch
    assert 'datalever_charges_total{outcome="ok"} 1.0' in body
    assert "datalever_credits_issued 10.0" in body and "datalever_credits_spent 1.0" in body


def test_json_logs_and_errors_never_log_request_content(
    api: Api, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    configure_logging("json")
    logging.getLogger("datalever.test").info("hello %s", "world")
    line = capsys.readouterr().err.strip().splitlines()[-1]
    record = json.loads(line)
    assert record["message"] == "hello world" and record["level"] == "INFO" and "time" in record

    import datalever.ledger.feedback as feedback

    secret = "".join(["sec", "ret ", "feedback"])  # not spelled out, so the traceback's source lines miss it

    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError(secret)

    monkeypatch.setattr("datalever.credits.routes.feedback.submit_feedback", broken)
    member_id = api.new_member(credits=5)
    role = api.member_key(member_id)
    query = api.post(f"/v1/members/{member_id}/charges", "operator", {}).json()["query_id"]
    client = TestClient(api.client.app, raise_server_exceptions=False)
    body = {"query_id": query, "text": secret}
    response = client.post(f"/v1/members/{member_id}/feedback", json=body, headers=api.headers(role, "boom"))
    assert response.status_code == 500 and response.json()["code"] == "internal_error"
    logged = capsys.readouterr().err
    assert "RuntimeError" in logged and "/v1/members/{member_id}/feedback" in logged
    assert secret not in logged
    assert feedback.submit_feedback is not broken
    configure_logging("text")


def test_every_operation_documents_its_refusals_with_one_schema(api: Api) -> None:
    document = api.client.get("/openapi.json").json()
    assert "HTTPValidationError" not in document["components"]["schemas"]
    error = {"$ref": "#/components/schemas/Error"}
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            if operation.get("security"):
                for status in ("400", "401", "403", "404", "409", "429"):
                    assert status in responses, (method, path, status)
            if operation.get("parameters") or "requestBody" in operation:
                assert "422" in responses, (method, path)
            if method in ("post", "put"):
                assert "413" in responses, (method, path)
            for status, response in responses.items():
                if int(status) >= 400 and not (path == "/readyz" and status == "503"):
                    assert response["content"]["application/json"]["schema"] == error, (method, path, status)
    charge = document["paths"]["/v1/members/{member_id}/charges"]["post"]["responses"]
    assert "402" in charge
    refused = api.post("/v1/flows/whatifs", "platform", {"coalition": "x", "withheld": 5, "system": "y"})
    assert refused.status_code == 422 and isinstance(refused.json()["detail"], str)  # flows: the same shape


def test_allowance_run_explains_why_nobody_was_granted(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'a.db'}"
    month = datetime.now(UTC).strftime("%Y-%m")
    nobody = runner.invoke(app, ["allowance", "run", "--month", month, "--database-url", url])
    assert nobody.exit_code == 0 and "there are no members yet" in nobody.output
    assert runner.invoke(app, ["keys", "create", "--role", "admin", "--database-url", url]).exit_code == 0
    from datalever import migrations
    from datalever.economy import load_policy
    from datalever.ledger.db import make_engine
    from datalever.ledger.members import create_member
    from datalever.ledger.posting import Idempotency, Ledger, request_hash

    engine = make_engine(url)
    migrations.upgrade(engine)
    create_member(Ledger(engine, load_policy()), Idempotency("t", "m", request_hash("m")))
    engine.dispose()
    once = runner.invoke(app, ["allowance", "run", "--month", month, "--database-url", url])
    assert once.exit_code == 0 and "1 members granted" in once.output
    again = runner.invoke(app, ["allowance", "run", "--month", month, "--database-url", url])
    assert again.exit_code == 0 and "1 already had this month's allowance" in again.output


def test_stipends_import_without_site_is_refused_and_replay_warns(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 's.db'}"
    dump = tmp_path / "dump"
    dump.mkdir()
    refused = runner.invoke(
        app, ["stipends", "import", str(dump), "--platform", "stackexchange", "--database-url", url]
    )
    assert refused.exit_code == 2 and "give --site" in refused.output and "dump" in refused.output
    bad_site = runner.invoke(
        app,
        ["stipends", "import", str(dump), "--platform", "stackexchange", "--site", "Bikes SE", "--database-url", url],
    )
    assert bad_site.exit_code == 2 and "--site" in bad_site.output
    replay = runner.invoke(app, ["stipends", "replay", "--dump", str(dump), "--out", str(tmp_path / "out")])
    assert "warning: no --site given" in replay.output or "no such" in replay.output.lower() or replay.exit_code == 2
