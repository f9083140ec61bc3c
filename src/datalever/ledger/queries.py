"""Reads: a member's balance by lot, their history with where each credit came from, and the operator summary."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, String, and_, case, func, or_, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import aliased
from sqlalchemy.sql.functions import FunctionElement

from datalever.economy import Policy, credits_to_cents
from datalever.ledger.errors import UnknownMember
from datalever.ledger.models import ACCOUNTS, FEEDBACK, LOTS, MEMBERS, OPERATIONS, TRANSFERS
from datalever.ledger.posting import spend_order_key


def member_account(conn: Connection, member_id: int) -> int:
    account = conn.execute(select(MEMBERS.c.account_id).where(MEMBERS.c.id == member_id)).scalar()
    if account is None:
        raise UnknownMember(member_id)
    return int(account)


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def member_balance(conn: Connection, member_id: int, now: datetime) -> dict[str, Any]:
    """Spendable balance, credits awaiting the expiry run, and the open lots in the order they will be spent."""
    account = member_account(conn, member_id)
    rows = conn.execute(
        select(LOTS.c.id, LOTS.c.source, LOTS.c.amount, LOTS.c.remaining, LOTS.c.granted_at, LOTS.c.expires_at).where(
            LOTS.c.account_id == account, LOTS.c.remaining > 0
        )
    ).all()
    rows = sorted(rows, key=lambda row: spend_order_key(row.id, row.expires_at))
    spendable = [row for row in rows if row.expires_at is None or row.expires_at > now]
    return {
        "member_id": member_id,
        "balance": sum(row.remaining for row in spendable),
        "expired_pending": sum(row.remaining for row in rows if row not in spendable),
        "lots": [
            {
                "lot_id": row.id,
                "source": row.source,
                "granted": row.amount,
                "remaining": row.remaining,
                "granted_at": _iso(row.granted_at),
                "expires_at": _iso(row.expires_at),
            }
            for row in spendable
        ],
    }


def member_history(conn: Connection, member_id: int, limit: int = 100, before: int | None = None) -> dict[str, Any]:
    """Transfers in and out of the member's account, newest first, each with the lot it created or drew on."""
    account = member_account(conn, member_id)
    lot = aliased(LOTS)
    other = aliased(ACCOUNTS)
    # Every transfer in or out of a bounded account names one of its lots (indexed); see migration 0002.
    lots_of_member = select(LOTS.c.id).where(LOTS.c.account_id == account).scalar_subquery()
    condition = or_(TRANSFERS.c.credit_lot_id.in_(lots_of_member), TRANSFERS.c.debit_lot_id.in_(lots_of_member))
    if before is not None:
        condition = and_(condition, TRANSFERS.c.id < before)
    rows = conn.execute(
        select(
            TRANSFERS.c.id,
            TRANSFERS.c.operation_id,
            TRANSFERS.c.created_at,
            TRANSFERS.c.kind,
            TRANSFERS.c.amount,
            TRANSFERS.c.debit_account_id,
            TRANSFERS.c.credit_account_id,
            TRANSFERS.c.debit_lot_id,
            TRANSFERS.c.credit_lot_id,
            TRANSFERS.c.reverses_id,
        )
        .where(condition)
        .order_by(TRANSFERS.c.id.desc())
        .limit(limit)
    ).all()
    lot_ids = {row.credit_lot_id if row.credit_account_id == account else row.debit_lot_id for row in rows} - {None}
    counterparty_ids = {
        row.debit_account_id if row.credit_account_id == account else row.credit_account_id for row in rows
    }
    lots = {r.id: r for r in conn.execute(select(lot).where(lot.c.id.in_(lot_ids)))} if lot_ids else {}
    codes = dict(conn.execute(select(other.c.id, other.c.code).where(other.c.id.in_(counterparty_ids))).all())
    entries = []
    for row in rows:
        into = row.credit_account_id == account
        lot_row = lots.get(row.credit_lot_id if into else row.debit_lot_id)
        entries.append(
            {
                "transfer_id": row.id,
                "operation_id": str(row.operation_id),
                "at": _iso(row.created_at),
                "kind": row.kind,
                "amount": row.amount if into else -row.amount,
                "counterparty": codes[row.debit_account_id if into else row.credit_account_id],
                "reverses": row.reverses_id,
                "lot": None
                if lot_row is None
                else {
                    "lot_id": lot_row.id,
                    "source": lot_row.source,
                    "granted_at": _iso(lot_row.granted_at),
                    "expires_at": _iso(lot_row.expires_at),
                },
            }
        )
    return {"member_id": member_id, "entries": entries, "next_before": rows[-1].id if len(rows) == limit else None}


