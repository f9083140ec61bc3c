"""One transaction's postings: what they locked, read and planned, and the `Posting` API work runs against.

`Posting.post` reads what the legs touch (account kinds, the debited accounts' spendable lots, the lots
named), hands it to the pure planner (`planner.plan`) and records the plan in the transaction; nothing is
written until the executor writes the transaction's `Writes` through its storage backend.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, select

from datalever.ledger.accounts import AccountBook
from datalever.ledger.errors import InvalidTransfer, UnknownAccount, UnknownMember
from datalever.ledger.locks import MEMBER_STATE
from datalever.ledger.models import ACCOUNTS, LOTS
from datalever.ledger.planner import NEW_LOT_BASE, NamedLot, OpenLot, debited_by_order, in_spend_order, plan, validate
from datalever.ledger.storage import SqlStorage
from datalever.ledger.values import Leg, MemberState, Writes

if TYPE_CHECKING:
    from datalever.ledger.executor import Ledger


@dataclass
class Txn:
    """What the operations of one transaction have locked, read and planned to write."""

    conn: Connection
    now: datetime
    ledger: Ledger
    storage: SqlStorage
    accounts: AccountBook
    locked: set[int] = field(default_factory=set)
    members: dict[int, MemberState] = field(default_factory=dict)
    open_lots: dict[int, list[OpenLot]] = field(default_factory=dict)
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

    def take_locked(self, locked: tuple[Sequence[Sequence[Any]], Sequence[tuple[Any, ...]]]) -> None:
        """Cache members and their spendable lots from what the member lock read (`storage.Locked`)."""
        members, lots = locked
        accounts = []
        for row in members:
            assert len(row) == len(MEMBER_STATE), "a member lock row is one member's state"
            member_id, account_id = row[0], row[1]
            if member_id not in self.members:
                self.members[member_id] = MemberState(*row)
                self.locked.add(account_id)
                self.accounts.remember_member(member_id, account_id)
            accounts.append(account_id)
        self.add_open_lots(accounts, list(lots))

    def load_lots(self, account_ids: Sequence[int]) -> None:
        """Read the spendable lots of accounts not cached yet (with this transaction's planned changes)."""
        wanted = [account for account in account_ids if account not in self.open_lots]
        if not wanted:
            return
        rows = self.conn.execute(
            select(LOTS.c.id, LOTS.c.account_id, LOTS.c.remaining, LOTS.c.expires_at).where(
                LOTS.c.account_id.in_(wanted), LOTS.c.remaining > 0
            )
        ).all()
        self.add_open_lots(wanted, [tuple(row) for row in rows])

    def add_open_lots(self, accounts: Sequence[int], rows: Sequence[tuple[Any, ...]]) -> None:
        """Cache the spendable lots of `accounts` from (id, account, remaining, expires_at) rows, in spend
        order, with this transaction's planned changes and new lots included."""
        loaded: dict[int, list[OpenLot]] = {account: [] for account in accounts}
        for lot_id, account, stored, expires_at in rows:
            remaining = stored + self.lot_deltas.get(lot_id, 0)
            if remaining > 0 and (expires_at is None or expires_at > self.now):
                loaded[account].append(OpenLot(lot_id, remaining, expires_at))
        for lot in self.new_lots:
            remaining = lot["amount"] + self.lot_deltas.get(lot["lot_id"], 0)
            expires = lot["expires_at"]
            if lot["account_id"] in loaded and remaining > 0 and (expires is None or expires > self.now):
                loaded[lot["account_id"]].append(OpenLot(lot["lot_id"], remaining, expires))
        for account, lots in loaded.items():
            self.open_lots[account] = in_spend_order(lots)

    def writes(self, operations: Sequence[dict[str, Any]] = ()) -> Writes:
        """What to write: `operations`, then the planned lots, lot deltas, transfers and member updates
        (grouped by the columns they set), in a fixed order."""
        new_lots = [
            {**lot, "remaining": lot["amount"] + self.lot_deltas.get(lot["lot_id"], 0)} for lot in self.new_lots
        ]
        deltas = [(lot, delta) for lot, delta in sorted(self.lot_deltas.items()) if delta and lot < NEW_LOT_BASE]
        by_columns: dict[tuple[str, ...], list[dict[str, Any]]] = defaultdict(list)
        for member_id, values in sorted(self.member_updates.items()):
            by_columns[tuple(sorted(values))].append({"member_key": member_id, **values})
        return Writes(operations, deltas, self.transfers, list(by_columns.items()), new_lots)


@dataclass
class Posting:
    """One operation inside an open transaction. Only `post` moves credits; writes happen at commit."""

    txn: Txn
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
        """Lock a member (its row and its account row) for the rest of the transaction and read its state
        (and its spendable lots, read by a second statement once the lock is held)."""
        cached = self.txn.members.get(member_id)
        if cached is not None:
            return cached
        self.txn.take_locked(self.txn.storage.lock_members(self.conn, [member_id]))
        found = self.txn.members.get(member_id)
        if found is None:
            raise UnknownMember(member_id)
        return found

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
        txn = self.txn
        infos = txn.accounts.info(self.conn, [leg.debit for leg in legs] + [leg.credit for leg in legs])
        validate(legs, infos)
        self.lock_accounts(leg.debit for leg in legs if infos[leg.debit].bounded)
        spendable = {account: self._lots(account) for account in debited_by_order(legs, infos)}
        named = self._named_lots(legs)
        planned = plan(self.operation_id, legs, infos, spendable, named, txn.now, NEW_LOT_BASE + len(txn.new_lots))

        # Record the plan: nothing above changed the transaction's state.
        txn.open_lots.update(planned.open_lots)
        for named_lot in named.values():
            txn.open_lots.pop(named_lot.account_id, None)  # re-read with the planned deltas when next needed
        for lot_id, delta in planned.lot_deltas.items():
            txn.lot_deltas[lot_id] += delta
        for lot in planned.new_lots:
            txn.new_lots.append(lot)
            cached = txn.open_lots.get(lot["account_id"])
            expires = lot["expires_at"]
            if cached is not None and (expires is None or expires > txn.now):
                txn.open_lots[lot["account_id"]] = in_spend_order(
                    [*cached, OpenLot(lot["lot_id"], lot["amount"], expires)]
                )
        txn.transfers.extend(planned.transfers)

    def _named_lots(self, legs: Sequence[Leg]) -> dict[int, NamedLot]:
        """Lots a leg names explicitly (expiry, reversals), read with their owner so a wrong lot is refused."""
        ids = {leg.debit_lot for leg in legs if leg.debit_lot is not None}
        ids |= {leg.credit_lot for leg in legs if leg.credit_lot is not None}
        if not ids:
            return {}
        rows = self.conn.execute(
            select(LOTS.c.id, LOTS.c.account_id, LOTS.c.amount, LOTS.c.remaining).where(LOTS.c.id.in_(ids))
        ).all()
        found = {
            row.id: NamedLot(row.id, row.account_id, row.amount, row.remaining + self.txn.lot_deltas.get(row.id, 0))
            for row in rows
        }
        for lot_id in sorted(ids):
            if lot_id not in found:
                raise InvalidTransfer(f"lot {lot_id} does not exist")
        return found

    def _lots(self, account_id: int) -> list[OpenLot]:
        cached = self.txn.open_lots.get(account_id)
        if cached is None:
            self.txn.load_lots([account_id])
            cached = self.txn.open_lots[account_id]
        return cached
