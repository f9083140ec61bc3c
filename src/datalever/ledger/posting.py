"""Posting: the only code that moves credits. This module gathers its public names; the work is split:

* `values`: keys, legs, outcomes, batch items, the reply of an operation (plain data);
* `planner`: legs and the lots they touch in, balanced transfers and lot changes out (pure, asserted);
* `transaction`: one transaction's locks, reads and plans, and the `Posting` API that work runs against;
* `storage`: the SQLite and PostgreSQL backends (chosen once, when the Ledger is built);
* `executor`: `Ledger.execute` / `execute_batch`, idempotent claims and replays.

A multi-leg `post` applies all legs or none. Debiting a bounded account (a member) burns its lots in spend
order (`datalever.economy.spend_order_key`); lots already past their expiry are not spendable. Unbounded
accounts (issuance source, spend and expiry sinks) are never read, locked or updated by a posting, so
concurrent charges only contend on their own member's row.
"""

from __future__ import annotations

from datalever.economy import spend_order_key
from datalever.ledger.executor import Ledger
from datalever.ledger.transaction import Posting
from datalever.ledger.values import (
    BatchItem,
    Idempotency,
    Leg,
    MemberState,
    Outcome,
    Reply,
    Serializer,
    Work,
    request_hash,
)

__all__ = [
    "BatchItem",
    "Idempotency",
    "Ledger",
    "Leg",
    "MemberState",
    "Outcome",
    "Posting",
    "Reply",
    "Serializer",
    "Work",
    "request_hash",
    "spend_order_key",
]
