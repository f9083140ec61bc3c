"""A charge that waited for a member's lock plans against the lots as the lock holder left them.

On PostgreSQL (READ COMMITTED) a statement reads the snapshot taken when it started, before it waited for
a row lock: the member lock must read the member's lots in a later statement. Transaction A locks and
charges a member and holds the lock; B charges the same member and waits; A commits; B must see A's debit.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, text

from datalever import migrations
from datalever.economy import load_policy
from datalever.ledger.charges import charge_item, charge_query, charge_work
from datalever.ledger.db import make_engine
from datalever.ledger.errors import InsufficientCredits, LedgerError
from datalever.ledger.grants import grant_credits
from datalever.ledger.posting import Ledger, Outcome, Posting
from datalever.ledger.values import recorded
from tests.support.batch_paths import BatchPaths
from tests.support.books import check_books, idem, new_member, spendable
from tests.support.clock import Clock
from tests.support.postgres import fresh_database

pytestmark = pytest.mark.postgres

_WAIT_S = 30.0


@pytest.fixture
def pg_ledger(clock: Clock) -> Iterator[Ledger]:
    with fresh_database("dl_lock_fresh") as url:
        engine = make_engine(url)
        try:
            migrations.upgrade(engine)
            yield Ledger(engine, load_policy(), clock)
        finally:
            engine.dispose()


def _charge_alone(ledger: Ledger, member: int) -> Outcome | LedgerError:
    try:
        return charge_query(ledger, idem("b", member), member)
    except LedgerError as error:
        return error


def _charge_in_batch(ledger: Ledger, member: int) -> Outcome | LedgerError:
    [result] = ledger.execute_batch([charge_item(ledger, idem("b", member), member)])
    return result


def _wait_for_lock_wait(engine: Engine, waiter: threading.Thread) -> None:
    """Return once a session of this database waits for a lock (B blocked on A's member lock)."""
    observer = create_engine(engine.url, isolation_level="AUTOCOMMIT")
    pause = threading.Event()
    try:
        with observer.connect() as conn:
            for _ in range(int(_WAIT_S / 0.005)):
                waiting = conn.execute(
                    text(
                        "SELECT count(*) FROM pg_stat_activity "
                        "WHERE datname = current_database() AND wait_event_type = 'Lock'"
                    )
                ).scalar_one()
                if waiting:
                    return
                assert waiter.is_alive(), "B finished without waiting for A's lock"
                pause.wait(0.005)  # poll the server's lock table, not a timing guess
    finally:
        observer.dispose()
    raise AssertionError("B never waited for A's member lock")


def _race(ledger: Ledger, member: int, charge_b: Callable[[Ledger, int], Outcome | LedgerError]) -> Any:
    """A charges `member` and holds its lock until B waits for it; returns (A's outcome, B's result)."""
    a_locked, release = threading.Event(), threading.Event()
    inner = charge_work(ledger, member)

    def held(posting: Posting) -> Any:
        charged = inner(posting)
        a_locked.set()
        assert release.wait(_WAIT_S), "the test never released A"
        return charged

    results: dict[str, Any] = {}

    def run_a() -> None:
        results["a"] = ledger.execute(idem("a", member), "query", held, member_id=member, reply=recorded)

    def run_b() -> None:
        try:
            results["b"] = charge_b(ledger, member)
        except Exception as error:  # the bug: an IntegrityError from the lots CHECK
            results["b"] = error

    a = threading.Thread(target=run_a)
    a.start()
    try:
        assert a_locked.wait(_WAIT_S), "A never locked the member"
        b = threading.Thread(target=run_b)
        b.start()
        _wait_for_lock_wait(ledger.engine, b)
    finally:
        release.set()
        a.join(_WAIT_S)
    b.join(_WAIT_S)
    assert not a.is_alive() and not b.is_alive()
    return results["a"], results["b"]


@pytest.mark.parametrize("charge_b", [_charge_alone, _charge_in_batch], ids=["alone", "batch"])
def test_a_charge_that_waited_for_the_lock_sees_the_debit_it_waited_for(
    pg_ledger: Ledger, batch_paths: BatchPaths, charge_b: Callable[[Ledger, int], Outcome | LedgerError]
) -> None:
    ledger = pg_ledger
    enough, short = new_member(ledger)[0], new_member(ledger)[0]
    grant_credits(ledger, idem("g", enough), enough, 2, "test")  # two charges of 1 credit each
    grant_credits(ledger, idem("g", short), short, 1, "test")  # one charge of 1 credit

    first, refused = _race(ledger, short, charge_b)
    assert isinstance(first, Outcome) and first.body["balance"] == 0
    assert isinstance(refused, InsufficientCredits), f"B should get a 402, got: {refused!r}"

    first, second = _race(ledger, enough, charge_b)
    assert isinstance(first, Outcome) and first.body["balance"] == 1
    assert isinstance(second, Outcome), f"B failed: {second!r}"
    assert second.body["balance"] == 0  # B planned against A's debit, not the lots before it

    assert batch_paths.fallbacks == 0  # the batch never failed on the database and ran one by one
    assert (spendable(ledger, enough), spendable(ledger, short)) == (0, 0)
    check_books(ledger)
