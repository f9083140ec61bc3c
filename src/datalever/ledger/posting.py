"""Posting: the only code that moves credits.

`Ledger.execute` runs one operation in one short transaction under an idempotency key:

1. claim the key (`INSERT ... ON CONFLICT DO NOTHING`); if it was already claimed, return the stored
   response (same request) or raise IdempotencyConflict (different request), with no second effect;
2. run the caller's `work(posting)`, which locks what it spends from and calls `posting.post(legs)`;
3. write the planned lots and transfers, store the response on the operation row, and commit.
   Any exception rolls everything back, the claim included.

`Ledger.execute_batch` does the same for many operations in one transaction (the charge hot path: a few
round trips shared by every charge in the batch); an operation that fails there is dropped from the batch
alone and its claim removed, so each operation still has all of its effects or none.

A multi-leg `post` applies all legs or none: it plans in memory and raises before recording anything.
Debiting a bounded account (a member) burns its lots in spend order: soonest `expires_at` first, ties by
oldest lot, never-expiring lots last; lots already past their expiry are not spendable. Unbounded accounts
(issuance source, spend and expiry sinks) are never read, locked or updated by a posting, so concurrent
charges only contend on their own member's row.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, insert, select, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError

from datalever.economy import Policy
from datalever.ledger import pg_batch
from datalever.ledger.errors import (
    IdempotencyConflict,
    InsufficientCredits,
    InvalidTransfer,
    LedgerError,
    UnknownAccount,
    UnknownMember,
)
from datalever.ledger.locks import MEMBER_LOCK, MEMBER_LOCK_WITH_LOTS, MEMBER_STATE
from datalever.ledger.models import ACCOUNTS, LOTS, MEMBERS, OPERATIONS, TRANSFERS
from datalever.ledger.types import utcnow

# Serialization failure, deadlock detected, and a unique violation from a concurrent request that inserted
# the same row first (the retry sees that row and answers properly, e.g. with a 409).
_RETRYABLE_SQLSTATES = {"40001", "40P01", "23505"}
_NEW_LOT_BASE = 2**62  # placeholder ids of lots created in this transaction (they sort after real lots)

Work = Callable[["Posting"], tuple[int, dict[str, Any]]]


def request_hash(*parts: Any) -> str:
    """Stable SHA-256 of a request (method, path, body...) so a reused key with another body is caught."""
    canonical = json.dumps(parts, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Idempotency:
    """An idempotency key within a scope (e.g. the API key that sent it) and the hash of its request."""

    scope: str
    key: str
    request_hash: str


@dataclass(frozen=True)
class Leg:
    """Move `amount` credits from `debit` to `credit` (account ids).

    `expires_at` and `source` describe the lot created when `credit` is a bounded account (source defaults
    to `kind`). `debit_lot` burns that exact lot instead of following the spend order (expiry, reversals);
    `credit_lot` gives credits back to an existing lot instead of creating one (reversals of a spend).
    """

    debit: int
    credit: int
    amount: int
    kind: str
    expires_at: datetime | None = None
    source: str | None = None
    debit_lot: int | None = None
    credit_lot: int | None = None
    reverses: int | None = None


@dataclass(frozen=True)
class Outcome:
    """The response of an operation; `replayed` is True when a retry returned the stored first response."""

    operation_id: uuid.UUID
    status_code: int
    body: dict[str, Any]
    replayed: bool


@dataclass(frozen=True)
class BatchItem:
    """One operation of `Ledger.execute_batch`; its `work` may only use the Posting's methods."""

    idem: Idempotency
    kind: str
    work: Work
    member_id: int | None = None


@dataclass(frozen=True)
class MemberState:
    id: int
    account_id: int
    reputation: float
    joined_at: datetime
    session_position: int
    last_query_at: datetime | None


@dataclass
class _OpenLot:
    id: int
    remaining: int
    expires_at: datetime | None


@dataclass
class _NamedLot:
    id: int
    account_id: int
    amount: int
    remaining: int


@dataclass(frozen=True)
class _AccountInfo:
    id: int
    code: str
    kind: str
    bounded: bool


def spend_order_key(lot_id: int, expires_at: datetime | None) -> tuple[bool, datetime | None, int]:
    """Sort key of the spend order: soonest expiry first, never-expiring last, then oldest lot first."""
    return (expires_at is None, expires_at, lot_id)


