"""Corrections: an operation is undone by new transfers in the opposite direction, never by editing.

Each reversing transfer names the transfer it reverses (`reverses_id`) and moves the credits back to the
very lot they came from: a reversed charge refills the lot it burned (if that lot has expired meanwhile,
the next expiry run takes it), a reversed grant empties the lot it created (refused if already spent).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select

from datalever.ledger.errors import Conflict, NotFound
from datalever.ledger.models import TRANSFERS
from datalever.ledger.posting import Idempotency, Ledger, Leg, Outcome, Posting, Serializer
from datalever.ledger.values import Result, recorded


@dataclass(frozen=True)
class Reversal(Result):
    operation_id: uuid.UUID
    reverses: uuid.UUID
    transfers: int
    credits: int


def reverse_operation(
    ledger: Ledger, idem: Idempotency, operation_id: uuid.UUID, reply: Serializer = recorded
) -> Outcome:
    """Post the reversal of every transfer of `operation_id`, all or nothing, at most once."""

    def work(posting: Posting) -> Reversal:
        conn = posting.conn
        transfers = conn.execute(
            select(TRANSFERS).where(TRANSFERS.c.operation_id == operation_id).order_by(TRANSFERS.c.id)
        ).all()
        if not transfers:
            raise NotFound(f"operation {operation_id} moved no credits, so there is nothing to reverse")
        if any(row.reverses_id is not None for row in transfers):
            raise Conflict(f"operation {operation_id} is itself a reversal; post a new grant instead")
        accounts = {row.debit_account_id for row in transfers} | {row.credit_account_id for row in transfers}
        infos = ledger.account_info(conn, accounts)
        posting.lock_accounts(account for account in accounts if infos[account].bounded)
        ids = [row.id for row in transfers]
        done = conn.execute(select(TRANSFERS.c.id).where(TRANSFERS.c.reverses_id.in_(ids)).limit(1)).first()
        if done is not None:
            raise Conflict(f"operation {operation_id} was already reversed")
        posting.post(
            [
                Leg(
                    row.credit_account_id,
                    row.debit_account_id,
                    row.amount,
                    "reversal",
                    debit_lot=row.credit_lot_id,
                    credit_lot=row.debit_lot_id,
                    reverses=row.id,
                )
                for row in transfers
            ]
        )
        return Reversal(posting.operation_id, operation_id, len(transfers), sum(row.amount for row in transfers))

    return ledger.execute(idem, "reversal", work, reply=reply)
