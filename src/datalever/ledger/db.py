"""Engines for SQLite (embedded default) and PostgreSQL (psycopg 3), with the same behaviour on both.

SQLite runs in WAL mode and every write transaction starts with BEGIN IMMEDIATE, so two writers never
deadlock upgrading a read lock; read-only work can ask for a plain BEGIN with `readonly=True`.

SQLite's `synchronous` is FULL by default: in WAL mode, NORMAL keeps the database consistent but may lose
the last commits on an OS crash or power loss, and a ledger must not answer "201 charged" for a charge it
can forget. `DATALEVER_SQLITE_SYNCHRONOUS=NORMAL` trades that for speed (benchmarks/sqlite_synchronous.py
measures the cost; docs/operations.md has the figures).
"""

from __future__ import annotations

import os
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

DEFAULT_DATABASE_URL = "sqlite:///datalever.db"
READONLY = {"readonly": True}
ENV_SQLITE_SYNCHRONOUS = "DATALEVER_SQLITE_SYNCHRONOUS"
SQLITE_SYNCHRONOUS = ("FULL", "NORMAL", "EXTRA")


def normalise_url(url: str) -> str:
    """Accept plain `postgresql://` URLs and route them to psycopg 3."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def make_engine(
    url: str = DEFAULT_DATABASE_URL,
    *,
    pool_size: int = 10,
    echo: bool = False,
    sqlite_synchronous: str | None = None,
) -> Engine:
    """An engine for `url`; SQLite gets WAL, foreign keys, a busy timeout and BEGIN IMMEDIATE.

    SQL parameters never appear in logs or error messages (`hide_parameters=True`): they carry request
    content (feedback text, external references).
    """
    url = normalise_url(url)
    if make_url(url).get_backend_name() == "sqlite":
        synchronous = (sqlite_synchronous or os.environ.get(ENV_SQLITE_SYNCHRONOUS) or "FULL").upper()
        if synchronous not in SQLITE_SYNCHRONOUS:
            raise ValueError(f"{ENV_SQLITE_SYNCHRONOUS} must be one of {', '.join(SQLITE_SYNCHRONOUS)}")
        engine = create_engine(
            url, echo=echo, hide_parameters=True, connect_args={"timeout": 30, "check_same_thread": False}
        )
        _configure_sqlite(engine, synchronous)
        return engine
    return create_engine(url, echo=echo, hide_parameters=True, pool_size=pool_size, max_overflow=pool_size)


def _configure_sqlite(engine: Engine, synchronous: str) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control from pysqlite so BEGIN IMMEDIATE below is what actually runs.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        readonly = connection.get_execution_options().get("readonly", False)
        connection.exec_driver_sql("BEGIN" if readonly else "BEGIN IMMEDIATE")
