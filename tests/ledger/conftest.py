"""A fresh SQLite ledger per test, a clock the test moves by hand, and counters of the batch write paths."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.exc import DBAPIError

from datalever import migrations
from datalever.economy import load_policy
from datalever.ledger import pg_batch, storage
from datalever.ledger.db import make_engine
from datalever.ledger.posting import Ledger
from tests.support.batch_paths import BatchPaths
from tests.support.clock import Clock


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 3, 10, 12, 0, tzinfo=UTC))


@pytest.fixture
def ledger(tmp_path: Path, clock: Clock) -> Iterator[Ledger]:
    engine = make_engine(f"sqlite:///{tmp_path / 'ledger.db'}")
    migrations.upgrade(engine)
    yield Ledger(engine, load_policy(), clock)
    engine.dispose()


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