@dataclass
class _Txn:
    """What the operations of one transaction have locked, read and planned to write."""

    conn: Connection
    now: datetime
    ledger: Ledger
    locked: set[int] = field(default_factory=set)
    members: dict[int, MemberState] = field(default_factory=dict)
    open_lots: dict[int, list[_OpenLot]] = field(default_factory=dict)
    new_lots: list[dict[str, Any]] = field(default_factory=list)
    lot_deltas: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    transfers: list[dict[str, Any]] = field(default_factory=list)
    member_updates: dict[int, dict[str, Any]] = field(default_factory=dict)

    def snapshot(self) -> tuple[Any, ...]:
        """Cheap copy of the planned state: postings replace lot lists and lots, they never mutate them."""
        return (
            dict(self.open_lots),
            dict(self.members),
            len(self.new_lots),
            dict(self.lot_deltas),
            len(self.transfers),
            {member: dict(values) for member, values in self.member_updates.items()},
        )

    def restore(self, state: tuple[Any, ...]) -> None:
        self.open_lots, self.members, new_lots, deltas, transfers, self.member_updates = state
        del self.new_lots[new_lots:]
        self.lot_deltas = defaultdict(int, deltas)
        del self.transfers[transfers:]

    def writes(self, operations: Sequence[dict[str, Any]] = ()) -> pg_batch.Writes:
        """What to write: `operations`, then the planned lot deltas, transfers and member updates (grouped by
        the columns they set), in a fixed order."""
        deltas = [(lot, delta) for lot, delta in sorted(self.lot_deltas.items()) if delta]
        by_columns: dict[tuple[str, ...], list[dict[str, Any]]] = defaultdict(list)
        for member_id, values in sorted(self.member_updates.items()):
            by_columns[tuple(sorted(values))].append({"member_key": member_id, **values})
        return pg_batch.Writes(operations, deltas, self.transfers, list(by_columns.items()))

    def flush(self, operations: Sequence[dict[str, Any]] = ()) -> int:
        """Write `operations` (skipping keys already taken) and everything planned; returns how many were new.

        A caller that gets fewer than `len(operations)` back must roll back: some key was already claimed.
        On PostgreSQL, planned changes alone (the single-operation path) are one statement (`pg_batch`).
        """
        conn = self.conn
        writes = self.writes(operations)
        if conn.dialect.name == "postgresql" and not self.new_lots and not operations:
            pg_batch.write(conn, writes)
            return 0
        inserted = 0
        if operations:
            inserted = len(conn.execute(_claim(conn).returning(OPERATIONS.c.id), operations).scalars().all())
            if inserted != len(operations):
                return inserted
        real: dict[int, int] = {}
        if self.new_lots:
            rows = []
            for index, lot in enumerate(self.new_lots):
                temp = _NEW_LOT_BASE + index
                rows.append({**lot, "remaining": lot["amount"] + self.lot_deltas.get(temp, 0)})
            ids = conn.execute(insert(LOTS).returning(LOTS.c.id, sort_by_parameter_order=True), rows).scalars()
            real = {_NEW_LOT_BASE + index: int(lot_id) for index, lot_id in enumerate(ids)}
        changes = [{"lot_id": lot, "delta": delta} for lot, delta in writes.lot_deltas if lot < _NEW_LOT_BASE]
        if changes:
            conn.execute(
                update(LOTS)
                .where(LOTS.c.id == bindparam("lot_id"))
                .values(remaining=LOTS.c.remaining + bindparam("delta")),
                changes,
            )
        if self.transfers:
            for row in self.transfers:
                row["debit_lot_id"] = real.get(row["debit_lot_id"], row["debit_lot_id"])
                row["credit_lot_id"] = real.get(row["credit_lot_id"], row["credit_lot_id"])
            conn.execute(insert(TRANSFERS), self.transfers)
        for columns, members in writes.member_updates:
            conn.execute(
                update(MEMBERS)
                .where(MEMBERS.c.id == bindparam("member_key"))
                .values({name: bindparam(name) for name in columns}),
                list(members),
            )
        return inserted


