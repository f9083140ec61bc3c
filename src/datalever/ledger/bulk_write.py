"""PostgreSQL: everything a transaction planned, written by one statement of data-modifying CTEs.

The generic writer (`Plan.write` on SQLite, and on PostgreSQL when new lots need their ids back) sends
one statement per table and one bind per row. Under load that per-row traffic was most of the cost of a
charge batch, in the worker (driver and SQLAlchemy per row) and in PostgreSQL (one execute per row). Here
each table gets one CTE fed by `unnest` of column arrays, so a batch of N charges costs one round trip
whatever N is. All CTEs run to completion and their foreign keys are checked at the end of the statement,
so the rows may reference each other; the statement returns how many operations it inserted, which tells
the caller whether an idempotency key was already taken (then it rolls everything back). Transfers are
inserted only for the operations that were: the transfers of a skipped operation would reference a row
that does not exist and fail the whole statement on its foreign key instead of returning that count.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import Column, Connection, Table
from sqlalchemy.dialects import postgresql

from datalever.ledger.models import LOTS, MEMBERS, OPERATIONS, TRANSFERS

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


def write_all(
    conn: Connection,
    operations: Sequence[dict[str, Any]],
    lot_deltas: Sequence[tuple[int, int]],
    transfers: Sequence[dict[str, Any]],
    member_updates: Sequence[tuple[tuple[str, ...], Sequence[dict[str, Any]]]],
) -> int:
    """Insert operations (skipping taken keys) and transfers, apply lot deltas and member updates.

    `member_updates` groups rows by the member columns they set: ((column, ...), [{"member_key": id, ...}]).
    Returns the number of operations inserted.
    """
    params: dict[str, list[Any]] = {}
    if operations:
        params.update(_arrays("op", OPERATION_COLUMNS, operations))
    if lot_deltas:
        params["lot_id"] = [lot for lot, _ in lot_deltas]
        params["lot_delta"] = [delta for _, delta in lot_deltas]
    if transfers:
        params.update(_arrays("tr", TRANSFER_COLUMNS, transfers))
    for index, (columns, rows) in enumerate(member_updates):
        params[f"m{index}_key"] = [row["member_key"] for row in rows]
        params.update(_arrays(f"m{index}", columns, rows))
    shape = (bool(operations), bool(lot_deltas), bool(transfers), tuple(columns for columns, _ in member_updates))
    return int(conn.exec_driver_sql(_statement(*shape), params).scalar_one())


def _arrays(prefix: str, columns: Sequence[str], rows: Sequence[dict[str, Any]]) -> dict[str, list[Any]]:
    return {f"{prefix}_{name}": [_value(row[name]) for row in rows] for name in columns}


def _value(value: Any) -> Any:
    if isinstance(value, datetime) and value.tzinfo is None:
        raise ValueError("naive datetime given to the ledger; use an aware UTC datetime")
    return value


def _unnest(table: Table, prefix: str, columns: Sequence[str]) -> str:
    arrays = ", ".join(f"%({prefix}_{name})s::{_array_type(table.c[name])}" for name in columns)
    return f"unnest({arrays})"


def _array_type(column: Column[Any]) -> str:
    return f"{column.type.compile(dialect=_DIALECT)}[]"


def _names(columns: Sequence[str]) -> str:
    return ", ".join(_QUOTE(name) for name in columns)


@cache
def _statement(operations: bool, lot_deltas: bool, transfers: bool, member_groups: tuple[tuple[str, ...], ...]) -> str:
    """The SQL for one shape of batch (which parts are present); cached, so psycopg can prepare it."""
    ctes: list[str] = []
    if operations:
        ctes.append(
            f"new_operations AS (INSERT INTO operations ({_names(OPERATION_COLUMNS)}) "
            f"SELECT * FROM {_unnest(OPERATIONS, 'op', OPERATION_COLUMNS)} "
            "ON CONFLICT (scope, key) DO NOTHING RETURNING id)"
        )
    if lot_deltas:
        ctes.append(
            "lot_changes AS (UPDATE lots SET remaining = lots.remaining + change.delta "
            f"FROM unnest(%(lot_id)s::{_array_type(LOTS.c.id)}, %(lot_delta)s::{_array_type(LOTS.c.remaining)}) "
            "AS change(id, delta) WHERE lots.id = change.id)"
        )
    if transfers:
        kept = " WHERE planned.operation_id IN (SELECT id FROM new_operations)" if operations else ""
        ctes.append(
            f"new_transfers AS (INSERT INTO transfers ({_names(TRANSFER_COLUMNS)}) "
            f"SELECT * FROM {_unnest(TRANSFERS, 'tr', TRANSFER_COLUMNS)} AS planned({_names(TRANSFER_COLUMNS)})"
            f"{kept})"
        )
    for index, columns in enumerate(member_groups):
        prefix = f"m{index}"
        sets = ", ".join(f"{_QUOTE(name)} = change.{_QUOTE(name)}" for name in columns)
        source = (
            f"unnest(%({prefix}_key)s::{_array_type(MEMBERS.c.id)}, "
            + ", ".join(f"%({prefix}_{name})s::{_array_type(MEMBERS.c[name])}" for name in columns)
            + ")"
        )
        ctes.append(
            f"member_changes_{index} AS (UPDATE members SET {sets} FROM {source} "
            f"AS change(member_key, {_names(columns)}) WHERE members.id = change.member_key)"
        )
    count = "(SELECT count(*) FROM new_operations)" if operations else "0"
    if not ctes:
        return f"SELECT {count}"
    return "WITH " + ", ".join(ctes) + f" SELECT {count}"
