"""The planner: legs and the lots they touch in, balanced transfers and lot changes out. Pure: no database.

A posting is planned in full before anything is recorded, so a leg that cannot be applied (a shortfall,
a lot of another account) raises and leaves the transaction's state as it was. Debiting a bounded account
burns its spendable lots in the spend order (`datalever.economy.spend_order_key`); a leg may name the
exact lot to debit (expiry, reversals) or to give credits back to (reversal of a spend). Crediting a
bounded account otherwise creates a new lot, named by a placeholder id until it is written.

Every plan is checked before it is returned (TIGER_STYLE: assert every invariant): each leg's transfers
move exactly its amount, and each lot's change equals the transfers into it minus the transfers out.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from datalever.economy import spend_order_key
from datalever.ledger.accounts import AccountInfo
from datalever.ledger.errors import InsufficientCredits, InvalidTransfer
from datalever.ledger.values import Leg

NEW_LOT_BASE = 2**62
"""Placeholder ids of lots created in this transaction start here (they sort after every real lot)."""


@dataclass
class OpenLot:
    """A spendable lot as the transaction sees it (stored remaining plus planned changes)."""

    id: int
    remaining: int
    expires_at: datetime | None


@dataclass
class NamedLot:
    """A lot a leg names explicitly, with its owner and grant so a wrong or overfull lot is refused."""

    id: int
    account_id: int
    amount: int
    remaining: int


@dataclass(frozen=True)
class Plan:
    """What one posting changes: its transfers, the changes to existing lots, the lots it creates, and what
    stays spendable in each account it debited by spend order."""

    transfers: list[dict[str, Any]]
    lot_deltas: dict[int, int]
    new_lots: list[dict[str, Any]]
    open_lots: dict[int, list[OpenLot]]


def in_spend_order(lots: list[OpenLot]) -> list[OpenLot]:
    return sorted(lots, key=lambda lot: spend_order_key(lot.expires_at, lot.id))


def validate(legs: Sequence[Leg], infos: Mapping[int, AccountInfo]) -> None:
    """Refuse structurally wrong legs before anything is locked or planned."""
    if not legs:
        raise InvalidTransfer("a posting needs at least one leg")
    for leg in legs:
        if isinstance(leg.amount, bool) or not isinstance(leg.amount, int) or leg.amount <= 0:
            raise InvalidTransfer(f"amount must be a positive whole number of credits, got {leg.amount!r}")
        if leg.debit == leg.credit:
            raise InvalidTransfer("a transfer needs two different accounts")
        if leg.debit_lot is not None and not infos[leg.debit].bounded:
            raise InvalidTransfer("debit_lot names a lot of an account that holds no lots")
        if leg.credit_lot is not None and not infos[leg.credit].bounded:
            raise InvalidTransfer("credit_lot names a lot of an account that holds no lots")
        if (leg.debit_lot or 0) >= NEW_LOT_BASE or (leg.credit_lot or 0) >= NEW_LOT_BASE:
            raise InvalidTransfer("a leg may not name a lot created in the same transaction")


def plan(
    operation_id: uuid.UUID,
    legs: Sequence[Leg],
    infos: Mapping[int, AccountInfo],
    spendable: Mapping[int, list[OpenLot]],
    named: Mapping[int, NamedLot],
    now: datetime,
    first_new_lot: int,
) -> Plan:
    """Plan `legs` (already validated) against the spendable lots of each account they debit by spend
    order and the lots they name; raises InsufficientCredits or InvalidTransfer, changing nothing given."""
    assert first_new_lot >= NEW_LOT_BASE
    open_lots = {account: [replace(lot) for lot in spendable[account]] for account in debited_by_order(legs, infos)}
    named_left = {lot_id: replace(lot) for lot_id, lot in named.items()}
    burns: list[list[tuple[int | None, int]]] = []
    for leg in legs:
        if not infos[leg.debit].bounded:
            burns.append([(None, leg.amount)])
        elif leg.debit_lot is not None:
            burns.append([(leg.debit_lot, _take_named(named_left, leg))])
        else:
            burns.append(_burn(open_lots[leg.debit], leg))
    for leg in legs:
        if leg.credit_lot is not None:
            _give_back_named(named_left, leg)

    transfers: list[dict[str, Any]] = []
    deltas: dict[int, int] = {}
    new_lots: list[dict[str, Any]] = []
    for leg, chunks in zip(legs, burns, strict=True):
        assert sum(amount for _, amount in chunks) == leg.amount, "a leg's transfers must move its amount"
        credit_lot = leg.credit_lot
        if credit_lot is not None:
            deltas[credit_lot] = deltas.get(credit_lot, 0) + leg.amount
        elif infos[leg.credit].bounded:
            credit_lot = first_new_lot + len(new_lots)
            new_lots.append(
                {
                    "lot_id": credit_lot,
                    "account_id": leg.credit,
                    "operation_id": operation_id,
                    "source": leg.source or leg.kind,
                    "amount": leg.amount,
                    "granted_at": now,
                    "expires_at": leg.expires_at,
                }
            )
        for lot_id, amount in chunks:
            assert amount > 0
            if lot_id is not None:
                deltas[lot_id] = deltas.get(lot_id, 0) - amount
            transfers.append(
                {
                    "operation_id": operation_id,
                    "debit_account_id": leg.debit,
                    "credit_account_id": leg.credit,
                    "amount": amount,
                    "kind": leg.kind,
                    "debit_lot_id": lot_id,
                    "credit_lot_id": credit_lot,
                    "reverses_id": leg.reverses,
                    "created_at": now,
                }
            )
    result = Plan(
        transfers,
        deltas,
        new_lots,
        {account: [lot for lot in lots if lot.remaining > 0] for account, lots in open_lots.items()},
    )
    _check(result)
    return result


def _check(result: Plan) -> None:
    """Each lot changes by exactly the transfers into it minus those out of it; a new lot holds what its
    transfer brought; what stays spendable is positive."""
    by_transfers: dict[int, int] = {}
    for row in result.transfers:
        if row["debit_lot_id"] is not None:
            by_transfers[row["debit_lot_id"]] = by_transfers.get(row["debit_lot_id"], 0) - row["amount"]
        if row["credit_lot_id"] is not None:
            by_transfers[row["credit_lot_id"]] = by_transfers.get(row["credit_lot_id"], 0) + row["amount"]
    by_lots = {**result.lot_deltas, **{lot["lot_id"]: lot["amount"] for lot in result.new_lots}}
    assert {lot: delta for lot, delta in by_transfers.items() if delta} == {
        lot: delta for lot, delta in by_lots.items() if delta
    }, "lot changes must equal the transfers that explain them"
    assert all(lot.remaining > 0 for lots in result.open_lots.values() for lot in lots)


def debited_by_order(legs: Sequence[Leg], infos: Mapping[int, AccountInfo]) -> set[int]:
    """The accounts whose spendable lots `plan` needs: bounded accounts debited without a named lot."""
    return {leg.debit for leg in legs if infos[leg.debit].bounded and leg.debit_lot is None}


def _take_named(named: dict[int, NamedLot], leg: Leg) -> int:
    assert leg.debit_lot is not None
    lot = named[leg.debit_lot]
    if lot.account_id != leg.debit:
        raise InvalidTransfer(f"lot {lot.id} does not belong to account {leg.debit}")
    if lot.remaining < leg.amount:
        raise InsufficientCredits(leg.debit, leg.amount, lot.remaining)
    lot.remaining -= leg.amount
    return leg.amount


def _give_back_named(named: dict[int, NamedLot], leg: Leg) -> None:
    assert leg.credit_lot is not None
    lot = named[leg.credit_lot]
    if lot.account_id != leg.credit:
        raise InvalidTransfer(f"lot {lot.id} does not belong to account {leg.credit}")
    if lot.remaining + leg.amount > lot.amount:
        raise InvalidTransfer(f"lot {lot.id} cannot hold more than the {lot.amount} credits it was granted")
    lot.remaining += leg.amount


def _burn(lots: list[OpenLot], leg: Leg) -> list[tuple[int | None, int]]:
    """Take `leg.amount` from `lots` (in spend order), lowering the planned remainders."""
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
    assert left == 0
    return chunks
