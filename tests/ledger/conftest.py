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
from datalever.ledger import bulk_write, migrate, posting
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
    """How `execute_batch` wrote its batches: counted so a test fails if the path it is about is never taken."""

    bulk_batches: int = 0  # PostgreSQL bulk writes that inserted all of several operations at once
    key_races: int = 0  # batches that found a key taken and fell back to one-by-one execution
    database_errors: int = 0  # batches the database refused (a single client should never cause one)


@pytest.fixture
def batch_paths(monkeypatch: pytest.MonkeyPatch) -> BatchPaths:
    seen = BatchPaths()
    write_all, batch_once = bulk_write.write_all, Ledger._execute_batch_once

    def counting_write_all(conn: Any, operations: Any, *rest: Any) -> int:
        inserted = write_all(conn, operations, *rest)
        seen.bulk_batches += inserted == len(operations) > 1
        return inserted

    def counting_batch_once(self: Ledger, *args: Any) -> Any:
        try:
            return batch_once(self, *args)
        except posting._KeyRace:
            seen.key_races += 1
            raise
        except DBAPIError:
            seen.database_errors += 1
            raise

    monkeypatch.setattr(bulk_write, "write_all", counting_write_all)
    monkeypatch.setattr(Ledger, "_execute_batch_once", counting_batch_once)
    return seen
