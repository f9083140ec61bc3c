"""What each page shows, read from the database: plain data for the templates (no HTTP here).

Every function takes an open read-only connection; pages compose them.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, func, or_, select

from datalever.economy import Policy
from datalever.economy.grants import month_index
from datalever.economy.stipends import Rule, stipend_due
from datalever.flows.catalog import FlowCatalog, NodeKind
from datalever.flows.models import FlowAlignmentScore, FlowCoalition, FlowCoalitionMember
from datalever.flows.store import get_preferences
from datalever.flows.trace import trace
from datalever.flows.whatif import WhatIfError, what_if
from datalever.ledger.models import ACCOUNTS, FEEDBACK, LOTS, MEMBERS, TRANSFERS, table_of
from datalever.ledger.queries import member_account, member_balance
from datalever.stipends.contributions import stored_records
from datalever.stipends.models import PLATFORM_LINKS, STIPEND_PAYMENTS
from datalever.stipends.tally import ActivityTally

COALITIONS = table_of(FlowCoalition)
COALITION_MEMBERS = table_of(FlowCoalitionMember)
SCORES = table_of(FlowAlignmentScore)
HISTORY_PAGE = 50
CSV_LIMIT = 100_000


def balance(conn: Connection, member_id: int, now: datetime, soon_days: int = 14) -> dict[str, Any]:
    """Balance by lot, with what expires within `soon_days` called out."""
    body = member_balance(conn, member_id, now)
    horizon = now + timedelta(days=soon_days)
    for lot in body["lots"]:
        expires = datetime.fromisoformat(lot["expires_at"]) if lot["expires_at"] else None
        lot["expires"] = expires
        lot["soon"] = expires is not None and expires <= horizon
    body["expiring_soon"] = sum(lot["remaining"] for lot in body["lots"] if lot["soon"])
    return body


@dataclass(frozen=True)
class HistoryFilter:
    """Filters of the history page; every field optional. Dates are UTC days, `to` included."""

    kind: str | None = None
    direction: str | None = None  # "in" | "out"
    start: date | None = None
    end: date | None = None
    before: int | None = None


def history(
    conn: Connection, member_id: int, filters: HistoryFilter, limit: int = HISTORY_PAGE
) -> list[dict[str, Any]]:
    """The member's transfers, newest first, filtered; each with the lot it created or drew on."""
    account = member_account(conn, member_id)
    lot_ids = select(LOTS.c.id).where(LOTS.c.account_id == account).scalar_subquery()
    into = TRANSFERS.c.credit_account_id == account
    conditions = [or_(TRANSFERS.c.credit_lot_id.in_(lot_ids), TRANSFERS.c.debit_lot_id.in_(lot_ids))]
    if filters.kind:
        conditions.append(TRANSFERS.c.kind == filters.kind)
    if filters.direction == "in":
        conditions.append(into)
    elif filters.direction == "out":
        conditions.append(TRANSFERS.c.debit_account_id == account)
    if filters.start:
        conditions.append(TRANSFERS.c.created_at >= datetime.combine(filters.start, datetime.min.time(), UTC))
    if filters.end:
        after_end = datetime.combine(filters.end + timedelta(days=1), datetime.min.time(), UTC)
        conditions.append(TRANSFERS.c.created_at < after_end)
    if filters.before:
        conditions.append(TRANSFERS.c.id < filters.before)
    rows = conn.execute(
        select(
            TRANSFERS.c.id,
            TRANSFERS.c.created_at,
            TRANSFERS.c.kind,
            TRANSFERS.c.amount,
            TRANSFERS.c.debit_account_id,
            TRANSFERS.c.credit_account_id,
            TRANSFERS.c.debit_lot_id,
            TRANSFERS.c.credit_lot_id,
        )
        .where(and_(*conditions))
        .order_by(TRANSFERS.c.id.desc())
        .limit(limit)
    ).all()
    lot_ids_seen = {row.credit_lot_id if row.credit_account_id == account else row.debit_lot_id for row in rows}
    lots = (
        {
            r.id: r
            for r in conn.execute(
                select(LOTS.c.id, LOTS.c.source, LOTS.c.expires_at).where(LOTS.c.id.in_(lot_ids_seen))
            )
        }
        if lot_ids_seen
        else {}
    )
    others = {row.debit_account_id if row.credit_account_id == account else row.credit_account_id for row in rows}
    codes = (
        dict(conn.execute(select(ACCOUNTS.c.id, ACCOUNTS.c.code).where(ACCOUNTS.c.id.in_(others))).all())
        if others
        else {}
    )
    entries = []
    for row in rows:
        incoming = row.credit_account_id == account
        lot = lots.get(row.credit_lot_id if incoming else row.debit_lot_id)
        entries.append(
            {
                "id": row.id,
                "at": row.created_at,
                "kind": row.kind,
                "amount": row.amount if incoming else -row.amount,
                "counterparty": codes.get(row.debit_account_id if incoming else row.credit_account_id, "?"),
                "source": lot.source if lot is not None else None,
                "lot_expires": lot.expires_at if lot is not None else None,
            }
        )
    return entries


