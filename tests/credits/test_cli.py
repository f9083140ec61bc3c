"""The service's commands: db upgrade, keys create, allowance run, expiry run, serve (and their refusals)."""

from __future__ import annotations

import os
import socket
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, inspect, select
from typer.testing import CliRunner

from datalever.cli import app
from datalever.economy import load_policy
from datalever.ledger.db import make_engine
from datalever.ledger.members import create_member
from datalever.ledger.posting import Idempotency, Ledger, request_hash
from datalever.web.models import API_KEYS
from tests.support.data import DEFAULT_POLICY
from tests.support.server import Server, ServerFailed

runner = CliRunner()


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'cli.db'}"


def test_db_upgrade_creates_the_schema(url: str) -> None:
    result = runner.invoke(app, ["db", "upgrade", "--database-url", url])
    assert result.exit_code == 0, result.output
    engine = make_engine(url)
    assert {"accounts", "members", "operations", "lots", "transfers", "api_keys", "feedback"} <= set(
        inspect(engine).get_table_names()
    )
    engine.dispose()


def test_keys_create_prints_a_working_key_once(url: str) -> None:
    result = runner.invoke(app, ["keys", "create", "--role", "operator", "--database-url", url])
    assert result.exit_code == 0, result.output
    token = result.output.strip().splitlines()[-1]
    assert token.startswith("dlk_")
    engine = make_engine(url)
    with engine.connect() as conn:
        stored = [row[0] for row in conn.exec_driver_sql("SELECT secret_hash FROM api_keys")]
    assert stored and all(token.split("_", 2)[2] not in value for value in stored)  # only a hash is kept
    engine.dispose()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--role", "wizard"], "unknown role"),
        (["--role", "member"], "needs the member"),
        (["--role", "operator", "--member", "1"], "not bound to a member"),
        (["--role", "member", "--member", "99"], "member 99 does not exist"),
    ],
)
def test_keys_create_refuses_bad_input(url: str, args: list[str], message: str) -> None:
    result = runner.invoke(app, ["keys", "create", *args, "--database-url", url])
    assert result.exit_code == 2 and message in result.output


def test_allowance_run_grants_once_per_month(url: str) -> None:
    runner.invoke(app, ["db", "upgrade", "--database-url", url])
    engine = make_engine(url)
    create_member(Ledger(engine, load_policy()), Idempotency("t", "m", request_hash("m")))
    engine.dispose()
    month = datetime.now(UTC).strftime("%Y-%m")
    first = runner.invoke(app, ["allowance", "run", "--month", month, "--database-url", url])
    assert first.exit_code == 0 and "1 members granted 100 credits" in first.output, first.output
    second = runner.invoke(app, ["allowance", "run", "--month", month, "--database-url", url])
    assert second.exit_code == 0 and "0 members granted 0 credits; 1 already had it" in second.output
    bad = runner.invoke(app, ["allowance", "run", "--month", "2026-13", "--database-url", url])
    assert bad.exit_code == 2 and "YYYY-MM" in bad.output


def test_expiry_run_reports_what_it_expired(url: str) -> None:
    result = runner.invoke(app, ["expiry", "run", "--database-url", url])
    assert result.exit_code == 0 and "expired 0 credits from 0 lots" in result.output


def test_serve_refuses_an_invalid_policy_naming_the_key(tmp_path: Path, url: str) -> None:
    policy = tmp_path / "bad.toml"
    policy.write_text(DEFAULT_POLICY.read_text().replace("base_price = 1", "base_price = -1"))
    result = runner.invoke(app, ["serve", "--policy", str(policy), "--database-url", url])
    assert result.exit_code == 2 and "query.base_price" in result.output


def test_serve_on_a_fresh_machine_creates_the_database_in_the_user_data_folder(tmp_path: Path) -> None:
    env = {key: value for key, value in os.environ.items() if not key.startswith("DATALEVER_")}
    env["XDG_DATA_HOME"] = str(tmp_path / "data")
    (tmp_path / "work").mkdir()
    with Server(None, workers=1, cwd=tmp_path / "work", env=env) as server:
        server.start()
        assert httpx.get(f"{server.url}/healthz", timeout=5).json() == {"status": "ok"}
        database = tmp_path / "data" / "datalever" / "datalever.db"
        assert database.exists()
        assert not (tmp_path / "work" / "datalever.db").exists()  # not relative to the current folder
        server.stop()
        output = server.output()
    token = next(line for line in output.splitlines() if line.startswith("dlk_"))
    assert "created an admin key" in output and token
    assert f"database: sqlite:///{database}" in " ".join(output.split())  # printed at start
    assert f"on http://127.0.0.1:{server.port} " in output


def test_every_command_uses_the_same_default_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`keys create` run from another folder lands in the database `serve` and `db upgrade` use."""
    monkeypatch.delenv("DATALEVER_DATABASE_URL", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
    monkeypatch.chdir(tmp_path / "a")
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    monkeypatch.chdir(tmp_path / "b")
    created = runner.invoke(app, ["keys", "create", "--role", "operator"])
    assert created.exit_code == 0, created.output
    database = tmp_path / "data" / "datalever" / "datalever.db"
    assert f"database: sqlite:///{database}" in " ".join(created.output.split())
    engine = make_engine(f"sqlite:///{database}")
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(API_KEYS)).scalar_one() == 1
    engine.dispose()
    assert not (tmp_path / "a" / "datalever.db").exists() and not (tmp_path / "b" / "datalever.db").exists()


def test_a_server_that_cannot_start_says_why(tmp_path: Path) -> None:
    missing = tmp_path / "missing.toml"
    with Server(f"sqlite:///{tmp_path / 'x.db'}", workers=1, args=["--policy", str(missing)]) as server:
        with pytest.raises(ServerFailed, match="cannot read file") as failure:
            server.start(timeout_seconds=30)
        assert "exited with 2" in str(failure.value)
        assert server.process is None


def test_servers_get_distinct_reserved_ports(tmp_path: Path) -> None:
    with Server(None) as first, Server(None) as second:
        assert first.port != second.port
        with socket.socket() as other, pytest.raises(OSError):  # held: a plain bind (no SO_REUSEADDR) is refused
            other.bind(("127.0.0.1", first.port))


def test_keys_revoke_stops_a_key(url: str) -> None:
    from datalever.web.keys import authenticate

    token = runner.invoke(app, ["keys", "create", "--role", "admin", "--database-url", url]).output.split()[-1]
    key_id = token.split("_", 2)[1]
    assert runner.invoke(app, ["keys", "revoke", key_id, "--database-url", url]).exit_code == 0
    engine = make_engine(url)
    with engine.connect() as conn:
        assert authenticate(conn, token) is None
    engine.dispose()
    again = runner.invoke(app, ["keys", "revoke", key_id, "--database-url", url])
    assert again.exit_code == 2 and "no active key" in again.output
