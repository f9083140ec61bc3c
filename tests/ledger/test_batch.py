"""Batched charges (group commit) have exactly the effects of running each charge alone."""

from __future__ import annotations

from datalever.ledger.charges import charge_query, charge_work
from datalever.ledger.errors import IdempotencyConflict, InsufficientCredits, UnknownMember
from datalever.ledger.grants import grant_credits
from datalever.ledger.posting import BatchItem, Idempotency, Ledger, Outcome, request_hash
from tests.ledger.helpers import check_books, idem, new_member, spendable


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