def net_flows(conn: Connection) -> dict[int, int]:
    """Net credits received by every account (credits in minus credits out), from the transfers alone."""
    flows: dict[int, int] = {}
    for account, total in conn.execute(
        select(TRANSFERS.c.credit_account_id, func.sum(TRANSFERS.c.amount)).group_by(TRANSFERS.c.credit_account_id)
    ):
        flows[account] = flows.get(account, 0) + int(total)
    for account, total in conn.execute(
        select(TRANSFERS.c.debit_account_id, func.sum(TRANSFERS.c.amount)).group_by(TRANSFERS.c.debit_account_id)
    ):
        flows[account] = flows.get(account, 0) - int(total)
    return flows


def summary(conn: Connection, policy: Policy, system: dict[str, int]) -> dict[str, Any]:
    """The operator's view of the economics: issued, spent, expired, outstanding liability, queries charged."""
    flows = net_flows(conn)
    issued = -flows.get(system["issuance"], 0)
    spent = flows.get(system["spend"], 0)
    expired = flows.get(system["expiry"], 0)
    outstanding = int(conn.execute(select(func.coalesce(func.sum(LOTS.c.remaining), 0))).scalar_one())
    queries = int(
        conn.execute(select(func.count()).select_from(OPERATIONS).where(OPERATIONS.c.kind == "query")).scalar_one()
    )
    members = int(conn.execute(select(func.count()).select_from(MEMBERS)).scalar_one())
    feedback: dict[str, int] = dict(
        conn.execute(select(FEEDBACK.c.status, func.count()).group_by(FEEDBACK.c.status)).all()
    )
    return {
        "members": members,
        "credits_issued": issued,
        "credits_spent": spent,
        "credits_expired": expired,
        "credits_outstanding": outstanding,
        "liability_cents": int(credits_to_cents(outstanding, policy.credit)),
        "queries_charged": queries,
        "feedback": {status: int(feedback.get(status, 0)) for status in ("pending", "accepted", "rejected")},
        "credit_value_cents": policy.credit.value_cents,
    }


class utc_month(FunctionElement[str]):
    """The UTC calendar month of a timestamp as 'YYYY-MM' (compiled per database, below)."""

    type = String()
    inherit_cache = True


@compiles(utc_month, "sqlite")
def _utc_month_sqlite(element: utc_month, compiler: Any, **kw: Any) -> str:
    return f"strftime('%Y-%m', {compiler.process(element.clauses, **kw)})"  # stored as naive UTC text


@compiles(utc_month, "postgresql")
def _utc_month_postgresql(element: utc_month, compiler: Any, **kw: Any) -> str:
    return f"to_char({compiler.process(element.clauses, **kw)} AT TIME ZONE 'UTC', 'YYYY-MM')"


FLOWS = ("issued", "spent", "expired")
SOURCES = ("allowance", "feedback", "stipend", "grant", "pool", "other")


def source_bucket(lot_source: str | None, kind: str) -> str:
    """The source credits count under, from the lot they created or drew on.

    The ledger's own jobs label their lots 'allowance', 'feedback', 'stipend' (or 'stipend:<platform>') and
    'pool:<name>'; the only free-form label is the one an admin gives a grant ('welcome', 'promotion'), so any
    other lot label is a grant. Without a lot (an unbounded account on both sides) the transfer's kind decides.
    """
    label = (lot_source or "").split(":", 1)[0].lower()
    if label.startswith("pool"):
        return "pool"
    if label in SOURCES:
        return label
    if lot_source:
        return "grant"
    kind_label = kind.split(":", 1)[0].lower()
    return kind_label if kind_label in SOURCES else "other"


