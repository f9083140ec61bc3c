"""Posting: the only code that moves credits.

`Ledger.execute` runs one operation in one short transaction under an idempotency key:

1. claim the key (`INSERT ... ON CONFLICT DO NOTHING`); if it was already claimed, return the stored
   response (same request) or raise IdempotencyConflict (different request), with no second effect;
2. run the caller's `work(posting)`, which locks what it spends from and calls `posting.post(legs)`;
3. store the response on the operation row and commit. Any exception rolls everything back.

A multi-leg `post` applies all legs or none. Debiting a bounded account (a member) burns its lots in
spend order: soonest `expires_at` first, ties by oldest lot, never-expiring lots last; lots already past
their expiry are not spendable. Unbounded accounts (issuance source, spend and expiry sinks) are never
read, locked or updated by a posting, so concurrent charges only contend on their own member's row.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError

from datalever.economy import Policy
from datalever.ledger.errors import (
    IdempotencyConflict,
    InsufficientCredits,
    InvalidTransfer,
    UnknownAccount,
    UnknownMember,
)
from datalever.ledger.models import ACCOUNTS, LOTS, MEMBERS, OPERATIONS, TRANSFERS
from datalever.ledger.types import utcnow

_RETRYABLE_SQLSTATES = {"40001", "40P01"}  # serialization failure, deadlock detected


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
class Posting:
    """The open transaction of one operation. Only `post` changes lots and writes transfers."""

    conn: Connection
    operation_id: uuid.UUID
    now: datetime
    ledger: Ledger
    member_id: int | None = None
    _locked: set[int] = field(default_factory=set)
    _open_lots: dict[int, list[_OpenLot]] = field(default_factory=dict)

    def lock_member(self, member_id: int) -> MemberState:
        """Lock a member (its row and its account row) for the rest of the transaction and read its state."""
        row = self.conn.execute(
            select(
                MEMBERS.c.id,
                MEMBERS.c.account_id,
                MEMBERS.c.reputation,
                MEMBERS.c.joined_at,
                MEMBERS.c.session_position,
                MEMBERS.c.last_query_at,
            )
            .where(MEMBERS.c.id == member_id)
            .with_for_update()
        ).first()
        if row is None:
            raise UnknownMember(member_id)
        self._locked.add(row.account_id)
        return MemberState(*row)

    def lock_accounts(self, account_ids: Iterable[int]) -> None:
        """Lock bounded accounts in id order (a fixed order, so two postings never deadlock)."""
        wanted = sorted(set(account_ids) - self._locked)
        if not wanted:
            return
        found = self.conn.execute(
            select(ACCOUNTS.c.id).where(ACCOUNTS.c.id.in_(wanted)).order_by(ACCOUNTS.c.id).with_for_update()
        ).all()
        if len(found) != len(wanted):
            missing = sorted(set(wanted) - {row.id for row in found})
            raise UnknownAccount(f"account {missing[0]} does not exist")
        self._locked.update(wanted)

    def update_member(self, member_id: int, **values: Any) -> None:
        """Update a locked member's own fields (session state, reputation); never a balance."""
        self.conn.execute(update(MEMBERS).where(MEMBERS.c.id == member_id).values(**values))

    def balance(self, account_id: int) -> int:
        """Spendable credits of a bounded account now (lots not yet expired), including this posting."""
        return sum(lot.remaining for lot in self._lots(account_id))

    def post(self, legs: Sequence[Leg]) -> list[int]:
        """Apply every leg or none; returns the new transfer ids. Raises before writing anything on error."""
        if not legs:
            raise InvalidTransfer("a posting needs at least one leg")
        infos = self.ledger.account_info(self.conn, {leg.debit for leg in legs} | {leg.credit for leg in legs})
        for leg in legs:
            _validate(leg, infos)
        self.lock_accounts(leg.debit for leg in legs if infos[leg.debit].bounded)

        # Plan in memory first so a shortfall in any leg leaves the database untouched.
        named = self._named_lots(legs)
        planned = {
            account: [_OpenLot(lot.id, lot.remaining, lot.expires_at) for lot in self._lots(account)]
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

        lot_updates: list[dict[str, int]] = []
        transfer_rows: list[dict[str, Any]] = []
        for leg, chunks in zip(legs, burns, strict=True):
            credit_lot = leg.credit_lot
            if credit_lot is not None:
                lot_updates.append({"lot_id": credit_lot, "delta": leg.amount})
            elif infos[leg.credit].bounded:
                credit_lot = self._create_lot(leg)
            for lot_id, amount in chunks:
                if lot_id is not None:
                    lot_updates.append({"lot_id": lot_id, "delta": -amount})
                transfer_rows.append(
                    {
                        "operation_id": self.operation_id,
                        "debit_account_id": leg.debit,
                        "credit_account_id": leg.credit,
                        "amount": amount,
                        "kind": leg.kind,
                        "debit_lot_id": lot_id,
                        "credit_lot_id": credit_lot,
                        "reverses_id": leg.reverses,
                        "created_at": self.now,
                    }
                )
        if lot_updates:
            self.conn.execute(
                update(LOTS)
                .where(LOTS.c.id == bindparam("lot_id"))
                .values(remaining=LOTS.c.remaining + bindparam("delta")),
                lot_updates,
            )
        if named:
            self._open_lots.clear()  # named lots may sit in any cached account: re-read when next needed
        else:
            for account, lots in planned.items():
                self._open_lots[account] = [lot for lot in lots if lot.remaining > 0]
        ids = self.conn.execute(
            insert(TRANSFERS).returning(TRANSFERS.c.id, sort_by_parameter_order=True), transfer_rows
        ).scalars()
        return list(ids)

    def _named_lots(self, legs: Sequence[Leg]) -> dict[int, _NamedLot]:
        """Lots a leg names explicitly (expiry, reversals), read with their owner so a wrong lot is refused."""
        ids = {leg.debit_lot for leg in legs if leg.debit_lot is not None}
        ids |= {leg.credit_lot for leg in legs if leg.credit_lot is not None}
        if not ids:
            return {}
        rows = self.conn.execute(
            select(LOTS.c.id, LOTS.c.account_id, LOTS.c.amount, LOTS.c.remaining).where(LOTS.c.id.in_(ids))
        ).all()
        found = {row.id: _NamedLot(row.id, row.account_id, row.amount, row.remaining) for row in rows}
        for lot_id in ids:
            if lot_id not in found:
                raise InvalidTransfer(f"lot {lot_id} does not exist")
        return found

    def _create_lot(self, leg: Leg) -> int:
        lot_id = self.conn.execute(
            insert(LOTS)
            .values(
                account_id=leg.credit,
                operation_id=self.operation_id,
                source=leg.source or leg.kind,
                amount=leg.amount,
                remaining=leg.amount,
                granted_at=self.now,
                expires_at=leg.expires_at,
            )
            .returning(LOTS.c.id)
        ).scalar_one()
        cached = self._open_lots.get(leg.credit)
        if cached is not None and (leg.expires_at is None or leg.expires_at > self.now):
            cached.append(_OpenLot(int(lot_id), leg.amount, leg.expires_at))
            cached.sort(key=lambda lot: spend_order_key(lot.id, lot.expires_at))
        return int(lot_id)

    def _lots(self, account_id: int) -> list[_OpenLot]:
        cached = self._open_lots.get(account_id)
        if cached is None:
            rows = self.conn.execute(
                select(LOTS.c.id, LOTS.c.remaining, LOTS.c.expires_at).where(
                    LOTS.c.account_id == account_id, LOTS.c.remaining > 0
                )
            ).all()
            cached = [
                _OpenLot(row.id, row.remaining, row.expires_at)
                for row in rows
                if row.expires_at is None or row.expires_at > self.now
            ]
            cached.sort(key=lambda lot: spend_order_key(lot.id, lot.expires_at))
            self._open_lots[account_id] = cached
        return cached


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
    lot = named[leg.debit_lot]  # type: ignore[index]
    if lot.account_id != leg.debit:
        raise InvalidTransfer(f"lot {lot.id} does not belong to account {leg.debit}")
    if lot.remaining < leg.amount:
        raise InsufficientCredits(leg.debit, leg.amount, lot.remaining)
    lot.remaining -= leg.amount
    return leg.amount


def _give_back_named(named: dict[int, _NamedLot], leg: Leg) -> None:
    lot = named[leg.credit_lot]  # type: ignore[index]
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
        self,
        idem: Idempotency,
        kind: str,
        work: Callable[[Posting], tuple[int, dict[str, Any]]],
        *,
        member_id: int | None = None,
        now: datetime | None = None,
    ) -> Outcome:
        """Run `work` once per idempotency key, in one transaction; see the module docstring."""
        for attempt in range(5):
            try:
                return self._execute_once(idem, kind, work, member_id, now or self.clock())
            except DBAPIError as error:
                code = getattr(error.orig, "sqlstate", None)
                if code not in _RETRYABLE_SQLSTATES or attempt == 4:
                    raise
        raise AssertionError("unreachable")

    def _execute_once(
        self,
        idem: Idempotency,
        kind: str,
        work: Callable[[Posting], tuple[int, dict[str, Any]]],
        member_id: int | None,
        now: datetime,
    ) -> Outcome:
        operation_id = uuid.uuid4()
        with self.engine.begin() as conn:
            claim = _insert_ignoring_conflict(conn).values(
                id=operation_id,
                scope=idem.scope,
                key=idem.key,
                request_hash=idem.request_hash,
                kind=kind,
                member_id=member_id,
                created_at=now,
            )
            claimed = conn.execute(claim.returning(OPERATIONS.c.id)).first()
            if claimed is None:
                return _stored_outcome(conn, idem)
            posting = Posting(conn, operation_id, now, self, member_id)
            status, body = work(posting)
            conn.execute(
                update(OPERATIONS)
                .where(OPERATIONS.c.id == operation_id)
                .values(status_code=status, response=json.dumps(body, default=str), member_id=posting.member_id)
            )
        return Outcome(operation_id, status, body, replayed=False)

    def find(self, idem: Idempotency) -> Outcome | None:
        """The stored outcome of a key, or None; raises IdempotencyConflict if the request differs."""
        with self.engine.connect() as conn:
            row = conn.execute(
                select(OPERATIONS.c.id).where(OPERATIONS.c.scope == idem.scope, OPERATIONS.c.key == idem.key)
            ).first()
            return None if row is None else _stored_outcome(conn, idem)


def _insert_ignoring_conflict(conn: Connection) -> Any:
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    return dialect.insert(OPERATIONS).on_conflict_do_nothing(index_elements=["scope", "key"])


def _stored_outcome(conn: Connection, idem: Idempotency) -> Outcome:
    row = conn.execute(
        select(OPERATIONS.c.id, OPERATIONS.c.request_hash, OPERATIONS.c.status_code, OPERATIONS.c.response).where(
            OPERATIONS.c.scope == idem.scope, OPERATIONS.c.key == idem.key
        )
    ).one()
    if row.request_hash != idem.request_hash:
        raise IdempotencyConflict(idem.key)
    return Outcome(row.id, int(row.status_code), json.loads(row.response), replayed=True)