@dataclass
class Posting:
    """One operation inside an open transaction. Only `post` moves credits; writes happen at commit."""

    txn: _Txn
    operation_id: uuid.UUID
    member_id: int | None = None

    @property
    def conn(self) -> Connection:
        return self.txn.conn

    @property
    def now(self) -> datetime:
        return self.txn.now

    @property
    def ledger(self) -> Ledger:
        return self.txn.ledger

    def lock_member(self, member_id: int) -> MemberState:
        """Lock a member (its row and its account row) for the rest of the transaction and read its state."""
        cached = self.txn.members.get(member_id)
        if cached is not None:
            return cached
        found = _lock_members(self.conn, [member_id])
        if not found:
            raise UnknownMember(member_id)
        self.txn.members.update(found)
        self.txn.locked.add(found[member_id].account_id)
        self.ledger._remember(_AccountInfo(found[member_id].account_id, f"member:{member_id}", "member", True))
        return found[member_id]

    def lock_accounts(self, account_ids: Iterable[int]) -> None:
        """Lock bounded accounts in id order (a fixed order, so two postings never deadlock)."""
        wanted = sorted(set(account_ids) - self.txn.locked)
        if not wanted:
            return
        found = self.conn.execute(
            select(ACCOUNTS.c.id).where(ACCOUNTS.c.id.in_(wanted)).order_by(ACCOUNTS.c.id).with_for_update()
        ).all()
        if len(found) != len(wanted):
            missing = sorted(set(wanted) - {row.id for row in found})
            raise UnknownAccount(f"account {missing[0]} does not exist")
        self.txn.locked.update(wanted)

    def update_member(self, member_id: int, **values: Any) -> None:
        """Set a locked member's own fields (session state, reputation), written at commit; never a balance."""
        if member_id not in self.txn.members:
            raise InvalidTransfer(f"member {member_id} must be locked before it is updated")
        self.txn.member_updates.setdefault(member_id, {}).update(values)
        self.txn.members[member_id] = replace(self.txn.members[member_id], **values)

    def balance(self, account_id: int) -> int:
        """Spendable credits of a bounded account now (lots not yet expired), including this posting."""
        return sum(lot.remaining for lot in self._lots(account_id))

    def post(self, legs: Sequence[Leg]) -> None:
        """Apply every leg or none. Raises before recording anything if any leg cannot be applied."""
        if not legs:
            raise InvalidTransfer("a posting needs at least one leg")
        infos = self.ledger.account_info(self.conn, {leg.debit for leg in legs} | {leg.credit for leg in legs})
        for leg in legs:
            _validate(leg, infos)
        self.lock_accounts(leg.debit for leg in legs if infos[leg.debit].bounded)

        # Plan on copies first so a shortfall in any leg leaves this transaction's state untouched.
        named = self._named_lots(legs)
        planned = {
            account: [replace(lot) for lot in self._lots(account)]
            for account in {leg.debit for leg in legs if infos[leg.debit].bounded and leg.debit_lot is None}
        }
        burns: list[list[tuple[int | None, int]]] = []
        for leg in legs:
            if not infos[leg.debit].bounded:
                burns.append([(None, leg.amount)])
            elif leg.debit_lot is not None:
                burns.append([(leg.debit_lot, _take_named(named, leg))])
            else:
                burns.append(_burn(planned[leg.debit], leg))
        for leg in legs:
            if leg.credit_lot is not None:
                _give_back_named(named, leg)

        txn = self.txn
        for account, lots in planned.items():
            txn.open_lots[account] = [lot for lot in lots if lot.remaining > 0]
        for lot in named.values():
            cached = txn.open_lots.get(lot.account_id)
            if cached is not None:
                txn.open_lots.pop(lot.account_id)  # re-read with the planned deltas when next needed
        for leg, chunks in zip(legs, burns, strict=True):
            credit_lot = leg.credit_lot
            if credit_lot is not None:
                txn.lot_deltas[credit_lot] += leg.amount
            elif infos[leg.credit].bounded:
                credit_lot = self._new_lot(leg)
            for lot_id, amount in chunks:
                if lot_id is not None:
                    txn.lot_deltas[lot_id] -= amount
                txn.transfers.append(
                    {
                        "operation_id": self.operation_id,
                        "debit_account_id": leg.debit,
                        "credit_account_id": leg.credit,
                        "amount": amount,
                        "kind": leg.kind,
                        "debit_lot_id": lot_id,
                        "credit_lot_id": credit_lot,
                        "reverses_id": leg.reverses,
                        "created_at": txn.now,
                    }
                )

    def _named_lots(self, legs: Sequence[Leg]) -> dict[int, _NamedLot]:
        """Lots a leg names explicitly (expiry, reversals), read with their owner so a wrong lot is refused."""
        ids = {leg.debit_lot for leg in legs if leg.debit_lot is not None}
        ids |= {leg.credit_lot for leg in legs if leg.credit_lot is not None}
        if not ids:
            return {}
        if any(lot_id >= _NEW_LOT_BASE for lot_id in ids):
            raise InvalidTransfer("a leg may not name a lot created in the same transaction")
        rows = self.conn.execute(
            select(LOTS.c.id, LOTS.c.account_id, LOTS.c.amount, LOTS.c.remaining).where(LOTS.c.id.in_(ids))
        ).all()
        found = {
            row.id: _NamedLot(row.id, row.account_id, row.amount, row.remaining + self.txn.lot_deltas.get(row.id, 0))
            for row in rows
        }
        for lot_id in ids:
            if lot_id not in found:
                raise InvalidTransfer(f"lot {lot_id} does not exist")
        return found

    def _new_lot(self, leg: Leg) -> int:
        txn = self.txn
        temp = _NEW_LOT_BASE + len(txn.new_lots)
        txn.new_lots.append(
            {
                "account_id": leg.credit,
                "operation_id": self.operation_id,
                "source": leg.source or leg.kind,
                "amount": leg.amount,
                "granted_at": txn.now,
                "expires_at": leg.expires_at,
            }
        )
        cached = txn.open_lots.get(leg.credit)
        if cached is not None and (leg.expires_at is None or leg.expires_at > txn.now):
            lots = [*cached, _OpenLot(temp, leg.amount, leg.expires_at)]
            txn.open_lots[leg.credit] = sorted(lots, key=lambda lot: spend_order_key(lot.id, lot.expires_at))
        return temp

    def _lots(self, account_id: int) -> list[_OpenLot]:
        cached = self.txn.open_lots.get(account_id)
        if cached is None:
            _load_lots(self.txn, [account_id])
            cached = self.txn.open_lots[account_id]
        return cached