def flows_by_source(
    conn: Connection,
    system: dict[str, int],
    start: datetime | None = None,
    end: datetime | None = None,
    after_id: int = 0,
    upto_id: int | None = None,
) -> list[tuple[str, str, str, int]]:
    """Net credits issued, spent and expired per (month, flow, source), from the transfers alone.

    Issued credits count under the source of the lot they created; spent and expired credits under the
    source of the lot they were drawn from. A reversal counts negatively in the flow it reverses, so the
    totals equal `summary`'s. `after_id`/`upto_id` restrict to a range of transfer ids (transfers are never
    changed, so a reader can add new ranges to totals it already has).
    """
    credit_lot = aliased(LOTS)
    debit_lot = aliased(LOTS)
    sinks = (system["issuance"], system["spend"], system["expiry"])
    month = utc_month(TRANSFERS.c.created_at)
    # (flow, sign) per direction, and the lot whose source counts: credits leaving the issuance source are
    # issued, credits entering a sink spent or expired; the opposite direction reverses that flow. Grouping by
    # this code (not by account) keeps the groups few whatever the number of members.
    directions = [
        (TRANSFERS.c.debit_account_id == system["issuance"], "issued", 1, credit_lot.c.source),
        (TRANSFERS.c.credit_account_id == system["issuance"], "issued", -1, debit_lot.c.source),
        (TRANSFERS.c.credit_account_id == system["spend"], "spent", 1, debit_lot.c.source),
        (TRANSFERS.c.debit_account_id == system["spend"], "spent", -1, credit_lot.c.source),
        (TRANSFERS.c.credit_account_id == system["expiry"], "expired", 1, debit_lot.c.source),
        (TRANSFERS.c.debit_account_id == system["expiry"], "expired", -1, credit_lot.c.source),
    ]
    code = case(*((condition, index) for index, (condition, *_rest) in enumerate(directions)), else_=-1)
    source = case(*((condition, lot_source) for condition, _flow, _sign, lot_source in directions))
    query = (
        select(
            month.label("month"),
            code.label("code"),
            TRANSFERS.c.kind,
            source.label("source"),
            func.sum(TRANSFERS.c.amount),
        )
        .select_from(
            TRANSFERS.outerjoin(credit_lot, credit_lot.c.id == TRANSFERS.c.credit_lot_id).outerjoin(
                debit_lot, debit_lot.c.id == TRANSFERS.c.debit_lot_id
            )
        )
        .where(
            or_(TRANSFERS.c.debit_account_id.in_(sinks), TRANSFERS.c.credit_account_id.in_(sinks)),
            TRANSFERS.c.id > after_id,
        )
        .group_by(month, code, TRANSFERS.c.kind, source)
    )
    if upto_id is not None:
        query = query.where(TRANSFERS.c.id <= upto_id)
    if start is not None:
        query = query.where(TRANSFERS.c.created_at >= start)
    if end is not None:
        query = query.where(TRANSFERS.c.created_at < end)
    totals: dict[tuple[str, str, str], int] = {}
    for row_month, row_code, kind, lot_source, amount in conn.execute(query):
        assert 0 <= row_code < len(directions), "every selected transfer touches a system account"
        _condition, flow, sign, _lot = directions[row_code]
        key = (str(row_month), flow, source_bucket(lot_source, kind))
        totals[key] = totals.get(key, 0) + sign * int(amount)
    return sorted((month, flow, source, amount) for (month, flow, source), amount in totals.items())


def queries_by_month(
    conn: Connection, spend_account: int, after_id: int = 0, upto_id: int | None = None
) -> dict[str, int]:
    """Charged queries per UTC month: charge operations with a transfer to the spend sink, in a transfer-id range
    (the operations table has no index by time; transfers are found by id)."""
    month = utc_month(TRANSFERS.c.created_at)
    query = (
        select(month, func.count(TRANSFERS.c.operation_id.distinct()))
        .where(TRANSFERS.c.credit_account_id == spend_account, TRANSFERS.c.kind == "query", TRANSFERS.c.id > after_id)
        .group_by(month)
    )
    if upto_id is not None:
        query = query.where(TRANSFERS.c.id <= upto_id)
    return {str(m): int(n) for m, n in conn.execute(query)}
