"""PostgreSQL for tests: the server's URL (or a clear skip) and a uniquely named fresh database per test."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url


def postgres_url() -> str | None:
    return os.environ.get("DATALEVER_TEST_POSTGRES_URL") or None


def require_postgres() -> str:
    """The PostgreSQL URL, or a clear skip (a failure when DATALEVER_REQUIRE_POSTGRES=1, as in CI)."""
    url = postgres_url()
    if url is None:
        if os.environ.get("DATALEVER_REQUIRE_POSTGRES") == "1":
            pytest.fail("DATALEVER_TEST_POSTGRES_URL is not set but DATALEVER_REQUIRE_POSTGRES=1 (CI)")
        pytest.skip("PostgreSQL test: set DATALEVER_TEST_POSTGRES_URL=postgresql+psycopg://... to run it")
    return url


@contextmanager
def fresh_database(prefix: str = "dl_test") -> Iterator[str]:
    """URL of a new empty database on the test server (skips without PostgreSQL); dropped afterwards."""
    server = make_url(require_postgres())
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
