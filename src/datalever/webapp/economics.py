"""The operator's economics over time: credits issued, spent and expired by source and month, liability,
queries, and the compute cost and revenue estimates of the policy.

Monthly totals come from the ledger's per-process rollups (`datalever.ledger.rollups`): the first view after
a start reads every transfer once, later views only the newest.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, func, select

from datalever.economy import Policy, credits_to_cents
from datalever.ledger.queries import FLOWS, SOURCES
from datalever.ledger.rollups import monthly
from datalever.stipends.models import STIPEND_PAYMENTS


def _scenario_default(name: str) -> float:
    from datalever.sim.scenario import AISection

    value = AISection.model_fields[name].default
    assert isinstance(value, float)
    return value


# The simulator's sourced defaults (see its scenario): compute cost per query from SemiAnalysis's 2023 estimate
# for ChatGPT (~0.36 cents), revenue per free-tier query an assumption (0.2 cents). The operator can override
# both on the page.
DEFAULT_COST_CENTS = _scenario_default("compute_cost_cents_per_query")
DEFAULT_REVENUE_CENTS = _scenario_default("revenue_cents_per_query")


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
