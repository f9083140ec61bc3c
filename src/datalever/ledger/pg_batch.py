"""PostgreSQL batches in two round trips: lock and read, then write and commit.

A batch of charges is latency-bound on a busy machine: each round trip waits for the server process and
then for the worker to be scheduled again. With psycopg's pipeline mode the batch needs two:

1. `lock_and_find`: BEGIN, lock the members (`locks.MEMBER_LOCK_PG`), read their spendable lots
   (`locks.MEMBER_LOTS_PG`) and find which idempotency keys of the batch are already taken (`STORED`).
   The server runs pipelined statements in order, so the lots statement starts, and takes its READ
   COMMITTED snapshot, only once the locks are held: it sees what the lock holders it waited for wrote;
2. `write_and_commit`: one statement of data-modifying CTEs that writes everything, then COMMIT.

These are `storage.PostgresStorage`'s statements; it also runs the lock and `STORED` outside a pipeline
(a single operation, replays) and `write` inside a transaction that goes on, so each is written once.

The write is one statement whatever the batch size: each table gets one CTE fed by one JSON parameter
read with `json_to_recordset` (one call into the C JSON encoder; column arrays cost the driver a regex per
text element, and one bind per row cost the driver and the server per row). All CTEs run to completion
and foreign keys are checked at the end of the statement, so the rows may reference each other.
Operations are inserted plainly: a key another transaction claimed since step 1 is a unique violation
that aborts the statement, and with it the COMMIT, so nothing is written and the caller gets
`BatchAborted` (as for a deadlock or a lost connection) and runs the batch's items one by one.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from functools import cache
from typing import Any

import psycopg
from sqlalchemy import Column, Connection, Table
from sqlalchemy.dialects import postgresql

from datalever.ledger.locks import MEMBER_LOCK_PG, MEMBER_LOTS_PG
from datalever.ledger.models import LOTS, MEMBERS, OPERATIONS, TRANSFERS
from datalever.ledger.values import Writes

_DIALECT = postgresql.dialect()  # type: ignore[no-untyped-call]
_QUOTE = _DIALECT.identifier_preparer.quote

OPERATION_COLUMNS = ("id", "scope", "key", "request_hash", "kind", "member_id", "created_at", "status_code", "response")
TRANSFER_COLUMNS = (
    "operation_id",
    "debit_account_id",
    "credit_account_id",
    "amount",
    "kind",
    "debit_lot_id",
    "credit_lot_id",
    "reverses_id",
    "created_at",
)


class BatchAborted(Exception):
    """PostgreSQL refused the batch (a key claimed meanwhile, a deadlock, a lost connection): nothing written."""


# Each key is one probe of the unique index: a LATERAL subquery with a LIMIT cannot be flattened into a
# join, which the planner (expecting 100 rows from any JSON set, and with statistics that lag a fast-growing
# table) ran as a hash of the whole operations table. The batch's read and the replays both use it.
STORED = (
    "SELECT found.scope, found.key, found.id, found.request_hash, found.status_code, found.response "
    "FROM json_to_recordset(%(claims)s::json) AS claim(scope text, key text) "
    "CROSS JOIN LATERAL (SELECT operations.scope, operations.key, operations.id, operations.request_hash, "
    "operations.status_code, operations.response FROM operations "
    "WHERE operations.scope = claim.scope AND operations.key = claim.key LIMIT 1) AS found"
)
"""The stored operations of a set of keys, `storage.STORED_COLUMNS` per row (parameter `claims_param`)."""


def claims_param(claims: Sequence[tuple[str, str]]) -> dict[str, str]:
    return {"claims": json.dumps([{"scope": scope, "key": key} for scope, key in claims])}


def lock_and_find(
    conn: Connection, member_ids: Sequence[int], claims: Sequence[tuple[str, str]]
) -> tuple[tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]], set[tuple[str, str]]]:
    """Start the transaction, lock members, then read their lots, and find taken keys: one round trip.

    Returns the members' state rows and their spendable lots (`storage.Locked`; times in UTC) and the
    (scope, key) pairs of `claims` that are already stored.
    """
    driver = conn.connection.driver_connection
    assert driver is not None
    try:
        with driver.pipeline():
            params = {"member_ids": sorted(set(member_ids))}
            locked = driver.execute(MEMBER_LOCK_PG, params)
            lots = driver.execute(MEMBER_LOTS_PG, params)  # a later statement: a snapshot taken under the locks
            found = driver.execute(STORED, claims_param(claims))
            members, lot_rows = locked.fetchall(), lots.fetchall()
            taken = {(str(row[0]), str(row[1])) for row in found.fetchall()}
    except psycopg.Error as error:
        raise BatchAborted(str(error)) from error
    return ([in_utc(row) for row in members], [in_utc(row) for row in lot_rows]), taken


def write_and_commit(conn: Connection, writes: Writes) -> None:
    """Write the batch and commit: one round trip. Raises BatchAborted, with nothing written, if refused.

    The COMMIT goes through the driver so it can share the round trip; the SQLAlchemy transaction around
    it then finds the connection idle, and its own commit (or rollback, after a refusal) is a no-op.
    """
    driver = conn.connection.driver_connection
    assert driver is not None
    try:
        with driver.pipeline():
            driver.execute(*_write(writes))
            driver.commit()
    except psycopg.Error as error:
        raise BatchAborted(str(error)) from error


def write(conn: Connection, writes: Writes) -> None:
    """The same write inside a transaction the caller goes on with (through SQLAlchemy)."""
    conn.exec_driver_sql(*_write(writes))


def _write(writes: Writes) -> tuple[str, dict[str, Any]]:
    """Insert operations and transfers, apply lot deltas and member updates: the SQL and its parameters."""
    assert not writes.new_lots, "new lots need their ids back: written statement by statement"
    params: dict[str, Any] = {}
    if writes.operations:
        params["operations"] = _json(writes.operations)
    if writes.lot_deltas:
        params["lot_ids"] = [lot for lot, _ in writes.lot_deltas]
        params["lot_deltas"] = [delta for _, delta in writes.lot_deltas]
    if writes.transfers:
        params["transfers"] = _json(writes.transfers)
    for index, (columns, rows) in enumerate(writes.member_updates):
        params[f"m{index}_key"] = [row["member_key"] for row in rows]
        for name in columns:
            params[f"m{index}_{name}"] = [_aware(row[name]) for row in rows]
    groups = tuple(columns for columns, _ in writes.member_updates)
    return _statement(bool(writes.operations), bool(writes.lot_deltas), bool(writes.transfers), groups), params


def in_utc(row: Any) -> tuple[Any, ...]:
    """psycopg gives timestamps in the session's time zone; the ledger works in UTC."""
    return tuple(value.astimezone(UTC) if isinstance(value, datetime) else value for value in row)