def _lock_members(conn: Connection, member_ids: Sequence[int]) -> dict[int, MemberState]:
    """Lock members and read their state."""
    rows = conn.execute(MEMBER_LOCK, {"member_ids": sorted(set(member_ids))})
    return {row.id: MemberState(*row) for row in rows}


def _take_locked(txn: _Txn, rows: Sequence[Sequence[Any]]) -> None:
    """Cache members and their spendable lots from rows of `locks.MEMBER_LOCK_WITH_LOTS`."""
    width = len(MEMBER_STATE)
    lots = []
    for row in rows:
        member_id, account_id = row[0], row[1]
        if member_id not in txn.members:
            txn.members[member_id] = MemberState(*row[:width])
            txn.locked.add(account_id)
        lot_id, remaining, expires_at = row[width:]
        if lot_id is not None:
            lots.append((lot_id, account_id, remaining, expires_at))
    _add_open_lots(txn, [state.account_id for state in txn.members.values()], lots)


def _claimed(conn: Connection, claims: Sequence[tuple[str, str]], *columns: Any) -> dict[tuple[str, str], Any]:
    """The stored operations of these (scope, key) pairs, with `columns`, by pair, in one query."""
    if not claims:
        return {}
    pairs = tuple_(OPERATIONS.c.scope, OPERATIONS.c.key)
    query = select(OPERATIONS.c.scope, OPERATIONS.c.key, *columns).where(pairs.in_(sorted(set(claims))))
    return {(row.scope, row.key): row for row in conn.execute(query)}


def _load_lots(txn: _Txn, account_ids: Sequence[int]) -> None:
    """Read the spendable lots of accounts (with this transaction's planned changes) in spend order."""
    wanted = [account for account in account_ids if account not in txn.open_lots]
    if not wanted:
        return
    rows = txn.conn.execute(
        select(LOTS.c.id, LOTS.c.account_id, LOTS.c.remaining, LOTS.c.expires_at).where(
            LOTS.c.account_id.in_(wanted), LOTS.c.remaining > 0
        )
    ).all()
    _add_open_lots(txn, wanted, [tuple(row) for row in rows])


