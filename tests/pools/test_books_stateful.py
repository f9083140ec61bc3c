"""Hypothesis state machine over donations, funding, proposals, votes, tallies and payouts: the books balance.

After every step: every ledger invariant (tests/support/books.py:check_books), each pool and each member
holds exactly what the model of accepted operations says, and replays or refusals change nothing. Runs on
SQLite, and on PostgreSQL when DATALEVER_TEST_POSTGRES_URL is set; one migrated database per test, emptied
between examples.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import hypothesis.strategies as st
import pytest
from hypothesis import HealthCheck, event, settings
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test

from datalever.economy import load_policy
from datalever.flows.catalog import load_catalog
from datalever.ledger.errors import LedgerError
from datalever.ledger.grants import grant_credits
from datalever.ledger.posting import Idempotency, Ledger, Outcome, request_hash
from datalever.pools import operations
from tests.support.books import check_books, new_member, spendable
from tests.support.clock import Clock
from tests.support.databases import MigratedDatabase

CATALOG = load_catalog()
COMMUNITIES = ("se", "wiki")
KEYS = st.integers(0, 10**9).map(str)  # fresh keys; retries and key reuse have their own rules


def idem(key: str, *request: Any) -> Idempotency:
    return Idempotency("machine", key, request_hash(*request))


class PoolsMachine(RuleBasedStateMachine):
    def __init__(self, database: MigratedDatabase) -> None:
        super().__init__()
        self.clock = Clock(datetime(2026, 3, 10, 12, 0, tzinfo=UTC))
        self.ledger = Ledger(database.reset(), load_policy(), self.clock)
        self.members: list[int] = []
        self.member_of: dict[int, str] = {}
        self.balances: dict[int, int] = {}
        self.pools = dict.fromkeys(COMMUNITIES, 0)
        self.proposals: list[tuple[int, str, list[int]]] = []  # id, community, option ids
        self.funded: set[str] = set()
        self.last: tuple[Any, Outcome] | None = None  # the last accepted operation, to retry it

    @initialize()
    def setup(self) -> None:
        operations.put_community(self.ledger, CATALOG, "se", None, ["stack-exchange"], None, None, None)
        operations.put_community(self.ledger, CATALOG, "wiki", None, ["wikipedia"], None, None, None)
        for i in range(4):
            member = new_member(self.ledger)[0]
            community = COMMUNITIES[i % 2]
            operations.join(self.ledger, community, member, True, "test")
            grant_credits(self.ledger, idem(f"grant-{member}", member), member, 150, "test")
            self.members.append(member)
            self.member_of[member] = community
            self.balances[member] = 150
        self.fund(1)  # pools start with last month's funding

    def _apply(self, action: Any) -> Outcome | None:
        try:
            outcome: Outcome = action()
        except LedgerError as error:
            event(f"refused: {type(error).__name__}")
            return None
        if outcome.replayed:
            return None
        self.last = (action, outcome)
        return outcome

    @rule()
    def retry_last(self) -> None:
        """Repeating an accepted operation with its key returns the first response and changes nothing."""
        if self.last is None:
            return
        action, first = self.last
        again = action()
        assert again.replayed and again.body == first.body and again.status_code == first.status_code

    @rule(who=st.integers(0, 3), to=st.sampled_from(COMMUNITIES), amount=st.integers(1, 30), key=KEYS)
    def donate(self, who: int, to: str, amount: int, key: str) -> None:
        member = self.members[who]
        done = self._apply(
            lambda: operations.donate(self.ledger, idem(f"d-{key}", to, member, amount), to, member, amount)
        )
        if done is not None:
            self.balances[member] -= amount
            self.pools[to] += amount

    @rule(months_back=st.integers(1, 3))
    def fund(self, months_back: int) -> None:
        index = operations.parse_month(self.clock.now.strftime("%Y-%m")) - months_back
        month = operations.month_label(index)
        done = self._apply(lambda: operations.fund_month(self.ledger, CATALOG, month, "test"))
        if done is not None:
            assert month not in self.funded, "a month was funded twice"
            self.funded.add(month)
            for allocation in done.body["allocations"]:
                self.pools[allocation["community"]] += allocation["amount"]

    @rule(
        where=st.sampled_from(COMMUNITIES),
        budget=st.integers(1, 12_000),
        costs=st.lists(st.integers(1, 3000), min_size=1, max_size=3),
        to=st.integers(0, 3),
        key=KEYS,
    )
    def propose_spending(self, where: str, budget: int, costs: list[int], to: int, key: str) -> None:
        body = {
            "kind": "spending",
            "title": "projects",
            "budget": budget,
            "projects": [
                {"title": f"p{i}", "cost": c, "recipient_member_id": self.members[to]} for i, c in enumerate(costs)
            ],
        }
        done = self._apply(
            lambda: operations.create_proposal(
                self.ledger, idem(f"p-{key}", where, budget, costs, to), where, body, "t"
            )
        )
        if done is not None:
            assert budget <= self.pools[where]
            self.proposals.append((done.body["id"], where, [o["option_id"] for o in done.body["options"]]))

    @rule(where=st.sampled_from(COMMUNITIES), key=KEYS)
    def propose_data_use(self, where: str, key: str) -> None:
        body = {"kind": "data_use", "title": "funders only", "preferences": {"default": "allow_if_funding"}}
        done = self._apply(lambda: operations.create_proposal(self.ledger, idem(f"u-{key}", where), where, body, "t"))
        if done is not None:
            self.proposals.append((done.body["id"], where, [0, 1]))

    @rule(
        who=st.integers(0, 9),
        which=st.integers(0, 9),
        option=st.integers(0, 9),
        votes=st.integers(1, 4),
        key=KEYS,
        stray=st.booleans(),
    )
    def vote(self, who: int, which: int, option: int, votes: int, key: str, stray: bool) -> None:
        """Mostly a member of the proposal's community on one of its options; a stray vote may be anyone's."""
        if not self.proposals:
            return
        proposal, where, options = self.proposals[which % len(self.proposals)]
        voters = self.members if stray else [m for m in self.members if self.member_of[m] == where]
        member = voters[who % len(voters)]
        option = option if stray else options[option % len(options)]
        done = self._apply(
            lambda: operations.vote(
                self.ledger, idem(f"v-{key}", proposal, member, option, votes), proposal, member, option, votes
            )
        )
        event("vote accepted" if done is not None else "vote refused or replayed")
        if done is not None:
            self.balances[member] -= done.body["credits"]
            self.pools[self.member_of[member]] += done.body["credits"]

    @rule(days=st.sampled_from([0, 1, 3, 15]))
    def advance(self, days: int) -> None:
        self.clock.advance(days=days)

    @rule(which=st.integers(0, 9))
    def tally(self, which: int) -> None:
        if not self.proposals:
            return
        proposal = self.proposals[which % len(self.proposals)][0]
        done = self._apply(lambda: operations.tally(self.ledger, proposal, "t"))
        if done is not None:
            event(f"tally: {done.body['kind']} {done.body['status']}")
            for payout in done.body["tally"].get("payouts", []):
                self.balances[payout["recipient_member_id"]] += payout["amount"]
                self.pools[done.body["community"]] -= payout["amount"]

    @invariant()
    def books_balance(self) -> None:
        if not self.members:
            return
        check_books(self.ledger)
        with self.ledger.engine.connect() as conn:
            for community, expected in self.pools.items():
                assert operations.community_body(conn, community)["pool_balance"] == expected
        for member, expected in self.balances.items():
            assert spendable(self.ledger, member) == expected


def machine_settings(dialect: str) -> settings:
    """Fewer examples on PostgreSQL, where each step is a few network round trips (CI time budget)."""
    return settings(
        max_examples=12 if dialect == "sqlite" else 6,
        stateful_step_count=30,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )


@pytest.fixture
def database(database_url: str) -> Iterator[MigratedDatabase]:
    migrated = MigratedDatabase(database_url)
    yield migrated
    migrated.close()


def test_pool_books_always_balance(database: MigratedDatabase) -> None:
    run_state_machine_as_test(lambda: PoolsMachine(database), settings=machine_settings(database.dialect))
