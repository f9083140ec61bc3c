"""The posting function: balanced, all-or-nothing, idempotent, spending soonest-expiring credits first."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from datalever.economy import Expiry
from datalever.ledger.charges import charge_query
from datalever.ledger.errors import IdempotencyConflict, InsufficientCredits, InvalidTransfer, UnknownMember
from datalever.ledger.grants import grant_credits
from datalever.ledger.models import LOTS, TRANSFERS
from datalever.ledger.posting import Idempotency, Ledger, Leg, Posting, request_hash
from datalever.ledger.values import NO_STATUS
from tests.support.books import check_books, idem, new_member, spendable
from tests.support.clock import Clock


def _count_transfers(ledger: Ledger) -> int:
    with ledger.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(TRANSFERS)).scalar_one())


def test_grant_then_charge_moves_credits_and_balances(ledger: Ledger) -> None:
    member, _account = new_member(ledger)
    grant_credits(ledger, idem("g"), member, 10, "promo")
    outcome = charge_query(ledger, idem("c"), member)
    assert outcome.status_code == NO_STATUS  # statuses are the service's: a direct call gives none
    assert outcome.result.price == 1 and outcome.body == outcome.result.record()
    assert outcome.body["price"] == 1
    assert outcome.body["balance"] == 9 == spendable(ledger, member)
    flows = check_books(ledger)
    assert flows[ledger.issuance] == -10
    assert flows[ledger.spend] == 1


def test_spend_order_soonest_expiry_first_never_expiring_last(ledger: Ledger, clock: Clock) -> None:
    member, _account = new_member(ledger)
    grant_credits(ledger, idem("never"), member, 3, "forever", Expiry.NEVER)
    grant_credits(ledger, idem("next"), member, 3, "late", Expiry.END_OF_NEXT_MONTH)
    grant_credits(ledger, idem("this"), member, 3, "soon", Expiry.END_OF_MONTH)
    for _ in range(4):
        clock.advance(hours=1)  # a new session each time: every query costs the base price
        charge_query(ledger, idem("c"), member)
    with ledger.engine.connect() as conn:
        left = dict(conn.execute(select(LOTS.c.source, LOTS.c.remaining)).all())
    assert left == {"soon": 0, "late": 2, "forever": 3}


def test_expired_lot_is_not_spendable(ledger: Ledger, clock: Clock) -> None:
    member, _account = new_member(ledger)
    grant_credits(ledger, idem("g"), member, 2, "soon", Expiry.END_OF_MONTH)
    clock.now = datetime(2026, 4, 1, tzinfo=UTC)
    with pytest.raises(InsufficientCredits) as refused:
        charge_query(ledger, idem("c"), member)
    assert (refused.value.needed, refused.value.available) == (1, 0)


def test_session_surcharge_after_fifth_query_and_reset_after_idle_gap(ledger: Ledger, clock: Clock) -> None:
    member, _account = new_member(ledger)
    grant_credits(ledger, idem("g"), member, 100, "promo")
    prices = []
    for _ in range(7):
        clock.advance(minutes=1)
        prices.append(charge_query(ledger, idem("c"), member).body["price"])
    clock.advance(minutes=ledger.policy.query.session_idle_minutes)
    prices.append(charge_query(ledger, idem("c"), member).body["price"])
    base = ledger.policy.query.base_price
    surged = base * ledger.policy.query.surge_multiplier
    assert prices == [base] * 5 + [surged] * 2 + [base]


def test_insufficient_credits_changes_nothing(ledger: Ledger) -> None:
    member, _account = new_member(ledger)
    before = _count_transfers(ledger)
    with pytest.raises(InsufficientCredits):
        charge_query(ledger, idem("c"), member)
    assert _count_transfers(ledger) == before
    check_books(ledger)


def test_replay_returns_first_response_with_one_effect(ledger: Ledger) -> None:
    member, _account = new_member(ledger)
    grant_credits(ledger, idem("g"), member, 5, "promo")
    key = Idempotency("test", "same-key", request_hash("charge", member))
    first = charge_query(ledger, key, member)
    again = charge_query(ledger, key, member)
    assert again.replayed and not first.replayed
    assert again.body == first.body
    assert spendable(ledger, member) == 4
    with pytest.raises(IdempotencyConflict):
        charge_query(ledger, Idempotency("test", "same-key", request_hash("charge", member, "other")), member)
    assert spendable(ledger, member) == 4


def test_same_key_in_another_scope_is_a_different_request(ledger: Ledger) -> None:
    member, _account = new_member(ledger)
    grant_credits(ledger, idem("g"), member, 5, "promo")
    charge_query(ledger, Idempotency("a", "k", request_hash(1)), member)
    charge_query(ledger, Idempotency("b", "k", request_hash(1)), member)
    assert spendable(ledger, member) == 3


def test_multi_leg_posting_is_all_or_nothing(ledger: Ledger) -> None:
    alice, alice_account = new_member(ledger)
    _bob, bob_account = new_member(ledger)
    grant_credits(ledger, idem("g"), alice, 5, "promo")
    before = _count_transfers(ledger)

    def work(posting: Posting) -> tuple[int, dict[str, int]]:
        posting.post(
            [
                Leg(alice_account, bob_account, 3, "gift"),
                Leg(alice_account, ledger.spend, 3, "query"),  # only 2 left after the first leg
            ]
        )
        return 200, {}

    with pytest.raises(InsufficientCredits):
        ledger.execute(idem("two legs"), "test", work)
    assert _count_transfers(ledger) == before
    assert spendable(ledger, alice) == 5
    check_books(ledger)


@pytest.mark.parametrize("amount", [0, -1, True, 1.5])
def test_non_positive_or_non_integer_amounts_are_refused(ledger: Ledger, amount: object) -> None:
    _member, account = new_member(ledger)

    def work(posting: Posting) -> tuple[int, dict[str, int]]:
        posting.post([Leg(ledger.issuance, account, amount, "grant")])  # type: ignore[arg-type]
        return 200, {}

    with pytest.raises(InvalidTransfer):
        ledger.execute(idem("bad", amount), "test", work)
    assert _count_transfers(ledger) == 0


def test_same_account_on_both_sides_is_refused(ledger: Ledger) -> None:
    def work(posting: Posting) -> tuple[int, dict[str, int]]:
        posting.post([Leg(ledger.issuance, ledger.issuance, 1, "loop")])
        return 200, {}

    with pytest.raises(InvalidTransfer):
        ledger.execute(idem("loop"), "test", work)


def test_unknown_member_is_refused(ledger: Ledger) -> None:
    with pytest.raises(UnknownMember):
        charge_query(ledger, idem("c"), 424242)


def test_every_fifth_answer_carries_the_nudge_citation(ledger: Ledger, clock: Clock) -> None:
    """The default policy cites the platform in every 5th answer a member is charged for, across sessions;
    refused charges are not answers and do not count."""
    member, _account = new_member(ledger)
    grant_credits(ledger, idem("g"), member, 7, "test")
    citations = []
    for _ in range(6):
        clock.advance(hours=1)  # a new session each time: one credit per query
        citations.append(charge_query(ledger, idem("c"), member).body["citation_url"])
    assert citations == [None] * 4 + ["https://stackoverflow.com/", None]
    clock.advance(hours=1)
    charge_query(ledger, idem("c"), member)  # the 7th and last credit
    with pytest.raises(InsufficientCredits):
        charge_query(ledger, idem("c"), member)
    grant_credits(ledger, idem("g2"), member, 10, "test")
    answers = [charge_query(ledger, idem("c"), member).body["citation_url"] for _ in range(3)]
    assert answers == [None, None, "https://stackoverflow.com/"]  # answers 8, 9, 10
