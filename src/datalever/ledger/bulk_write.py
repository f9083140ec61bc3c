"""PostgreSQL: everything a transaction planned, written by one statement of data-modifying CTEs.

The generic writer (`_Txn.flush` on SQLite, and on PostgreSQL when new lots need their ids back) sends
one statement per table and one bind per row. Under load that per-row traffic was most of the cost of a
charge batch, in the worker (driver and SQLAlchemy per row) and in PostgreSQL (one execute per row). Here
each table gets one CTE fed by one JSON parameter read with `json_to_recordset` (encoding it is one call
into the C JSON encoder; column arrays cost the driver a regex per text element), so a batch of N charges
costs one round trip whatever N is. All CTEs run to completion and their foreign keys are checked at
the end of the statement, so the rows may reference each other. The statement returns how many
operations it inserted, which tells the caller whether an idempotency key was already taken (then it
rolls everything back). Transfers are inserted only for the operations that were: those of a skipped
operation would reference a missing row and fail the whole statement on a foreign key instead.
"""

from __future__ import annotations

import json
import uuid
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
    params: dict[str, str] = {}
    if operations:
        params["operations"] = _json(operations)
    if lot_deltas:
        params["lot_deltas"] = _json([{"id": lot, "delta": delta} for lot, delta in lot_deltas])
    if transfers:
        params["transfers"] = _json(transfers)
    for index, (_columns, rows) in enumerate(member_updates):
        params[f"members_{index}"] = _json(rows)
    shape = (bool(operations), bool(lot_deltas), bool(transfers), tuple(columns for columns, _ in member_updates))
    return int(conn.exec_driver_sql(_statement(*shape), params).scalar_one())


def _json(rows: Sequence[dict[str, Any]]) -> str:
    return json.dumps(rows, default=_json_value, separators=(",", ":"))


def _json_value(value: Any) -> str:
    """UUIDs and aware datetimes as text PostgreSQL parses back exactly; naive datetimes are refused."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the ledger; use an aware UTC datetime")
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    raise TypeError(f"cannot write {type(value).__name__} to the ledger")


def _rows(param: str, fields: Sequence[tuple[str, Column[Any]]]) -> str:
    """`json_to_recordset` of a parameter, typed like the columns it feeds."""
    definition = ", ".join(f"{_QUOTE(name)} {column.type.compile(dialect=_DIALECT)}" for name, column in fields)
    return f"json_to_recordset(%({param})s::json) AS row({definition})"


def _names(columns: Sequence[str]) -> str:
    return ", ".join(_QUOTE(name) for name in columns)


def _insert(table: Table, param: str, columns: Sequence[str], where: str = "") -> str:
    source = _rows(param, [(name, table.c[name]) for name in columns])
    return f"INSERT INTO {table.name} ({_names(columns)}) SELECT {_names(columns)} FROM {source}{where}"


@cache
def _statement(operations: bool, lot_deltas: bool, transfers: bool, member_groups: tuple[tuple[str, ...], ...]) -> str:
    """The SQL for one shape of batch (which parts are present); cached, so psycopg can prepare it."""
    ctes: list[str] = []
    if operations:
        ctes.append(
            f"new_operations AS ({_insert(OPERATIONS, 'operations', OPERATION_COLUMNS)} "
            "ON CONFLICT (scope, key) DO NOTHING RETURNING id)"
        )
    if lot_deltas:
        source = _rows("lot_deltas", [("id", LOTS.c.id), ("delta", LOTS.c.remaining)])
        ctes.append(
            f"lot_changes AS (UPDATE lots SET remaining = lots.remaining + row.delta FROM {source} "
            "WHERE lots.id = row.id)"
        )
    if transfers:
        kept = " WHERE row.operation_id IN (SELECT id FROM new_operations)" if operations else ""
        ctes.append(f"new_transfers AS ({_insert(TRANSFERS, 'transfers', TRANSFER_COLUMNS, kept)})")
    for index, columns in enumerate(member_groups):
        sets = ", ".join(f"{_QUOTE(name)} = row.{_QUOTE(name)}" for name in columns)
        source = _rows(
            f"members_{index}", [("member_key", MEMBERS.c.id), *((name, MEMBERS.c[name]) for name in columns)]
        )
        ctes.append(
            f"member_changes_{index} AS (UPDATE members SET {sets} FROM {source} WHERE members.id = row.member_key)"
        )
    count = "(SELECT count(*) FROM new_operations)" if operations else "0"
    if not ctes:
        return f"SELECT {count}"
    return "WITH " + ", ".join(ctes) + f" SELECT {count}"
