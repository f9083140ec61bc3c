"""Batched charges (group commit) have exactly the effects of running each charge alone."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import select

from datalever import migrations
from datalever.economy import Expiry, load_policy
from datalever.ledger import pg_batch
from datalever.ledger.charges import charge_query, charge_work
from datalever.ledger.db import make_engine
from datalever.ledger.errors import IdempotencyConflict, InsufficientCredits, LedgerError, UnknownMember
from datalever.ledger.grants import grant_credits
from datalever.ledger.members import create_member
from datalever.ledger.models import LOTS, MEMBERS, OPERATIONS, TRANSFERS
from datalever.ledger.posting import BatchItem, Idempotency, Ledger, Outcome, request_hash
from tests.support.batch_paths import BatchPaths
from tests.support.books import check_books, idem, new_member, spendable
from tests.support.clock import Clock
from tests.support.postgres import fresh_database


def _item(ledger: Ledger, key: str, member: int) -> BatchItem:
    return BatchItem(
        Idempotency("api", key, request_hash("charge", member)), "query", charge_work(ledger, member), member
    )


def test_batch_charges_several_members_and_the_same_member_twice(ledger: Ledger) -> None:
    alice, _ = new_member(ledger)
    bob, _ = new_member(ledger)
    grant_credits(ledger, idem("a"), alice, 10, "test")
    grant_credits(ledger, idem("b"), bob, 10, "test")
    results = ledger.execute_batch([_item(ledger, "1", alice), _item(ledger, "2", bob), _item(ledger, "3", alice)])
    assert all(isinstance(result, Outcome) and not result.replayed for result in results)
    positions = [result.body["position_in_session"] for result in results if isinstance(result, Outcome)]
    assert positions == [1, 1, 2]  # alice's second charge continues her session
    assert (spendable(ledger, alice), spendable(ledger, bob)) == (8, 9)
    check_books(ledger)


def test_a_refused_item_leaves_the_rest_of_the_batch_intact(ledger: Ledger) -> None:
    rich, _ = new_member(ledger)
    poor, _ = new_member(ledger)
    grant_credits(ledger, idem("r"), rich, 5, "test")
    results = ledger.execute_batch([_item(ledger, "1", poor), _item(ledger, "2", rich), _item(ledger, "3", 9999)])
    assert isinstance(results[0], InsufficientCredits)
    assert isinstance(results[1], Outcome)
    assert isinstance(results[2], UnknownMember)
    assert spendable(ledger, rich) == 4
    check_books(ledger)


def test_retry_in_a_batch_replays_even_when_the_member_is_now_broke(ledger: Ledger) -> None:
    member, _ = new_member(ledger)
    grant_credits(ledger, idem("g"), member, 1, "test")
    first = charge_query(ledger, Idempotency("api", "k", request_hash("charge", member)), member)
    [again] = ledger.execute_batch([_item(ledger, "k", member)])
    assert isinstance(again, Outcome) and again.replayed and again.body == first.body
    assert spendable(ledger, member) == 0
    check_books(ledger)


def test_duplicate_keys_within_one_batch_have_one_effect(ledger: Ledger) -> None:
    member, _ = new_member(ledger)
    other, _ = new_member(ledger)
    grant_credits(ledger, idem("g"), member, 10, "test")
    results = ledger.execute_batch([_item(ledger, "k", member), _item(ledger, "k", member), _item(ledger, "k", other)])
    first, second, third = results
    assert isinstance(first, Outcome) and isinstance(second, Outcome)
    assert [first.replayed, second.replayed] == [False, True] and first.body == second.body
    assert isinstance(third, IdempotencyConflict)
    assert spendable(ledger, member) == 9
    check_books(ledger)


_KEY = (OPERATIONS.c.scope, OPERATIONS.c.key)
# Transfer ids are left out: a rolled-back batch uses up sequence values on PostgreSQL, not on SQLite.
TRANSFER_FIELDS = ("debit_account_id", "credit_account_id", "amount", "kind", "debit_lot_id", "credit_lot_id")
LOT_FIELDS = ("account_id", "source", "amount", "remaining", "granted_at", "expires_at")


def _scenario(ledger: Ledger, clock: Clock) -> list[Any]:
    """Two batches on a prepared ledger; what they returned and the books after each, free of random ids.

    The first batch has only new keys (one bulk write on PostgreSQL): charges across two lots, a surcharge,
    a session going on within the batch, a broke member and an unknown one. The second has a retried key,
    a key used twice and a key used by another member, so it falls back to one-by-one execution.
    """
    alice, bob, carol = (create_member(ledger, Idempotency("t", name, request_hash(name))).body["id"] for name in "abc")
    grant_credits(ledger, Idempotency("t", "ga1", request_hash(1)), alice, 2, "test", Expiry.END_OF_MONTH)
    grant_credits(ledger, Idempotency("t", "ga2", request_hash(2)), alice, 5, "test")
    grant_credits(ledger, Idempotency("t", "gb", request_hash(3)), bob, 20, "test")
    for index in range(5):
        clock.advance(minutes=1)
        charge_query(ledger, Idempotency("api", f"warm-{index}", request_hash("charge", bob)), bob)
    clock.advance(minutes=1)
    first = [(alice, "a1"), (bob, "b1"), (carol, "c1"), (alice, "a2"), (alice, "a3"), (bob, "b2"), (9999, "u1")]
    second = [(bob, "b1"), (alice, "a4"), (alice, "a4"), (carol, "b2"), (bob, "b3")]
    seen = []
    for pairs in (first, second):
        results = ledger.execute_batch([_item(ledger, key, member) for member, key in pairs])
        check_books(ledger)
        keys, books = _books(ledger)
        seen.append(([_describe(result, keys) for result in results], books))
        clock.advance(minutes=1)
    return seen


def _books(ledger: Ledger) -> tuple[dict[Any, tuple[str, str]], dict[str, Any]]:
    """Keys by operation id; transfers, lots, members and stored responses, with operation ids replaced by keys."""
    with ledger.engine.connect() as conn:
        keys = {row.id: (row.scope, row.key) for row in conn.execute(select(OPERATIONS.c.id, *_KEY))}
        transfers = conn.execute(select(TRANSFERS).order_by(TRANSFERS.c.id)).mappings().all()
        operations = conn.execute(select(OPERATIONS).order_by(*_KEY)).mappings().all()
        return keys, {
            "transfers": sorted(
                (keys[row["operation_id"]], *(row[name] for name in TRANSFER_FIELDS)) for row in transfers
            ),
            "lots": [
                (row["id"], keys[row["operation_id"]], *(row[name] for name in LOT_FIELDS))
                for row in conn.execute(select(LOTS).order_by(LOTS.c.id)).mappings()
            ],
            "members": conn.execute(select(MEMBERS).order_by(MEMBERS.c.id)).all(),
            "operations": [
                (keys[row["id"]], row["kind"], row["member_id"], row["status_code"], row["created_at"], response)
                for row in operations
                for response in [_with_keys(json.loads(row["response"]), keys)]
            ],
        }


def _with_keys(body: dict[str, Any], keys: dict[Any, tuple[str, str]]) -> dict[str, Any]:
    """A response with the (random) operation ids it names replaced by the keys of those operations."""
    ids = {str(operation): key for operation, key in keys.items()}
    return {name: ids.get(value, value) if isinstance(value, str) else value for name, value in body.items()}


def _describe(result: Outcome | LedgerError, keys: dict[Any, tuple[str, str]]) -> tuple[Any, ...]:
    if isinstance(result, Outcome):
        return (keys[result.operation_id], result.status_code, _with_keys(result.body, keys), result.replayed)
    return (type(result).__name__, str(result))


@pytest.mark.postgres
def test_pg_batch_keeps_the_same_books_as_the_generic_path(
    ledger: Ledger, clock: Clock, batch_paths: BatchPaths
) -> None:
    start = clock.now
    on_sqlite = _scenario(ledger, clock)
    # The second batch's retried, repeated and foreign keys ran alone after it; nothing fell back.
    assert (batch_paths.bulk_batches, batch_paths.alone, batch_paths.fallbacks) == (0, 3, 0)
    with fresh_database("dl_batch_paths") as url:
        engine = make_engine(url)
        try:
            migrations.upgrade(engine)
            pg_clock = Clock(start)
            on_postgres = _scenario(Ledger(engine, load_policy(), pg_clock), pg_clock)
        finally:
            engine.dispose()
    # PostgreSQL wrote both batches' new charges with one pipelined statement each, the same three alone.
    assert (batch_paths.bulk_batches, batch_paths.alone, batch_paths.fallbacks) == (2, 6, 0)
    assert on_postgres == on_sqlite
    [(first_results, _), (second_results, _)] = on_postgres
    assert [result[-1] for result in first_results if len(result) == 4] == [False] * 5
    assert [result[0] for result in first_results if len(result) == 2] == ["InsufficientCredits", "UnknownMember"]
    assert [result[-1] if len(result) == 4 else result[0] for result in second_results] == [
        True,
        False,
        True,
        "IdempotencyConflict",
        False,
    ]


@pytest.mark.postgres
def test_a_key_claimed_between_read_and_write_aborts_the_batch_cleanly(
    clock: Clock, batch_paths: BatchPaths, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another transaction claims a key after the batch's read: the pipelined write fails as a whole on the
    unique key, nothing of it is written, and the items run one by one (the claimed one replays)."""
    with fresh_database("dl_batch_abort") as url:
        engine = make_engine(url)
        try:
            migrations.upgrade(engine)
            ledger = Ledger(engine, load_policy(), clock)
            alice, bob = new_member(ledger)[0], new_member(ledger)[0]
            for member in (alice, bob):
                grant_credits(ledger, idem(f"g{member}"), member, 10, "test")
            first = charge_query(ledger, Idempotency("api", "claimed", request_hash("charge", alice)), alice)
            real_read = pg_batch.lock_and_find

            def read_before_the_claim(conn: Any, members: Any, claims: Any) -> Any:
                rows, taken = real_read(conn, members, claims)
                return rows, taken - {("api", "claimed")}  # as if the claim committed just after this read

            monkeypatch.setattr(pg_batch, "lock_and_find", read_before_the_claim)
            results = ledger.execute_batch([_item(ledger, "new", bob), _item(ledger, "claimed", alice)])
            assert (batch_paths.fallbacks, batch_paths.database_errors, batch_paths.bulk_batches) == (1, 1, 0)
            fresh, replay = results
            assert isinstance(fresh, Outcome) and not fresh.replayed and fresh.body["balance"] == 9
            assert isinstance(replay, Outcome) and replay.replayed and replay.body == first.body
            assert (spendable(ledger, alice), spendable(ledger, bob)) == (9, 9)  # each charged exactly once
            check_books(ledger)
        finally:
            engine.dispose()
