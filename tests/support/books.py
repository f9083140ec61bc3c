"""Small helpers shared by the ledger tests: open members, read balances, check the books."""

from __future__ import annotations

import itertools
from typing import Any

from sqlalchemy import func, select

from datalever.ledger.members import create_member
from datalever.ledger.models import LOTS, MEMBERS, OPERATIONS, TRANSFERS
from datalever.ledger.posting import Idempotency, Ledger, request_hash
from datalever.ledger.queries import member_balance, net_flows

_counter = itertools.count()


def idem(*parts: Any, scope: str = "test") -> Idempotency:
    """A fresh idempotency key for one request (the parts are the request body)."""
    return Idempotency(scope, f"k{next(_counter)}", request_hash(*parts))


def new_member(ledger: Ledger) -> tuple[int, int]:
    """(member id, account id) of a freshly opened member."""
    member_id = create_member(ledger, idem("member")).body["id"]
    with ledger.engine.connect() as conn:
        account = conn.execute(select(MEMBERS.c.account_id).where(MEMBERS.c.id == member_id)).scalar_one()
    return member_id, account


def spendable(ledger: Ledger, member_id: int) -> int:
    with ledger.engine.connect() as conn:
        return int(member_balance(conn, member_id, ledger.clock())["balance"])


def check_books(ledger: Ledger) -> dict[int, int]:
    """Assert the ledger's invariants and return every account's net flow.

    * every transfer is a positive amount between two different accounts, so entries sum to zero;
    * each bounded account's lots hold exactly what its transfers say it holds, and never less than zero;
    * each lot's remaining equals its grant minus what transfers took from it plus what they gave back.
    """
    with ledger.engine.connect() as conn:
        flows = net_flows(conn)
        assert sum(flows.values()) == 0
        assert conn.execute(select(func.count()).where(TRANSFERS.c.amount <= 0)).scalar_one() == 0
        held = dict(
            conn.execute(select(LOTS.c.account_id, func.sum(LOTS.c.remaining)).group_by(LOTS.c.account_id)).all()
        )
        for account, total in held.items():
            assert flows.get(account, 0) == total, f"account {account}: lots {total} != transfers"
            assert total >= 0
        lots = conn.execute(select(LOTS.c.id, LOTS.c.amount, LOTS.c.remaining)).all()
        out = dict(
            conn.execute(
                select(TRANSFERS.c.debit_lot_id, func.sum(TRANSFERS.c.amount))
                .where(TRANSFERS.c.debit_lot_id.is_not(None))
                .group_by(TRANSFERS.c.debit_lot_id)
            ).all()
        )
        back = dict(
            conn.execute(
                select(TRANSFERS.c.credit_lot_id, func.sum(TRANSFERS.c.amount))
                .where(TRANSFERS.c.credit_lot_id.is_not(None))
                .group_by(TRANSFERS.c.credit_lot_id)
            ).all()
        )
        for lot in lots:
            assert 0 <= lot.remaining <= lot.amount
            assert lot.remaining == back.get(lot.id, 0) - out.get(lot.id, 0), f"lot {lot.id} out of step"
        assert conn.execute(select(func.count()).where(OPERATIONS.c.response.is_(None))).scalar_one() == 0
    return flows