def _add_open_lots(txn: _Txn, accounts: Sequence[int], rows: Sequence[tuple[Any, ...]]) -> None:
    """Cache the spendable lots of `accounts` from (id, account, remaining, expires_at) rows, in spend order,
    with this transaction's planned changes and new lots included."""
    loaded: dict[int, list[_OpenLot]] = {account: [] for account in accounts}
    for lot_id, account, stored, expires_at in rows:
        remaining = stored + txn.lot_deltas.get(lot_id, 0)
        if remaining > 0 and (expires_at is None or expires_at > txn.now):
            loaded[account].append(_OpenLot(lot_id, remaining, expires_at))
    for index, lot in enumerate(txn.new_lots):
        temp = _NEW_LOT_BASE + index
        remaining = lot["amount"] + txn.lot_deltas.get(temp, 0)
        expires = lot["expires_at"]
        if lot["account_id"] in loaded and remaining > 0 and (expires is None or expires > txn.now):
            loaded[lot["account_id"]].append(_OpenLot(temp, remaining, expires))
    for account, lots in loaded.items():
        lots.sort(key=lambda lot: spend_order_key(lot.id, lot.expires_at))
        txn.open_lots[account] = lots


def _validate(leg: Leg, infos: dict[int, _AccountInfo]) -> None:
    if isinstance(leg.amount, bool) or not isinstance(leg.amount, int) or leg.amount <= 0:
        raise InvalidTransfer(f"amount must be a positive whole number of credits, got {leg.amount!r}")
    if leg.debit == leg.credit:
        raise InvalidTransfer("a transfer needs two different accounts")
    if leg.debit_lot is not None and not infos[leg.debit].bounded:
        raise InvalidTransfer("debit_lot names a lot of an account that holds no lots")
    if leg.credit_lot is not None and not infos[leg.credit].bounded:
        raise InvalidTransfer("credit_lot names a lot of an account that holds no lots")


def _take_named(named: dict[int, _NamedLot], leg: Leg) -> int:
    assert leg.debit_lot is not None
    lot = named[leg.debit_lot]
    if lot.account_id != leg.debit:
        raise InvalidTransfer(f"lot {lot.id} does not belong to account {leg.debit}")
    if lot.remaining < leg.amount:
        raise InsufficientCredits(leg.debit, leg.amount, lot.remaining)
    lot.remaining -= leg.amount
    return leg.amount


def _give_back_named(named: dict[int, _NamedLot], leg: Leg) -> None:
    assert leg.credit_lot is not None
    lot = named[leg.credit_lot]
    if lot.account_id != leg.credit:
        raise InvalidTransfer(f"lot {lot.id} does not belong to account {leg.credit}")
    if lot.remaining + leg.amount > lot.amount:
        raise InvalidTransfer(f"lot {lot.id} cannot hold more than the {lot.amount} credits it was granted")
    lot.remaining += leg.amount


def _burn(lots: list[_OpenLot], leg: Leg) -> list[tuple[int | None, int]]:
    """Take `leg.amount` from `lots` (already in spend order), mutating the planned remainders."""
    available = sum(lot.remaining for lot in lots)
    if available < leg.amount:
        raise InsufficientCredits(leg.debit, leg.amount, available)
    chunks: list[tuple[int | None, int]] = []
    left = leg.amount
    for lot in lots:
        if left == 0:
            break
        take = min(lot.remaining, left)
        if take:
            lot.remaining -= take
            left -= take
            chunks.append((lot.id, take))
    return chunks


