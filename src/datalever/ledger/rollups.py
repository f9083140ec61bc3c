"""Monthly totals of the books (credits issued, spent, expired by source; queries charged), kept per process.

Transfers are never changed or deleted, so the totals of a range of transfer ids never change: `monthly` keeps
the totals of every transfer older than `SETTLE` and reads only newer transfers on each call. Transfers
younger than `SETTLE` are always read fresh, so a transaction that committed late with a smaller id (possible
on PostgreSQL, where ids are taken before commit) is still counted, as long as it committed within `SETTLE`.
"""

from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Connection, Engine, func, select

from datalever.ledger.models import TRANSFERS
from datalever.ledger.queries import flows_by_source, queries_by_month

SETTLE = timedelta(minutes=5)


@dataclass
class _Totals:
    upto_id: int = 0
    flows: dict[tuple[str, str, str], int] = field(default_factory=dict)
    queries: dict[str, int] = field(default_factory=dict)


_cache: weakref.WeakKeyDictionary[Engine, _Totals] = weakref.WeakKeyDictionary()  # per engine, so per database
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
    key = engine
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