def _json(rows: Sequence[dict[str, Any]]) -> str:
    return json.dumps(rows, default=_json_value, separators=(",", ":"))


def _aware(value: Any) -> Any:
    if isinstance(value, datetime) and value.tzinfo is None:
        raise ValueError("naive datetime given to the ledger; use an aware UTC datetime")
    return value


def _json_value(value: Any) -> str:
    """UUIDs and aware datetimes as text PostgreSQL parses back exactly; naive datetimes are refused."""
    if isinstance(value, datetime):
        return str(_aware(value).isoformat())
    if isinstance(value, uuid.UUID):
        return str(value)
    raise TypeError(f"cannot write {type(value).__name__} to the ledger")


def _rows(param: str, fields: Sequence[tuple[str, Column[Any]]]) -> str:
    """`json_to_recordset` of a parameter, typed like the columns it feeds."""
    definition = ", ".join(f"{_QUOTE(name)} {column.type.compile(dialect=_DIALECT)}" for name, column in fields)
    return f"json_to_recordset(%({param})s::json) AS row({definition})"


def _array(column: Column[Any]) -> str:
    return f"{column.type.compile(dialect=_DIALECT)}[]"


def _by_id(values: str, column: Column[Any], ids: str, table: str) -> str:
    """The element of array parameter `values` at the position of the row's id in array parameter `ids`.

    Updates select their rows with `id = ANY(ids)`, which is always an index lookup: joined with a set
    of rows, the planner (expecting 100 rows from it, with stale statistics) hashed the whole table.
    """
    return f"(%({values})s::{_array(column)})[array_position(%({ids})s::{_array(column.table.c.id)}, {table}.id)]"


def _names(columns: Sequence[str]) -> str:
    return ", ".join(_QUOTE(name) for name in columns)


def _insert(table: Table, param: str, columns: Sequence[str]) -> str:
    source = _rows(param, [(name, table.c[name]) for name in columns])
    return f"INSERT INTO {table.name} ({_names(columns)}) SELECT {_names(columns)} FROM {source}"


@cache
def _statement(operations: bool, lot_deltas: bool, transfers: bool, member_groups: tuple[tuple[str, ...], ...]) -> str:
    """The SQL for one shape of batch (which parts are present); cached, so psycopg can prepare it."""
    ctes: list[str] = []
    if operations:
        ctes.append(f"new_operations AS ({_insert(OPERATIONS, 'operations', OPERATION_COLUMNS)})")
    if lot_deltas:
        delta = _by_id("lot_deltas", LOTS.c.remaining, "lot_ids", "lots")
        ctes.append(
            f"lot_changes AS (UPDATE lots SET remaining = lots.remaining + {delta} "
            f"WHERE lots.id = ANY(%(lot_ids)s::{_array(LOTS.c.id)}))"
        )
    if transfers:
        ctes.append(f"new_transfers AS ({_insert(TRANSFERS, 'transfers', TRANSFER_COLUMNS)})")
    for index, columns in enumerate(member_groups):
        key = f"m{index}_key"
        sets = ", ".join(
            f"{_QUOTE(name)} = {_by_id(f'm{index}_{name}', MEMBERS.c[name], key, 'members')}" for name in columns
        )
        ctes.append(
            f"member_changes_{index} AS (UPDATE members SET {sets} "
            f"WHERE members.id = ANY(%({key})s::{_array(MEMBERS.c.id)}))"
        )
    return "WITH " + ", ".join(ctes) + " SELECT 1" if ctes else "SELECT 1"
