"""Real concurrency (threads, one connection each): votes, donations, funding and tallies count exactly once.

On PostgreSQL the member's row lock serialises a member's votes (so the cap and the quadratic price see every
earlier vote), the idempotency key's unique index makes a repeated key one effect, and the proposal's row
lock keeps a tally from racing a vote. SQLite serialises writers, so the same tests hold there too.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select

from datalever import migrations
from datalever.economy import load_policy
from datalever.flows.catalog import load_catalog
from datalever.ledger.db import make_engine
from datalever.ledger.errors import LedgerError
from datalever.ledger.grants import grant_credits
from datalever.ledger.posting import Idempotency, Ledger, request_hash
from datalever.pools import operations
from datalever.pools.errors import VoteCapExceeded
from datalever.pools.models import Vote
from tests.support.books import check_books, new_member, spendable
from tests.support.clock import Clock

THREADS = 8


@pytest.fixture
def ledger(database_url: str) -> Iterator[Ledger]:
    engine = (
        make_engine(database_url, pool_size=THREADS + 2) if "postgresql" in database_url else make_engine(database_url)
    )
    migrations.upgrade(engine)
    policy = load_policy()
    voting = policy.pools.voting.model_copy(update={"max_votes_per_member": 5})
    policy = policy.model_copy(update={"pools": policy.pools.model_copy(update={"voting": voting})})
    yield Ledger(engine, policy, Clock(datetime(2026, 3, 10, 12, 0, tzinfo=UTC)))
    engine.dispose()


def together(calls: list[Callable[[], Any]]) -> list[Any]:
    """Run the calls in threads released at once; each result is its return value or its LedgerError."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = calls[i]()
        except Exception as error:  # a refusal (LedgerError), or anything else, which the caller sees
            results[i] = error

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    unexpected = [r for r in results if isinstance(r, Exception) and not isinstance(r, LedgerError)]
    assert not unexpected, f"not a clean refusal: {unexpected[0]!r}"
    return results


def idem(key: str, *request: Any) -> Idempotency:
    return Idempotency("test", key, request_hash(*request))


def setup(ledger: Ledger, credits: int) -> tuple[int, int]:
    """A community 'se' with one member holding `credits`, and an open data-use proposal."""
    operations.put_community(ledger, load_catalog(), "se", None, ["stack-exchange"], None, None, None)
    member = new_member(ledger)[0]
    operations.join(ledger, "se", member, True, "test")
    if credits:
        grant_credits(ledger, idem(f"g{member}", member), member, credits, "test")
    body = {"kind": "data_use", "title": "t", "preferences": {"default": "deny"}}
    proposal = operations.create_proposal(ledger, idem("p"), "se", body, "test").body["id"]
    return member, proposal


def pool(ledger: Ledger) -> int:
    with ledger.engine.connect() as conn:
        return int(operations.community_body(conn, "se")["pool_balance"])


def test_concurrent_votes_count_once_up_to_the_cap(ledger: Ledger) -> None:
    member, proposal = setup(ledger, 100)
    calls = [lambda i=i: operations.vote(ledger, idem(f"v{i}", i), proposal, member, 1, 1) for i in range(THREADS)]
    results = together(calls)
    accepted = [r for r in results if not isinstance(r, LedgerError)]
    assert len(accepted) == 5 and all(isinstance(r, VoteCapExceeded) for r in results if r not in accepted)
    # Quadratic: the k-th vote costs k^2 - (k-1)^2, whatever thread bought it; 5 votes cost 25 in all.
    assert sorted(r.body["credits"] for r in accepted) == [1, 3, 5, 7, 9]
    assert spendable(ledger, member) == 75 and pool(ledger) == 25
    with ledger.engine.connect() as conn:
        assert conn.execute(select(func.sum(Vote.votes))).scalar_one() == 5
    check_books(ledger)


def test_the_same_vote_sent_concurrently_is_one_vote(ledger: Ledger) -> None:
    member, proposal = setup(ledger, 100)
    results = together([lambda: operations.vote(ledger, idem("same", 2), proposal, member, 1, 2)] * THREADS)
    assert [r.replayed for r in results].count(False) == 1
    assert {r.body["operation_id"] for r in results} == {results[0].body["operation_id"]}
    assert spendable(ledger, member) == 96 and pool(ledger) == 4
    check_books(ledger)


def test_concurrent_donations_never_overdraw_and_count_once(ledger: Ledger) -> None:
    member, _ = setup(ledger, 50)
    distinct = [lambda i=i: operations.donate(ledger, idem(f"d{i}", i), "se", member, 10) for i in range(THREADS)]
    results = together(distinct)
    assert sum(1 for r in results if not isinstance(r, LedgerError)) == 5  # 50 credits: five donations of 10
    assert spendable(ledger, member) == 0 and pool(ledger) == 50
    grant_credits(ledger, idem("g2"), member, 10, "test")
    same = together([lambda: operations.donate(ledger, idem("one", 1), "se", member, 10)] * THREADS)
    assert [r.replayed for r in same].count(False) == 1
    assert spendable(ledger, member) == 0 and pool(ledger) == 60
    check_books(ledger)


def test_concurrent_funding_runs_fund_the_month_once(ledger: Ledger) -> None:
    setup(ledger, 0)
    catalog = load_catalog()
    results = together([lambda: operations.fund_month(ledger, catalog, "2026-02", "test")] * 4)
    assert [r.replayed for r in results].count(False) == 1
    assert pool(ledger) == ledger.policy.pools.budget_credits  # one community gets the whole budget, once
    check_books(ledger)


def test_concurrent_tallies_pay_once(ledger: Ledger) -> None:
    member, _ = setup(ledger, 100)
    operations.fund_month(ledger, load_catalog(), "2026-02", "test")
    body = {
        "kind": "spending",
        "title": "t",
        "budget": 500,
        "projects": [{"title": "p", "cost": 500, "recipient_member_id": member}],
    }
    proposal = operations.create_proposal(ledger, idem("s"), "se", body, "test").body["id"]
    operations.vote(ledger, idem("sv"), proposal, member, 1, 1)
    ledger.clock.advance(days=15)  # type: ignore[attr-defined]
    before = spendable(ledger, member)
    results = together([lambda: operations.tally(ledger, proposal, "test")] * 4)
    assert [r.replayed for r in results].count(False) == 1
    assert spendable(ledger, member) == before + 500
    check_books(ledger)
