"""The monthly allowance (once per member and month) and expiry (never touching spent credits)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from datalever.economy import expires_at
from datalever.ledger import allowance
from datalever.ledger.allowance import run_allowance
from datalever.ledger.charges import charge_query
from datalever.ledger.errors import BadRequest
from datalever.ledger.expiry import run_expiry
from datalever.ledger.posting import Ledger
from datalever.ledger.queries import summary
from tests.support.books import check_books, idem, new_member, spendable
from tests.support.clock import Clock


def test_allowance_is_granted_once_per_member_and_month(ledger: Ledger, clock: Clock) -> None:
    first, _ = new_member(ledger)
    second, _ = new_member(ledger)
    run = run_allowance(ledger, "2026-03")
    due = ledger.policy.allowance.credits_per_month
    assert (run.members_granted, run.credits_granted, run.already_granted) == (2, 2 * due, 0)
    again = run_allowance(ledger, "2026-03")
    assert (again.members_granted, again.credits_granted, again.already_granted) == (0, 0, 2)
    assert spendable(ledger, first) == spendable(ledger, second) == due
    assert run.expires_at == expires_at(ledger.policy.allowance.expires, datetime(2026, 3, 1, tzinfo=UTC))
    check_books(ledger)


def test_a_run_cut_off_between_batches_and_repeated_grants_each_member_once(
    ledger: Ledger, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(allowance, "BATCH", 3)  # 7 members: batches of 3, 3 and 1
    members = [new_member(ledger)[0] for _ in range(7)]

    def stop_after_first_batch(done: int) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_allowance(ledger, "2026-03", progress=stop_after_first_batch)
    due = ledger.policy.allowance.credits_per_month
    assert [spendable(ledger, member) for member in members] == [due] * 3 + [0] * 4
    rest = run_allowance(ledger, "2026-03")
    assert (rest.members_granted, rest.already_granted) == (4, 3)
    assert [spendable(ledger, member) for member in members] == [due] * 7
    check_books(ledger)


def test_member_who_joined_later_gets_no_earlier_allowance(ledger: Ledger, clock: Clock) -> None:
    clock.now = datetime(2026, 4, 2, tzinfo=UTC)
    member, _ = new_member(ledger)
    assert run_allowance(ledger, "2026-03").members_granted == 0
    assert spendable(ledger, member) == 0


@pytest.mark.parametrize(
    ("month", "reason"),
    [("2026-13", "YYYY-MM"), ("26-03", "YYYY-MM"), ("2026-04", "future"), ("2025-12", "already have expired")],
)
def test_bad_allowance_months_are_refused(ledger: Ledger, month: str, reason: str) -> None:
    new_member(ledger)
    with pytest.raises(BadRequest, match=reason):
        run_allowance(ledger, month)
    check_books(ledger)
    assert summary_issued(ledger) == 0


def summary_issued(ledger: Ledger) -> int:
    with ledger.engine.connect() as conn:
        return int(summary(conn, ledger.policy, ledger.system_accounts())["credits_issued"])


def test_expiry_takes_only_what_is_left(ledger: Ledger, clock: Clock) -> None:
    member, _ = new_member(ledger)
    run_allowance(ledger, "2026-03")
    for _ in range(30):
        clock.advance(hours=1)
        charge_query(ledger, idem("c"), member)
    due = ledger.policy.allowance.credits_per_month
    clock.now = datetime(2026, 5, 1, tzinfo=UTC)  # the March allowance expires at the start of May
    result = run_expiry(ledger)
    assert (result.lots, result.credits) == (1, due - 30)
    assert run_expiry(ledger).credits == 0  # a second run finds nothing left
    with ledger.engine.connect() as conn:
        totals = summary(conn, ledger.policy, ledger.system_accounts())
    assert (totals["credits_spent"], totals["credits_expired"], totals["credits_outstanding"]) == (30, due - 30, 0)
    check_books(ledger)


def test_expiry_before_the_deadline_does_nothing(ledger: Ledger, clock: Clock) -> None:
    member, _ = new_member(ledger)
    run_allowance(ledger, "2026-03")
    clock.now = datetime(2026, 4, 30, 23, 59, tzinfo=UTC)
    assert run_expiry(ledger).credits == 0
    assert spendable(ledger, member) == ledger.policy.allowance.credits_per_month
