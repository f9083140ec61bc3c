"""Database defaults: one location every command agrees on, SQLite durable by default, no parameters in logs."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from datalever.ledger.db import make_engine
from datalever.locations import database_url, default_database_path


def test_sqlite_is_synchronous_full_by_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DATALEVER_SQLITE_SYNCHRONOUS", raising=False)
    engine = make_engine(f"sqlite:///{tmp_path / 'a.db'}")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
    engine.dispose()
    monkeypatch.setenv("DATALEVER_SQLITE_SYNCHRONOUS", "normal")
    engine = make_engine(f"sqlite:///{tmp_path / 'b.db'}")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL, chosen explicitly
    engine.dispose()
    monkeypatch.setenv("DATALEVER_SQLITE_SYNCHRONOUS", "OFF")
    with pytest.raises(ValueError, match="DATALEVER_SQLITE_SYNCHRONOUS"):
        make_engine(f"sqlite:///{tmp_path / 'c.db'}")


def test_sql_parameters_never_in_errors_or_logs(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'p.db'}", echo=True)
    secret = "my private feedback text"
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (v TEXT NOT NULL UNIQUE)"))
        conn.execute(text("INSERT INTO t VALUES (:v)"), {"v": secret})
    caplog.set_level(logging.INFO, logger="sqlalchemy")
    with pytest.raises(IntegrityError) as raised, engine.begin() as conn:
        conn.execute(text("INSERT INTO t VALUES (:v)"), {"v": secret})
    assert secret not in str(raised.value)
    assert secret not in caplog.text
    engine.dispose()


def test_default_location_is_one_place(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DATALEVER_DATABASE_URL", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.chdir(tmp_path)
    first = database_url()
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    assert database_url() == first == f"sqlite:///{tmp_path / 'data' / 'datalever' / 'datalever.db'}"
    assert default_database_path().parent.is_dir()  # created, so the first command on a machine works
    monkeypatch.setenv("DATALEVER_DATABASE_URL", "postgresql+psycopg://u@h/db")
    assert database_url() == "postgresql+psycopg://u@h/db"
    assert database_url("sqlite:///given.db") == "sqlite:///given.db"
