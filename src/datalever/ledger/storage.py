"""Where postings are read and written: one backend per database, chosen once when the Ledger is built.

`SqlStorage` runs every step through SQLAlchemy, one statement per table (SQLite, the embedded default).
`PostgresStorage` keeps the same steps but sends the hot ones as psycopg SQL (`pg_batch`): a batch is two
pipelined round trips, and the writes of a transaction that creates no lot are one statement. Each
statement is defined once per backend: the member lock (`locks`), the lookup of stored operations by
(scope, key), the claim of a key, the writes. Nothing outside this module asks which database it runs on.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Engine, Table, bindparam, insert, select, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite

from datalever.ledger import pg_batch
from datalever.ledger.locks import MEMBER_LOCK, MEMBER_LOCK_PG, MEMBER_LOTS, MEMBER_LOTS_PG
from datalever.ledger.models import LOTS, MEMBERS, OPERATIONS, TRANSFERS
from datalever.ledger.values import Writes

Claim = tuple[str, str]
"""An idempotency key with its scope."""

Locked = tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]
"""What the member lock read: the members' state rows (`locks.MEMBER_STATE`), then their spendable lots
(lot id, account id, remaining, expires_at), read by a second statement once the locks are held."""

STORED_COLUMNS = ("scope", "key", "id", "request_hash", "status_code", "response")
"""What a lookup of stored operations returns per row (`pg_batch.STORED` selects the same)."""


class KeyTaken(Exception):
    """A concurrent transaction claimed one of the batch's keys after the batch checked it: roll back."""


class SqlStorage:
    """Every step through SQLAlchemy Core: the generic backend (SQLite)."""

    name = "sqlite"

    def __init__(self) -> None:
        self._claim = self.insert_new(OPERATIONS, ["scope", "key"])

    def _insert_dialect(self) -> Any:
        return sqlite

    def insert_new(self, table: Table, index_elements: Sequence[str]) -> Any:
        """An INSERT that skips rows conflicting on a unique index (`ON CONFLICT DO NOTHING`): for parts'
        own tables too (e.g. imported contributions), so no part asks which database it runs on."""
        return self._insert_dialect().insert(table).on_conflict_do_nothing(index_elements=list(index_elements))

    # ---- reads, inside the caller's transaction -------------------------------------------------
    def lock_members(self, conn: Connection, member_ids: Sequence[int]) -> Locked:
        """Lock members in id order, then read their spendable lots (a second statement: see `locks`)."""
        params = {"member_ids": sorted(set(member_ids))}
        members = [tuple(row) for row in conn.execute(MEMBER_LOCK, params)]
        return members, [tuple(row) for row in conn.execute(MEMBER_LOTS, params)]

    def stored(self, conn: Connection, claims: Sequence[Claim]) -> dict[Claim, Any]:
        """The stored operations of these keys (`STORED_COLUMNS`), by (scope, key), in one query."""
        if not claims:
            return {}
        pairs = tuple_(OPERATIONS.c.scope, OPERATIONS.c.key)
        columns = [OPERATIONS.c[name] for name in STORED_COLUMNS]
        return {
            (row.scope, row.key): row for row in conn.execute(select(*columns).where(pairs.in_(sorted(set(claims)))))
        }

    def begin_batch(
        self, conn: Connection, member_ids: Sequence[int], claims: Sequence[Claim]
    ) -> tuple[Locked, set[Claim]]:
        """Lock a batch's members with their lots and find which of its keys are taken."""
        return self.lock_members(conn, member_ids), set(self.stored(conn, claims))

    # ---- writes ---------------------------------------------------------------------------------
    def claim(self, conn: Connection, row: dict[str, Any]) -> bool:
        """Claim one key (`INSERT ... ON CONFLICT DO NOTHING`); False if it was already claimed."""
        return conn.execute(self._claim.values(row).returning(OPERATIONS.c.id)).first() is not None

    def write(self, conn: Connection, writes: Writes) -> int:
        """Write everything planned, in the caller's transaction; returns how many operations were new.

        A caller that gets fewer than `len(writes.operations)` back must roll back: a key was taken.
        """
        inserted = 0
        if writes.operations:
            rows = conn.execute(self._claim.returning(OPERATIONS.c.id), list(writes.operations)).scalars().all()
            inserted = len(rows)
            if inserted != len(writes.operations):
                return inserted
        real: dict[int, int] = {}
        if writes.new_lots:
            lots = [{name: value for name, value in lot.items() if name != "lot_id"} for lot in writes.new_lots]
            ids = conn.execute(insert(LOTS).returning(LOTS.c.id, sort_by_parameter_order=True), lots).scalars()
            real = {lot["lot_id"]: int(lot_id) for lot, lot_id in zip(writes.new_lots, ids, strict=True)}
        if writes.lot_deltas:
            conn.execute(
                update(LOTS)
                .where(LOTS.c.id == bindparam("lot_id"))
                .values(remaining=LOTS.c.remaining + bindparam("delta")),
                [{"lot_id": lot, "delta": delta} for lot, delta in writes.lot_deltas],
            )
        if writes.transfers:
            transfers = writes.transfers
            if real:
                transfers = [
                    {
                        **row,
                        "debit_lot_id": real.get(row["debit_lot_id"], row["debit_lot_id"]),
                        "credit_lot_id": real.get(row["credit_lot_id"], row["credit_lot_id"]),
                    }
                    for row in transfers
                ]
            conn.execute(insert(TRANSFERS), list(transfers))
        for columns, members in writes.member_updates:
            conn.execute(
                update(MEMBERS)
                .where(MEMBERS.c.id == bindparam("member_key"))
                .values({name: bindparam(name) for name in columns}),
                list(members),
            )
        return inserted

    def write_batch(self, conn: Connection, writes: Writes) -> None:
        """Write a batch (its operations included); raises KeyTaken if one of its keys was taken meanwhile.
        The caller's transaction commits after it."""
        if self.write(conn, writes) != len(writes.operations):
            raise KeyTaken


