"""The executor: runs operations once per idempotency key, each in one short transaction (or many in one).

`Ledger.execute` runs one operation:

1. claim the key (`INSERT ... ON CONFLICT DO NOTHING`); if it was already claimed, return the stored
   reply (same request) or raise IdempotencyConflict (different request), with no second effect;
2. run the caller's `work(posting)`, which locks what it spends from and calls `posting.post(legs)`, and
   turn its result into the reply with the caller's `reply` serializer;
3. write the planned lots and transfers, store the reply on the operation row, and commit.
   Any exception rolls everything back, the claim included.

`Ledger.execute_batch` does the same for many operations in one transaction (the charge hot path: a few
round trips shared by every charge in the batch); an operation that fails there is dropped from the batch
alone, so each operation still has all of its effects or none.

The database is reached only through the storage backend chosen when the Ledger is built (`storage`).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, update
from sqlalchemy.exc import DBAPIError

from datalever.economy import Policy
from datalever.ledger import pg_batch
from datalever.ledger.accounts import AccountBook, AccountInfo
from datalever.ledger.errors import IdempotencyConflict, LedgerError
from datalever.ledger.models import OPERATIONS
from datalever.ledger.storage import KeyTaken, SqlStorage, storage_for
from datalever.ledger.transaction import Posting, Txn
from datalever.ledger.types import utcnow
from datalever.ledger.values import BatchItem, Idempotency, Outcome, Serializer, Work, as_reply

# Serialization failure, deadlock detected, and a unique violation from a concurrent request that inserted
# the same row first (the retry sees that row and answers properly, e.g. with a 409).
_RETRYABLE_SQLSTATES = {"40001", "40P01", "23505"}
_ATTEMPTS = 5


class Ledger:
    """Entry point for postings and reads, bound to one engine, one policy and one storage backend."""

    def __init__(self, engine: Engine, policy: Policy, clock: Callable[[], datetime] = utcnow) -> None:
        self.engine = engine
        self.policy = policy
        self.clock = clock
        self.storage: SqlStorage = storage_for(engine)
        self.accounts = AccountBook(engine)

    # ---- accounts -------------------------------------------------------------------------------
    def account_id(self, code: str) -> int:
        """Id of an account by code (e.g. "issuance", "spend", "expiry"); cached, accounts never change."""
        return self.accounts.id_of(code)

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

    def account_info(self, conn: Connection, ids: set[int]) -> dict[int, AccountInfo]:
        """Kinds of accounts by id (read in `conn` if not cached); UnknownAccount if one does not exist."""
        return self.accounts.info(conn, ids)

    # ---- operations -----------------------------------------------------------------------------
    def execute(
        self,
        idem: Idempotency,
        kind: str,
        work: Work,
        *,
        member_id: int | None = None,
        now: datetime | None = None,
        reply: Serializer | None = None,
    ) -> Outcome:
        """Run `work` once per idempotency key, in one transaction; see the module docstring.

        `reply` turns what `work` returns into the stored (status, JSON object); without it, `work` returns
        that pair itself.
        """
        for attempt in range(_ATTEMPTS):
            try:
                return self._execute_once(idem, kind, work, member_id, now or self.clock(), reply or as_reply)
            except DBAPIError as error:
                if getattr(error.orig, "sqlstate", None) not in _RETRYABLE_SQLSTATES or attempt == _ATTEMPTS - 1:
                    raise
        raise AssertionError("unreachable")

    def _execute_once(
        self, idem: Idempotency, kind: str, work: Work, member_id: int | None, now: datetime, reply: Serializer
    ) -> Outcome:
        operation_id = uuid.uuid4()
        with self.engine.begin() as conn:
            if not self.storage.claim(conn, claim_row(operation_id, idem, kind, member_id, now)):
                return self._stored_outcome(conn, idem)
            txn = self._txn(conn, now)
            posting = Posting(txn, operation_id, member_id)
            result = work(posting)
            status, body = reply(result)
            self.storage.write(conn, txn.writes())
            conn.execute(
                update(OPERATIONS)
                .where(OPERATIONS.c.id == operation_id)
                .values(status_code=status, response=_dump(body), member_id=posting.member_id)
            )
        return Outcome(operation_id, status, body, replayed=False, result=result)

    def execute_batch(self, items: Sequence[BatchItem], now: datetime | None = None) -> list[Outcome | LedgerError]:
        """Run many operations in one transaction; each still has all of its effects or none.

        Returns, per item, its Outcome or the LedgerError that refused it. If the transaction itself fails
        (a key claimed meanwhile, a deadlock, a lost connection), the items are run one by one with
        `execute` instead.
        """
        now = now or self.clock()
        try:
            return self._execute_batch_once(items, now)
        except (DBAPIError, KeyTaken, pg_batch.BatchAborted):
            return [self._execute_alone(item, now) for item in items]

    def _execute_alone(self, item: BatchItem, now: datetime) -> Outcome | LedgerError:
        try:
            return self.execute(item.idem, item.kind, item.work, member_id=item.member_id, now=now, reply=item.reply)
        except LedgerError as error:
            return error

    def _execute_batch_once(self, items: Sequence[BatchItem], now: datetime) -> list[Outcome | LedgerError]:
        """One transaction: lock the members and see which keys are taken, plan every item, write it all.

        An item whose key is already stored (a retry), or repeats an earlier item's key, is left out and
        answered after the commit from one read of the stored operations: the first reply, or a 409.
        On PostgreSQL the transaction is two pipelined round trips (`pg_batch`); a key claimed by another
        transaction in between aborts the batch, which `execute_batch` then runs one by one.
        """
        ids = [uuid.uuid4() for _ in items]
        results: list[Outcome | LedgerError | None] = [None] * len(items)
        alone: list[int] = []
        claims = [(item.idem.scope, item.idem.key) for item in items]
        members = sorted({item.member_id for item in items if item.member_id is not None})
        with self.engine.begin() as conn:
            txn = self._txn(conn, now)
            rows, taken = self.storage.begin_batch(conn, members, claims)
            txn.take_locked(rows)
            records: list[dict[str, Any]] = []
            for i, item in enumerate(items):
                if claims[i] in taken:
                    alone.append(i)
                    continue
                taken.add(claims[i])
                state = txn.snapshot()
                posting = Posting(txn, ids[i], item.member_id)
                try:
                    result = item.work(posting)
                except LedgerError as error:  # refused under this transaction's locks, with its key free
                    txn.restore(state)
                    results[i] = error
                    continue
                status, body = (item.reply or as_reply)(result)
                results[i] = Outcome(ids[i], status, body, replayed=False, result=result)
                record = claim_row(ids[i], item.idem, item.kind, posting.member_id, now)
                records.append({**record, "status_code": status, "response": _dump(body)})
            records.sort(key=lambda row: (row["scope"], row["key"]))  # one order for every batch
            self.storage.write_batch(conn, txn.writes(records))
        # Their keys are stored now (before the batch, or by an earlier item of it): one read replays them
        # all. A key whose earlier item was refused is not stored, and that item really runs.
        stored = self._stored_rows([items[i].idem for i in alone])
        for i in alone:
            idem = items[i].idem
            row = stored.get((idem.scope, idem.key))
            results[i] = self._execute_alone(items[i], now) if row is None else replay(row, idem)
        assert all(result is not None for result in results), "every item of a batch is answered"
        return [result for result in results if result is not None]

    def _stored_rows(self, idems: Sequence[Idempotency]) -> dict[tuple[str, str], Any]:
        """The stored operations of these keys, by (scope, key), in one query (none for no keys)."""
        if not idems:
            return {}
        with self.engine.connect().execution_options(readonly=True) as conn:
            return self.storage.stored(conn, [(idem.scope, idem.key) for idem in idems])

    def find(self, idem: Idempotency) -> Outcome | None:
        """The stored outcome of a key, or None; raises IdempotencyConflict if the request differs."""
        row = self._stored_rows([idem]).get((idem.scope, idem.key))
        return None if row is None else _replay_or_raise(row, idem)

    def _stored_outcome(self, conn: Connection, idem: Idempotency) -> Outcome:
        row = self.storage.stored(conn, [(idem.scope, idem.key)])[(idem.scope, idem.key)]
        return _replay_or_raise(row, idem)

    def _txn(self, conn: Connection, now: datetime) -> Txn:
        return Txn(conn, now, self, self.storage, self.accounts)


def claim_row(
    operation_id: uuid.UUID, idem: Idempotency, kind: str, member_id: int | None, now: datetime
) -> dict[str, Any]:
    """The operations row that claims a key (its reply is added when the operation completes)."""
    return {
        "id": operation_id,
        "scope": idem.scope,
        "key": idem.key,
        "request_hash": idem.request_hash,
        "kind": kind,
        "member_id": member_id,
        "created_at": now,
    }


def replay(row: Any, idem: Idempotency) -> Outcome | IdempotencyConflict:
    """The stored first reply of a key, or a conflict when this request is not the one stored."""
    if row.request_hash != idem.request_hash:
        return IdempotencyConflict(idem.key)
    return Outcome(row.id, int(row.status_code), json.loads(row.response), replayed=True)


def _replay_or_raise(row: Any, idem: Idempotency) -> Outcome:
    result = replay(row, idem)
    if isinstance(result, IdempotencyConflict):
        raise result
    return result


def _dump(body: dict[str, Any]) -> str:
    return json.dumps(body, default=str)
