"""Hypothesis stateful test: random sequences of ledger operations never break the books.

Invariants checked after every step (see tests/ledger/helpers.py:check_books and the rules below):
all entries sum to zero; no lot and no member balance below zero; lots agree with transfers; replaying an
idempotency key changes nothing; expiry only ever takes credits that were left, never spent ones.

The machine runs on SQLite and on real PostgreSQL, where a batch of charges is two pipelined round trips
(`pg_batch`); items whose key is already taken, or repeated in the batch, run alone after it.
Both databases are migrated once per test and emptied between examples (tests/ledger/databases.py).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import hypothesis.strategies as st
import pytest
from hypothesis import HealthCheck, settings
from hypothesis.stateful import Bundle, RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test
from sqlalchemy import func, select

from datalever import migrations
from datalever.economy import Expiry, load_policy
from datalever.ledger.allowance import run_allowance
from datalever.ledger.charges import charge_query, charge_work
from datalever.ledger.db import make_engine
from datalever.ledger.errors import IdempotencyConflict, InsufficientCredits, LedgerError
from datalever.ledger.expiry import run_expiry
from datalever.ledger.grants import grant_credits
from datalever.ledger.models import LOTS, MEMBERS, TRANSFERS
from datalever.ledger.posting import BatchItem, Idempotency, Ledger, Outcome, request_hash
from tests.support.batch_paths import BatchPaths
from tests.support.books import check_books, new_member, spendable
from tests.support.clock import Clock
from tests.support.databases import MigratedDatabase

KEYS = st.sampled_from([f"key-{index}" for index in range(6)])  # a small pool, so keys get reused


class LedgerMachine(RuleBasedStateMachine):
    members = Bundle("members")

    def __init__(self, database: MigratedDatabase) -> None:
        super().__init__()
        self.engine = database.reset()
        self.clock = Clock(datetime(2026, 3, 10, 12, 0, tzinfo=UTC))
        self.ledger = Ledger(self.engine, load_policy(), self.clock)
        self.charged: dict[str, tuple[int, Outcome]] = {}  # key -> (member, first outcome)
        self.spent = 0
        self.issued = 0
        self.fresh_keys = (f"fresh-{index}" for index in itertools.count())  # never used before

    @initialize(target=members)
    def first_member(self) -> int:
        return new_member(self.ledger)[0]

    @rule(target=members)
    def add_member(self) -> int:
        return new_member(self.ledger)[0]

    @rule(member=members, amount=st.integers(1, 40), expires=st.sampled_from(list(Expiry)))
    def grant(self, member: int, amount: int, expires: Expiry) -> None:
        key = f"grant-{self.issued}-{member}-{amount}-{self.clock.now.isoformat()}"
        grant_credits(self.ledger, Idempotency("grant", key, request_hash(key)), member, amount, "test", expires)
        self.issued += amount

    @rule()
    def allowance(self) -> None:
        result = run_allowance(self.ledger, self.clock.now.strftime("%Y-%m"))
        self.issued += result.credits_granted

    @rule(hours=st.integers(0, 24 * 40))
    def advance(self, hours: int) -> None:
        self.clock.advance(hours=hours)

    @rule()
    def expire(self) -> None:
        run_expiry(self.ledger)

    @rule(member=members, key=KEYS)
    def charge(self, member: int, key: str) -> None:
        self._charge_and_check(member, key, lambda idem: charge_query(self.ledger, idem, member))

    @rule(picks=st.lists(st.tuples(st.integers(0, 1000), KEYS), min_size=1, max_size=6))
    def charge_batch(self, picks: list[tuple[int, str]]) -> None:
        known = sorted({member for member, _outcome in self.charged.values()} | set(self._all_members()))
        self._run_batch([(known[index % len(known)], key) for index, key in picks])

    @rule(payer=members, other=members, pick=st.integers(0, 1000))
    def charge_mixed_batches(self, payer: int, other: int, pick: int) -> None:
        """Two batches of every kind of item: the first all new keys, the second with keys already taken."""
        self.grant(payer, 6, Expiry.NEVER)  # enough for three charges below, surcharged or not
        broke = new_member(self.ledger)[0]
        first, second, third = next(self.fresh_keys), next(self.fresh_keys), next(self.fresh_keys)
        # New keys only, so it commits as one batch (one bulk write on PostgreSQL); the broke member's
        # charge is refused inside it, the others take effect.
        self._run_batch([(payer, first), (broke, second), (other, next(self.fresh_keys))])
        # A retried key, a key used twice, and a key another member used: those items run alone.
        retried = sorted(self.charged)[pick % len(self.charged)]
        self._run_batch(
            [(payer, third), (self.charged[retried][0], retried), (payer, third), (other, first), (broke, third)]
        )

    def _run_batch(self, pairs: list[tuple[int, str]]) -> None:
        """Charge (member, key) pairs in one `execute_batch` and check each result against the model."""
        items = []
        for member, key in pairs:
            idem = Idempotency("api", key, request_hash("charge", member))
            items.append((member, key, BatchItem(idem, "query", charge_work(self.ledger, member), member)))
        results = self.ledger.execute_batch([item for _m, _k, item in items])
        # A batch is a set of concurrent requests: its results must match *some* order of them, namely
        # the charges that took effect first, then the replays and refusals (which changed nothing).
        outcomes = sorted(
            zip(items, results, strict=True),
            key=lambda pair: not (isinstance(pair[1], Outcome) and not pair[1].replayed),
        )
        known_before = set(self.charged)
        for (member, key, _item), result in outcomes:
            first = self.charged.get(key)
            if key not in known_before and first is not None and first[0] != member:
                # Its key was first used by another request of this batch: it may have run before that
                # one (and been refused for its own reasons) or after it (and been refused as a conflict).
                assert isinstance(result, (IdempotencyConflict, InsufficientCredits)), result
                continue
            self._record(member, key, result)

    def _all_members(self) -> list[int]:
        with self.engine.connect() as conn:
            return [int(row) for row in conn.execute(select(MEMBERS.c.id)).scalars()]

    def _charge_and_check(self, member: int, key: str, call: Any) -> None:
        idem = Idempotency("api", key, request_hash("charge", member))
        before = spendable(self.ledger, member)
        try:
            result: Outcome | LedgerError = call(idem)
        except LedgerError as error:
            result = error
        self._record(member, key, result)
        after = spendable(self.ledger, member)
        if isinstance(result, Outcome) and not result.replayed:
            assert after == before - result.body["price"]
        else:
            assert after == before  # a replay or a refusal changes nothing

    def _record(self, member: int, key: str, result: Outcome | LedgerError) -> None:
        first = self.charged.get(key)
        if first is None:
            if isinstance(result, Outcome):
                assert not result.replayed
                self.charged[key] = (member, result)
                self.spent += result.body["price"]
            else:
                assert isinstance(result, InsufficientCredits), result
        elif first[0] == member:
            assert isinstance(result, Outcome) and result.replayed
            assert result.body == first[1].body
        else:
            assert isinstance(result, IdempotencyConflict)

    @invariant()
    def books_balance(self) -> None:
        flows = check_books(self.ledger)
        accounts = self.ledger.system_accounts()
        assert -flows.get(accounts["issuance"], 0) == self.issued
        assert flows.get(accounts["spend"], 0) == self.spent

    @invariant()
    def expiry_only_takes_expired_leftovers(self) -> None:
        with self.engine.connect() as conn:
            late = conn.execute(
                select(func.count())
                .select_from(TRANSFERS.join(LOTS, LOTS.c.id == TRANSFERS.c.debit_lot_id))
                .where(TRANSFERS.c.kind == "expiry", LOTS.c.expires_at > TRANSFERS.c.created_at)
            ).scalar_one()
            spent_after_expiry = conn.execute(
                select(func.count())
                .select_from(TRANSFERS.join(LOTS, LOTS.c.id == TRANSFERS.c.debit_lot_id))
                .where(TRANSFERS.c.kind == "query", LOTS.c.expires_at <= TRANSFERS.c.created_at)
            ).scalar_one()
        assert late == 0  # nothing expired early
        assert spent_after_expiry == 0  # nothing spent from a lot past its expiry


SETTINGS = settings(
    max_examples=30,
    stateful_step_count=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


@pytest.fixture
def database(database_url: str) -> Iterator[MigratedDatabase]:
    migrated = MigratedDatabase(database_url)
    yield migrated
    migrated.close()


def test_ledger_invariants(database: MigratedDatabase, batch_paths: BatchPaths) -> None:
    run_state_machine_as_test(lambda: LedgerMachine(database), settings=SETTINGS)
    assert batch_paths.alone > 0  # batches met taken and repeated keys and ran those items alone
    assert batch_paths.fallbacks == 0  # ... found by the batch's read, never by a failed write
    # PostgreSQL wrote whole batches with one statement; SQLite never takes that path.
    assert (batch_paths.bulk_batches > 0) == (database.dialect == "postgresql")


def test_expiry_run_twice_at_the_same_instant_expires_once(tmp_path: Any) -> None:
    engine = make_engine(f"sqlite:///{tmp_path}/x.db")
    migrations.upgrade(engine)
    clock = Clock(datetime(2026, 3, 10, tzinfo=UTC))
    ledger = Ledger(engine, load_policy(), clock)
    member = new_member(ledger)[0]
    run_allowance(ledger, "2026-03")
    clock.now += timedelta(days=90)
    assert run_expiry(ledger).credits == ledger.policy.allowance.credits_per_month
    assert run_expiry(ledger).credits == 0
    assert spendable(ledger, member) == 0
    engine.dispose()