def history_kinds(conn: Connection, member_id: int) -> list[str]:
    account = member_account(conn, member_id)
    lot_ids = select(LOTS.c.id).where(LOTS.c.account_id == account).scalar_subquery()
    return sorted(
        conn.execute(
            select(TRANSFERS.c.kind)
            .where(or_(TRANSFERS.c.credit_lot_id.in_(lot_ids), TRANSFERS.c.debit_lot_id.in_(lot_ids)))
            .distinct()
        ).scalars()
    )


def history_csv(conn: Connection, member_id: int, filters: HistoryFilter) -> Iterator[str]:
    """The filtered history as CSV lines (header first), in pages so memory stays flat."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["transfer_id", "at", "kind", "amount", "counterparty", "source", "lot_expires_at"])
    yield buffer.getvalue()
    before, written = filters.before, 0
    while written < CSV_LIMIT:
        page = history(
            conn, member_id, HistoryFilter(filters.kind, filters.direction, filters.start, filters.end, before), 1000
        )
        if not page:
            return
        buffer.seek(0)
        buffer.truncate()
        for entry in page:
            # A leading =, +, - or @ would make a spreadsheet evaluate the cell; kinds and sources are ours, but
            # quote defensively anyway.
            cells = [
                entry["id"],
                entry["at"].isoformat(),
                entry["kind"],
                entry["amount"],
                entry["counterparty"],
                entry["source"] or "",
                entry["lot_expires"].isoformat() if entry["lot_expires"] else "",
            ]
            writer.writerow([_safe_cell(cell) for cell in cells])
        yield buffer.getvalue()
        written += len(page)
        before = page[-1]["id"]


def _safe_cell(value: object) -> object:
    if isinstance(value, str) and value[:1] in ("=", "+", "@", "\t", "\r"):
        return "'" + value
    return value


def member_profile(conn: Connection, member_id: int) -> dict[str, Any]:
    row = conn.execute(
        select(MEMBERS.c.id, MEMBERS.c.external_ref, MEMBERS.c.reputation, MEMBERS.c.joined_at).where(
            MEMBERS.c.id == member_id
        )
    ).one()
    counts: dict[str, int] = dict(
        conn.execute(
            select(FEEDBACK.c.status, func.count()).where(FEEDBACK.c.member_id == member_id).group_by(FEEDBACK.c.status)
        ).all()
    )
    earned = conn.execute(
        select(func.coalesce(func.sum(FEEDBACK.c.reward), 0)).where(
            FEEDBACK.c.member_id == member_id, FEEDBACK.c.status == "accepted"
        )
    ).scalar_one()
    recent = conn.execute(
        select(FEEDBACK.c.id, FEEDBACK.c.text, FEEDBACK.c.status, FEEDBACK.c.reward, FEEDBACK.c.created_at)
        .where(FEEDBACK.c.member_id == member_id)
        .order_by(FEEDBACK.c.id.desc())
        .limit(10)
    ).all()
    return {
        "id": row.id,
        "external_ref": row.external_ref,
        "reputation": row.reputation,
        "joined_at": row.joined_at,
        "feedback": {status: int(counts.get(status, 0)) for status in ("pending", "accepted", "rejected")},
        "feedback_credits": int(earned),
        "recent_feedback": recent,
    }


def links(conn: Connection, member_id: int) -> list[Any]:
    return list(
        conn.execute(
            select(PLATFORM_LINKS).where(PLATFORM_LINKS.c.member_id == member_id).order_by(PLATFORM_LINKS.c.id.desc())
        ).all()
    )


NEEDS: dict[str, list[tuple[str, str, str]]] = {
    # platform -> [(counter, criteria field, what it means)]; any one met qualifies the account
    "stackexchange": [
        ("scored_posts", "min_scored_posts", "posts scored up"),
        ("accepted_answers", "min_accepted_answers", "answers accepted by someone else"),
    ],
    "github": [
        ("merged_pull_requests", "min_merged_pull_requests", "pull requests merged by someone else"),
        ("reviews", "min_reviews", "reviews of others' pull requests"),
    ],
    "wikipedia": [("counted_edits", "min_edits", "unreverted article edits")],
}


def stipend_progress(conn: Connection, member_id: int, policy: Policy, now: datetime) -> dict[str, Any]:
    """This month so far, per confirmed link: each rule's count against its threshold, and what is due."""
    month = month_index(now)
    confirmed = [link for link in links(conn, member_id) if link.status == "confirmed"]
    owner = {(link.platform, link.site, link.account_id): member_id for link in confirmed}
    tally = ActivityTally(policy.stipend.criteria).add_all(stored_records(conn, month, owner)) if owner else None
    judged = {(a.platform.value, a.site, a.user_id): a for a in (tally.results() if tally else [])}
    accounts = []
    for link in confirmed:
        result = judged.get((link.platform, link.site, link.account_id))
        counts = result.counts if result else {}
        criteria = getattr(policy.stipend.criteria, link.platform)
        rules = []
        for counter, field, what in NEEDS.get(link.platform, []):
            count, needed = int(counts.get(counter, 0)), int(getattr(criteria, field))
            rules.append({"what": what, "count": count, "needed": needed, "missing": max(0, needed - count)})
        qualified = result is not None and result.rule is not Rule.NONE
        accounts.append({"link": link, "rules": rules, "qualified": qualified})
    qualifying = sum(1 for a in accounts if a["qualified"])
    paid = conn.execute(
        select(STIPEND_PAYMENTS.c.month, STIPEND_PAYMENTS.c.amount)
        .where(STIPEND_PAYMENTS.c.member_id == member_id)
        .order_by(STIPEND_PAYMENTS.c.month.desc())
        .limit(6)
    ).all()
    return {
        "month": f"{now.year:04d}-{now.month:02d}",
        "accounts": accounts,
        "due_so_far": int(stipend_due(qualifying, policy.stipend)),
        "per_month": policy.stipend.credits_per_month,
        "pending_links": sum(1 for link in links(conn, member_id) if link.status == "requested"),
        "paid": [(f"{m // 12:04d}-{m % 12 + 1:02d}", amount) for m, amount in paid],
    }


