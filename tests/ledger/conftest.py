"""A fresh SQLite ledger per test (or an empty database on each engine), a clock the test moves by hand,
and counters of the batch write paths."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.exc import DBAPIError

from datalever.economy import load_policy
from datalever.ledger import migrate, pg_batch, storage
from datalever.ledger.db import make_engine
from datalever.ledger.posting import Ledger
from tests.ledger.pg import fresh_database


@dataclass
class Clock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 3, 10, 12, 0, tzinfo=UTC))


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database: a SQLite file, or a fresh PostgreSQL database (that run is mandatory in CI)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'ledger.db'}"
        return
    with fresh_database("dl_ledger") as url:
        yield url


@pytest.fixture
def ledger(tmp_path: Path, clock: Clock) -> Iterator[Ledger]:
    engine = make_engine(f"sqlite:///{tmp_path / 'ledger.db'}")
    migrate.upgrade(engine)
    yield Ledger(engine, load_policy(), clock)
    engine.dispose()


@dataclass
class BatchPaths:
    """How `execute_batch` ran its batches: counted so a test fails if the path it is about is never taken."""

    bulk_batches: int = 0  # PostgreSQL pipelined writes of several operations at once
    alone: int = 0  # items left out of their batch (key already taken, or repeated) and answered after it
    fallbacks: int = 0  # batches that failed as a whole and ran one by one
    database_errors: int = 0  # ... of which the database refused (a single client should never cause one)


@pytest.fixture
def batch_paths(monkeypatch: pytest.MonkeyPatch) -> BatchPaths:
    seen = BatchPaths()
    write_and_commit, batch_once, stored = pg_batch.write_and_commit, Ledger._execute_batch_once, Ledger._stored_rows

    def counting_write(conn: Any, writes: pg_batch.Writes) -> None:
        write_and_commit(conn, writes)
        seen.bulk_batches += len(writes.operations) > 1

    def counting_batch_once(self: Ledger, *args: Any) -> Any:
        try:
            return batch_once(self, *args)
        except storage.KeyTaken:
            seen.fallbacks += 1
            raise
        except (DBAPIError, pg_batch.BatchAborted):
            seen.fallbacks += 1
            seen.database_errors += 1
            raise

    def counting_stored(self: Ledger, idems: Any) -> Any:
        seen.alone += len(idems)
        return stored(self, idems)

    monkeypatch.setattr(pg_batch, "write_and_commit", counting_write)
    monkeypatch.setattr(Ledger, "_execute_batch_once", counting_batch_once)
    monkeypatch.setattr(Ledger, "_stored_rows", counting_stored)
    return seen