class Ledger:
    """Entry point for postings and reads, bound to one engine and one policy."""

    def __init__(self, engine: Engine, policy: Policy, clock: Callable[[], datetime] = utcnow) -> None:
        self.engine = engine
        self.policy = policy
        self.clock = clock
        self._accounts: dict[int, _AccountInfo] = {}
        self._codes: dict[str, int] = {}

    # ---- accounts -------------------------------------------------------------------------------
    def account_id(self, code: str) -> int:
        """Id of an account by code (e.g. "issuance", "spend", "expiry"); cached, accounts never change."""
        if code not in self._codes:
            with self.engine.connect().execution_options(readonly=True) as conn:
                row = conn.execute(select(ACCOUNTS).where(ACCOUNTS.c.code == code)).first()
            if row is None:
                raise UnknownAccount(f"account {code!r} does not exist")
            self._remember(_AccountInfo(row.id, row.code, row.kind, row.bounded))
        return self._codes[code]

    def system_accounts(self) -> dict[str, int]:
        """Ids of the unbounded system accounts (issuance source, spend and expiry sinks)."""
        return {code: self.account_id(code) for code in ("issuance", "spend", "expiry")}

    @property
    def issuance(self) -> int:
        return self.account_id("issuance")

    @property
    def spend(self) -> int:
        return self.account_id("spend")

    @property
    def expiry(self) -> int:
        return self.account_id("expiry")

    def account_info(self, conn: Connection, ids: set[int]) -> dict[int, _AccountInfo]:
        missing = [account for account in ids if account not in self._accounts]
        if missing:
            for row in conn.execute(select(ACCOUNTS).where(ACCOUNTS.c.id.in_(missing))):
                self._remember(_AccountInfo(row.id, row.code, row.kind, row.bounded))
        unknown = sorted(account for account in ids if account not in self._accounts)
        if unknown:
            raise UnknownAccount(f"account {unknown[0]} does not exist")
        return {account: self._accounts[account] for account in ids}

    def _remember(self, info: _AccountInfo) -> None:
        self._accounts[info.id] = info
        self._codes[info.code] = info.id

    # ---- operations -----------------------------------------------------------------------------
    def execute(
        self, idem: Idempotency, kind: str, work: Work, *, member_id: int | None = None, now: datetime | None = None
    ) -> Outcome:
        """Run `work` once per idempotency key, in one transaction; see the module docstring."""
        for attempt in range(5):
            try:
                return self._execute_once(idem, kind, work, member_id, now or self.clock())
            except DBAPIError as error:
                if getattr(error.orig, "sqlstate", None) not in _RETRYABLE_SQLSTATES or attempt == 4:
                    raise
        raise AssertionError("unreachable")

    def _execute_once(self, idem: Idempotency, kind: str, work: Work, member_id: int | None, now: datetime) -> Outcome:
        operation_id = uuid.uuid4()
        with self.engine.begin() as conn:
            claim = _claim(conn).values(_claim_row(operation_id, idem, kind, member_id, now))
            if conn.execute(claim.returning(OPERATIONS.c.id)).first() is None:
                return _stored_outcome(conn, idem)
            txn = _Txn(conn, now, self)
            posting = Posting(txn, operation_id, member_id)
            status, body = work(posting)
            txn.flush()
            conn.execute(
                update(OPERATIONS)
                .where(OPERATIONS.c.id == operation_id)
                .values(status_code=status, response=json.dumps(body, default=str), member_id=posting.member_id)
            )
        return Outcome(operation_id, status, body, replayed=False)

    def execute_batch(self, items: Sequence[BatchItem], now: datetime | None = None) -> list[Outcome | LedgerError]:
        """Run many operations in one transaction; each still has all of its effects or none.

        Returns, per item, its Outcome or the LedgerError that refused it. If the transaction itself fails
        (a key claimed meanwhile, a deadlock, a lost connection), the items are run one by one with
        `execute` instead.
        """
        now = now or self.clock()
        try:
            return self._execute_batch_once(items, now)
        except (DBAPIError, _KeyRace, pg_batch.BatchAborted):
            return [self._execute_alone(item, now) for item in items]

    def _execute_alone(self, item: BatchItem, now: datetime) -> Outcome | LedgerError:
        try:
            return self.execute(item.idem, item.kind, item.work, member_id=item.member_id, now=now)
        except LedgerError as error:
            return error

    def _execute_batch_once(self, items: Sequence[BatchItem], now: datetime) -> list[Outcome | LedgerError]:
        """One transaction: lock the members and see which keys are taken, plan every item, write it all.

        An item whose key is already stored (a retry), or repeats an earlier item's key, is left out and
        answered after the commit from one read of the stored operations: the first response, or a 409.
        On PostgreSQL the transaction is two pipelined round trips (`pg_batch`); a key claimed by another
        transaction in between aborts the batch, which `execute_batch` then runs one by one.
        """
        ids = [uuid.uuid4() for _ in items]
        results: list[Outcome | LedgerError | None] = [None] * len(items)
        alone: list[int] = []
        claims = [(item.idem.scope, item.idem.key) for item in items]
        members = sorted({item.member_id for item in items if item.member_id is not None})
        with self.engine.begin() as conn:
            txn = _Txn(conn, now, self)
            pipelined = conn.dialect.name == "postgresql"
            if pipelined:
                rows, taken = pg_batch.lock_and_find(conn, members, claims)
                _take_locked(txn, rows)
            else:
                _take_locked(txn, conn.execute(MEMBER_LOCK_WITH_LOTS, {"member_ids": members}).all())
                taken = set(_claimed(conn, claims))
            for locked in txn.members.values():
                self._remember(_AccountInfo(locked.account_id, f"member:{locked.id}", "member", True))
            records: list[dict[str, Any]] = []
            for i, item in enumerate(items):
                if claims[i] in taken:
                    alone.append(i)
                    continue
                taken.add(claims[i])
                state = txn.snapshot()
                posting = Posting(txn, ids[i], item.member_id)
                try:
                    status, body = item.work(posting)
                except LedgerError as error:  # refused under this transaction's locks, with its key free
                    txn.restore(state)
                    results[i] = error
                    continue
                results[i] = Outcome(ids[i], status, body, replayed=False)
                record = _claim_row(ids[i], item.idem, item.kind, posting.member_id, now)
                records.append({**record, "status_code": status, "response": json.dumps(body, default=str)})
            records.sort(key=lambda row: (row["scope"], row["key"]))  # one order for every batch
            if pipelined and not txn.new_lots:
                pg_batch.write_and_commit(conn, txn.writes(records))
            elif txn.flush(records) != len(records):
                raise _KeyRace
        # Their keys are stored now (before the batch, or by an earlier item of it): one read replays them
        # all. A key whose earlier item was refused is not stored, and that item really runs.
        stored = self._stored_rows([items[i].idem for i in alone])
        for i in alone:
            idem = items[i].idem
            row = stored.get((idem.scope, idem.key))
            results[i] = self._execute_alone(items[i], now) if row is None else _replay(row, idem)
        return [result for result in results if result is not None]

    def _stored_rows(self, idems: Sequence[Idempotency]) -> dict[tuple[str, str], Any]:
        """The stored operations of these keys, by (scope, key), in one query (none for no keys)."""
        if not idems:
            return {}
        with self.engine.connect().execution_options(readonly=True) as conn:
            return _claimed(conn, [(idem.scope, idem.key) for idem in idems], *_STORED)

    def find(self, idem: Idempotency) -> Outcome | None:
        """The stored outcome of a key, or None; raises IdempotencyConflict if the request differs."""
        with self.engine.connect().execution_options(readonly=True) as conn:
            row = conn.execute(
                select(OPERATIONS.c.id).where(OPERATIONS.c.scope == idem.scope, OPERATIONS.c.key == idem.key)
            ).first()
            return None if row is None else _stored_outcome(conn, idem)