class PostgresStorage(SqlStorage):
    """PostgreSQL: the hot statements as psycopg SQL, a batch in two pipelined round trips (`pg_batch`)."""

    name = "postgresql"

    def _insert_dialect(self) -> Any:
        return postgresql

    def lock_members(self, conn: Connection, member_ids: Sequence[int]) -> Locked:
        params = {"member_ids": sorted(set(member_ids))}
        members = [pg_batch.in_utc(row) for row in conn.exec_driver_sql(MEMBER_LOCK_PG, params)]
        return members, [pg_batch.in_utc(row) for row in conn.exec_driver_sql(MEMBER_LOTS_PG, params)]

    def stored(self, conn: Connection, claims: Sequence[Claim]) -> dict[Claim, Any]:
        if not claims:
            return {}
        return {
            (row.scope, row.key): row for row in conn.exec_driver_sql(pg_batch.STORED, pg_batch.claims_param(claims))
        }

    def begin_batch(
        self, conn: Connection, member_ids: Sequence[int], claims: Sequence[Claim]
    ) -> tuple[Locked, set[Claim]]:
        return pg_batch.lock_and_find(conn, member_ids, claims)

    def write(self, conn: Connection, writes: Writes) -> int:
        if writes.operations or writes.new_lots:  # keys to claim, or lot ids to learn: statement by statement
            return super().write(conn, writes)
        pg_batch.write(conn, writes)
        return 0

    def write_batch(self, conn: Connection, writes: Writes) -> None:
        """One pipelined statement and the COMMIT (raises pg_batch.BatchAborted, nothing written, if refused);
        a batch that creates lots (the allowance) needs their ids back, so it goes statement by statement."""
        if writes.new_lots:
            super().write_batch(conn, writes)
        else:
            pg_batch.write_and_commit(conn, writes)


def storage_for(engine: Engine) -> SqlStorage:
    """The backend for an engine's database: the one place that asks which database it is."""
    name = engine.dialect.name
    if name == "postgresql":
        return PostgresStorage()
    if name == "sqlite":
        return SqlStorage()
    raise ValueError(f"the ledger runs on SQLite or PostgreSQL, not {name}")


def insert_new(conn: Connection, table: Table, index_elements: Sequence[str]) -> Any:
    """`SqlStorage.insert_new` for the database of `conn`."""
    return storage_for(conn.engine).insert_new(table, index_elements)
