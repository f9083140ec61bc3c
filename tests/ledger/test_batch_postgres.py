"""On PostgreSQL a batch skips members another transaction holds, instead of waiting with the whole batch."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from datalever.economy import load_policy
from datalever.ledger import migrate
from datalever.ledger.charges import charge_work
from datalever.ledger.db import make_engine
from datalever.ledger.grants import grant_credits
from datalever.ledger.models import MEMBERS, OPERATIONS
from datalever.ledger.posting import BatchItem, Idempotency, Ledger, Outcome, request_hash
from tests.ledger.helpers import check_books, idem, new_member, spendable
from tests.ledger.pg import fresh_database

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg_ledger() -> Iterator[Ledger]:
    with fresh_database("dl_batch") as url:
        engine = make_engine(url)
        migrate.upgrade(engine)
        yield Ledger(engine, load_policy())
        engine.dispose()


def _item(ledger: Ledger, key: str, member: int) -> BatchItem:
    return BatchItem(Idempotency("api", key, request_hash(member)), "query", charge_work(ledger, member), member)


def _recorded(ledger: Ledger, key: str) -> bool:
    with ledger.engine.connect() as conn:
        return conn.execute(select(OPERATIONS.c.id).where(OPERATIONS.c.key == key)).first() is not None


def test_busy_member_does_not_hold_up_the_batch(pg_ledger: Ledger) -> None:
    busy, _ = new_member(pg_ledger)
    free, _ = new_member(pg_ledger)
    for member in (busy, free):
        grant_credits(pg_ledger, idem("g", member), member, 5, "test")
    results: list[Outcome | Exception] = []
    with pg_ledger.engine.connect() as holder:
        holder.execute(select(MEMBERS.c.id).where(MEMBERS.c.id == busy).with_for_update())  # another txn holds it
        worker = threading.Thread(
            target=lambda: results.extend(
                pg_ledger.execute_batch([_item(pg_ledger, "busy", busy), _item(pg_ledger, "free", free)])
            )
        )
        worker.start()
        deadline = time.monotonic() + 20
        while not _recorded(pg_ledger, "free"):  # the free member's charge commits while `busy` is held
            assert time.monotonic() < deadline, "the batch waited for the busy member"
            time.sleep(0.01)
        assert not _recorded(pg_ledger, "busy")
        holder.rollback()  # release the busy member
    worker.join(timeout=20)
    assert len(results) == 2 and all(isinstance(result, Outcome) for result in results)
    assert spendable(pg_ledger, busy) == spendable(pg_ledger, free) == 4
    check_books(pg_ledger)
