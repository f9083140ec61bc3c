"""The operator's economics over time: credits issued, spent and expired by source and month, liability,
queries, and the compute cost and revenue estimates of the policy.

Monthly totals come from the ledger's `flows_by_source`. Transfers are never changed or deleted, so totals
for a range of transfer ids never change either: this module keeps, per process, the totals of every
transfer older than `SETTLE` and only reads newer transfers on each page view. Transfers younger than
`SETTLE` are always read fresh, so a transaction that committed late with a smaller id (possible on
PostgreSQL, where ids are taken before commit) is still counted, as long as it committed within `SETTLE`.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, func, select

from datalever.economy import Policy, credits_to_cents
from datalever.ledger.models import TRANSFERS
from datalever.ledger.queries import FLOWS, SOURCES, flows_by_source, queries_by_month
from datalever.stipends.models import STIPEND_PAYMENTS

SETTLE = timedelta(minutes=5)


@dataclass
class _Totals:
    upto_id: int = 0
    flows: dict[tuple[str, str, str], int] = field(default_factory=dict)
    queries: dict[str, int] = field(default_factory=dict)


_cache: dict[str, _Totals] = {}
_lock = threading.Lock()


def _settled_id(conn: Connection, now: datetime, known: int) -> int:
    """The largest transfer id created before now - SETTLE, found by bisecting ids (transfer ids grow with
    time; the table has no index by time), starting from an id already known to be settled."""
    cutoff = now - SETTLE
    low, high = known, int(conn.execute(select(func.coalesce(func.max(TRANSFERS.c.id), 0))).scalar_one())
    first_at = select(TRANSFERS.c.created_at).order_by(TRANSFERS.c.id).limit(1)
    while low < high:  # invariant: ids <= low are settled; ids > high are not
        middle = (low + high + 1) // 2
        at = conn.execute(first_at.where(TRANSFERS.c.id >= middle)).scalar()
        if at is not None and at < cutoff:
            low = middle
        else:
            high = middle - 1
    return low


def monthly(
    engine: Engine, conn: Connection, system: dict[str, int], now: datetime
) -> tuple[dict[tuple[str, str, str], int], dict[str, int]]:
    """(month, flow, source) -> credits, and month -> queries, for the whole history."""
    key = str(engine.url)
    with _lock:
        cached = _cache.get(key)
        totals = _Totals(cached.upto_id, dict(cached.flows), dict(cached.queries)) if cached else _Totals()
    settled = _settled_id(conn, now, totals.upto_id)
    if settled > totals.upto_id:
        for month, flow, source, amount in flows_by_source(conn, system, after_id=totals.upto_id, upto_id=settled):
            totals.flows[(month, flow, source)] = totals.flows.get((month, flow, source), 0) + amount
        for month, count in queries_by_month(conn, system["spend"], totals.upto_id, settled).items():
            totals.queries[month] = totals.queries.get(month, 0) + count
        totals.upto_id = settled
    with _lock:
        current = _cache.get(key)
        if current is None or current.upto_id <= totals.upto_id:
            _cache[key] = totals
    flows = dict(totals.flows)
    for month, flow, source, amount in flows_by_source(conn, system, after_id=totals.upto_id):
        flows[(month, flow, source)] = flows.get((month, flow, source), 0) + amount
    queries = dict(totals.queries)
    for month, count in queries_by_month(conn, system["spend"], totals.upto_id).items():
        queries[month] = queries.get(month, 0) + count
    return flows, queries


def month_labels(first: str, last: str) -> list[str]:
    year, month = int(first[:4]), int(first[5:7])
    labels = []
    while f"{year:04d}-{month:02d}" <= last:
        labels.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return labels


def operator_view(
    engine: Engine, conn: Connection, policy: Policy, system: dict[str, int], now: datetime, months: int = 12
) -> dict[str, Any]:
    """Everything the operator page shows, for the last `months` months."""
    flows, queries = monthly(engine, conn, system, now)
    current = f"{now.year:04d}-{now.month:02d}"
    first_seen = min([m for m, _, _ in flows] + list(queries) + [current])
    last_months = month_labels(first_seen, current)[-months:]
    by_flow: dict[str, dict[str, list[int]]] = {
        flow: {source: [flows.get((m, flow, source), 0) for m in last_months] for source in SOURCES} for flow in FLOWS
    }
    totals = {
        flow: {source: sum(v for (m, f, s), v in flows.items() if f == flow and s == source) for source in SOURCES}
        for flow in FLOWS
    }
    # Liability at each month's end = credits issued so far - spent - expired, from the same totals.
    liability = []
    running = 0
    all_months = month_labels(first_seen, current)
    net_by_month = {m: 0 for m in all_months}
    for (m, flow, _source), amount in flows.items():
        if m in net_by_month:
            net_by_month[m] += amount if flow == "issued" else -amount
    for m in all_months:
        running += net_by_month[m]
        liability.append((m, running))
    # Credits held = issued - spent - expired (every movement is a balanced transfer), so the books give the
    # liability without summing every lot.
    outstanding = running
    query_series = [queries.get(m, 0) for m in last_months]
    cost_per_query_cents = (
        policy.credit.value_cents * policy.query.base_price
    )  # assumed: a query's price covers its cost
    return {
        "months": last_months,
        "by_flow": by_flow,
        "totals": totals,
        "liability_series": [(m, credits_to_cents(v, policy.credit)) for m, v in liability][-months:],
        "outstanding": outstanding,
        "liability_cents": int(credits_to_cents(outstanding, policy.credit)),
        "queries": query_series,
        "queries_total": sum(queries.values()),
        "spent_series": [sum(by_flow["spent"][s][i] for s in SOURCES) for i in range(len(last_months))],
        "cost_per_query_cents": cost_per_query_cents,
        "runs": _runs(conn, flows, last_months),
    }


def _runs(conn: Connection, flows: dict[tuple[str, str, str], int], months: list[str]) -> list[dict[str, Any]]:
    """Per month: allowance granted, stipends paid (payments and credits), from the books and the payments table."""
    paid: dict[str, tuple[int, int]] = {}
    for month, count, credits in conn.execute(
        select(STIPEND_PAYMENTS.c.month, func.count(), func.sum(STIPEND_PAYMENTS.c.amount)).group_by(
            STIPEND_PAYMENTS.c.month
        )
    ):
        paid[f"{month // 12:04d}-{month % 12 + 1:02d}"] = (int(count), int(credits))
    return [
        {
            "month": m,
            "allowance": flows.get((m, "issued", "allowance"), 0),
            "stipend_payments": paid.get(m, (0, 0))[0],
            "stipend_credits": paid.get(m, (0, 0))[1],
        }
        for m in reversed(months)
    ]