def communities_of(conn: Connection, member_id: int) -> list[Any]:
    return list(
        conn.execute(
            select(COALITIONS.c.id, COALITIONS.c.name, COALITIONS.c.change_cost)
            .join(COALITION_MEMBERS, COALITION_MEMBERS.c.coalition_id == COALITIONS.c.id)
            .where(COALITION_MEMBERS.c.member_id == member_id)
            .order_by(COALITIONS.c.id)
        ).all()
    )


def community(conn: Connection, community_id: str) -> Any | None:
    row = conn.execute(select(COALITIONS).where(COALITIONS.c.id == community_id)).first()
    if row is None:
        return None
    members = conn.execute(
        select(func.count()).select_from(COALITION_MEMBERS).where(COALITION_MEMBERS.c.coalition_id == community_id)
    ).scalar_one()
    return {"id": row.id, "name": row.name or row.id, "change_cost": row.change_cost, "members": int(members)}


_pictures: dict[tuple[int, str], tuple[FlowCatalog, dict[str, Any] | None]] = {}  # holds the catalog: ids stay unique


def flow_picture(catalog: FlowCatalog, node: str, limit: int = 6) -> dict[str, Any] | None:
    """Where a catalog node's data goes (models with share ranges) and what withholding it would change.

    The catalog is read-only after it is built, so each node's picture is computed once per catalog."""
    if node not in catalog.nodes:
        return None
    key = (id(catalog), node)
    if key not in _pictures:
        _pictures[key] = (catalog, _flow_picture(catalog, node, limit))
    return _pictures[key][1]


def _flow_picture(catalog: FlowCatalog, node: str, limit: int) -> dict[str, Any] | None:
    result = trace(catalog, node)
    models = sorted(result.models, key=lambda m: -m.high)[:limit]
    whatif = None
    if models:
        try:
            whatif = what_if(catalog, node, models[0].model)
        except (WhatIfError, KeyError):
            whatif = None
    return {"node": node, "name": catalog.nodes[node].name, "models": models, "whatif": whatif}


def preferences(conn: Connection, community_id: str) -> dict[str, Any] | None:
    found = get_preferences(conn, community_id)
    if found is None:
        return None
    version, prefs = found
    return {"version": version, "document": prefs.model_dump(mode="json")}


def alignment_series(conn: Connection, community_id: str) -> dict[str, list[tuple[str, float]]]:
    """Stored monthly alignment scores of a community, one series per AI system."""
    series: dict[str, list[tuple[str, float]]] = {}
    for row in conn.execute(
        select(SCORES.c.system, SCORES.c.month, SCORES.c.score)
        .where(SCORES.c.coalition_id == community_id)
        .order_by(SCORES.c.month)
    ):
        series.setdefault(row.system, []).append((row.month, float(row.score)))
    return series


def catalog_node(catalog: FlowCatalog, node_id: str) -> dict[str, Any] | None:
    spec = catalog.nodes.get(node_id)
    if spec is None:
        return None
    feeds = sorted(catalog.graph.successors(node_id))
    fed_by = sorted(catalog.graph.predecessors(node_id))
    picture = flow_picture(catalog, node_id) if spec.kind is not NodeKind.MODEL else None
    return {"spec": spec, "feeds": feeds, "fed_by": fed_by, "picture": picture, "citation": catalog.citation(spec.cite)}