class _KeyRace(Exception):
    """A concurrent transaction claimed one of the batch's keys after the batch checked it."""


def _claim_row(
    operation_id: uuid.UUID, idem: Idempotency, kind: str, member_id: int | None, now: datetime
) -> dict[str, Any]:
    return {
        "id": operation_id,
        "scope": idem.scope,
        "key": idem.key,
        "request_hash": idem.request_hash,
        "kind": kind,
        "member_id": member_id,
        "created_at": now,
    }


def _claim(conn: Connection) -> Any:
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    return dialect.insert(OPERATIONS).on_conflict_do_nothing(index_elements=["scope", "key"])


_STORED = (OPERATIONS.c.id, OPERATIONS.c.request_hash, OPERATIONS.c.status_code, OPERATIONS.c.response)


def _stored_outcome(conn: Connection, idem: Idempotency) -> Outcome:
    row = conn.execute(select(*_STORED).where(OPERATIONS.c.scope == idem.scope, OPERATIONS.c.key == idem.key)).one()
    result = _replay(row, idem)
    if isinstance(result, IdempotencyConflict):
        raise result
    return result


def _replay(row: Any, idem: Idempotency) -> Outcome | IdempotencyConflict:
    """The stored first response of a key, or a conflict when this request is not the one stored."""
    if row.request_hash != idem.request_hash:
        return IdempotencyConflict(idem.key)
    return Outcome(row.id, int(row.status_code), json.loads(row.response), replayed=True)
