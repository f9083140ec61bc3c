"""Storage of the pools part: SQL over one open connection, no credits (those move only in `operations`)."""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Connection, Row, Table, and_, delete, func, insert, select, update

from datalever.flows.models import FlowCoalition, FlowCoalitionMember, FlowPreferences
from datalever.ledger.models import TRANSFERS
from datalever.pools.models import CommunityNode, PoolFunding, Proposal, ProposalOption, ValuationRun, Vote
from datalever.stipends.models import PLATFORM_LINKS

COALITIONS = cast(Table, FlowCoalition.__table__)
COALITION_MEMBERS = cast(Table, FlowCoalitionMember.__table__)
PREFERENCES = cast(Table, FlowPreferences.__table__)
NODES = cast(Table, CommunityNode.__table__)
VALUATIONS = cast(Table, ValuationRun.__table__)
FUNDINGS = cast(Table, PoolFunding.__table__)
PROPOSALS = cast(Table, Proposal.__table__)
OPTIONS = cast(Table, ProposalOption.__table__)
VOTES = cast(Table, Vote.__table__)


# ---- communities ---------------------------------------------------------------------------------
def community(conn: Connection, coalition: str) -> Row[Any] | None:
    return conn.execute(select(COALITIONS).where(COALITIONS.c.id == coalition)).first()


def community_nodes(conn: Connection, coalition: str) -> tuple[str, ...]:
    rows = conn.execute(select(NODES.c.node_id).where(NODES.c.coalition_id == coalition).order_by(NODES.c.node_id))
    return tuple(r.node_id for r in rows)


def communities_with_nodes(conn: Connection) -> dict[str, tuple[str, ...]]:
    found: dict[str, list[str]] = defaultdict(list)
    for row in conn.execute(select(NODES.c.coalition_id, NODES.c.node_id).order_by(NODES.c.node_id)):
        found[row.coalition_id].append(row.node_id)
    return {k: tuple(v) for k, v in found.items()}


def set_community(
    conn: Connection, coalition: str, nodes: list[str], platform: str | None, site: str | None, now: datetime
) -> None:
    conn.execute(update(COALITIONS).where(COALITIONS.c.id == coalition).values(link_platform=platform, link_site=site))
    conn.execute(delete(NODES).where(NODES.c.coalition_id == coalition))
    if nodes:
        conn.execute(insert(NODES), [{"coalition_id": coalition, "node_id": n, "added_at": now} for n in nodes])


def set_pool_account(conn: Connection, coalition: str, account_id: int) -> None:
    conn.execute(update(COALITIONS).where(COALITIONS.c.id == coalition).values(pool_account_id=account_id))


def member_count(conn: Connection, coalition: str) -> int:
    return int(
        conn.execute(
            select(func.count()).select_from(COALITION_MEMBERS).where(COALITION_MEMBERS.c.coalition_id == coalition)
        ).scalar_one()
    )


def membership(conn: Connection, coalition: str, member_id: int) -> Row[Any] | None:
    where = and_(COALITION_MEMBERS.c.coalition_id == coalition, COALITION_MEMBERS.c.member_id == member_id)
    return conn.execute(select(COALITION_MEMBERS).where(where)).first()


def add_member(conn: Connection, coalition: str, member_id: int, via: str, now: datetime) -> None:
    conn.execute(
        insert(COALITION_MEMBERS).values(coalition_id=coalition, member_id=member_id, joined_via=via, joined_at=now)
    )


def set_member_change_cost(conn: Connection, coalition: str, member_id: int, cost: int) -> None:
    where = and_(COALITION_MEMBERS.c.coalition_id == coalition, COALITION_MEMBERS.c.member_id == member_id)
    conn.execute(update(COALITION_MEMBERS).where(where).values(change_cost=cost))


def confirmed_link(conn: Connection, member_id: int, platform: str, site: str | None) -> int | None:
    query = select(PLATFORM_LINKS.c.id).where(
        PLATFORM_LINKS.c.member_id == member_id,
        PLATFORM_LINKS.c.platform == platform,
        PLATFORM_LINKS.c.status == "confirmed",
    )
    if site is not None:
        query = query.where(PLATFORM_LINKS.c.site == site)
    row = conn.execute(query.order_by(PLATFORM_LINKS.c.id)).first()
    return None if row is None else int(row.id)


# ---- valuations and funding ----------------------------------------------------------------------
def insert_valuation(
    conn: Connection, month: str, inputs: dict[str, Any], result: dict[str, Any], by: str | None, now: datetime
) -> int:
    return int(
        conn.execute(
            insert(VALUATIONS)
            .values(
                month=month,
                method=inputs["method"],
                model=inputs["model"],
                fit=inputs["fit"],
                range_point=inputs["range_point"],
                catalog_version=inputs["catalog_version"],
                inputs=inputs,
                result=result,
                created_at=now,
                created_by=by,
            )
            .returning(VALUATIONS.c.id)
        ).scalar_one()
    )


def valuation(conn: Connection, run_id: int) -> Row[Any] | None:
    return conn.execute(select(VALUATIONS).where(VALUATIONS.c.id == run_id)).first()


def latest_valuation(conn: Connection, month: str) -> Row[Any] | None:
    return conn.execute(
        select(VALUATIONS).where(VALUATIONS.c.month == month).order_by(VALUATIONS.c.id.desc()).limit(1)
    ).first()


def valuations(conn: Connection, month: str | None = None) -> list[Row[Any]]:
    query = select(VALUATIONS).order_by(VALUATIONS.c.id)
    if month is not None:
        query = query.where(VALUATIONS.c.month == month)
    return list(conn.execute(query))


def insert_fundings(conn: Connection, rows: list[dict[str, Any]]) -> None:
    if rows:
        conn.execute(insert(FUNDINGS), rows)


def fundings(conn: Connection, month: str | None = None, coalition: str | None = None) -> list[Row[Any]]:
    query = select(FUNDINGS).order_by(FUNDINGS.c.month, FUNDINGS.c.coalition_id)
    if month is not None:
        query = query.where(FUNDINGS.c.month == month)
    if coalition is not None:
        query = query.where(FUNDINGS.c.coalition_id == coalition)
    return list(conn.execute(query))


def credits_spent_on_queries(conn: Connection, spend_account: int, start: datetime, end: datetime) -> int:
    """Credits members spent on queries in [start, end), from the transfers into the spend sink."""
    total = conn.execute(
        select(func.coalesce(func.sum(TRANSFERS.c.amount), 0)).where(
            TRANSFERS.c.credit_account_id == spend_account,
            TRANSFERS.c.kind == "query",
            TRANSFERS.c.created_at >= start,
            TRANSFERS.c.created_at < end,
        )
    ).scalar_one()
    return int(total)


# ---- preferences (the flows part's versioned table, with a reason) ------------------------------
def add_preferences_version(
    conn: Connection, coalition: str, document: dict[str, Any], by: str | None, reason: str, now: datetime
) -> int:
    latest = conn.execute(
        select(func.max(PREFERENCES.c.version)).where(PREFERENCES.c.coalition_id == coalition)
    ).scalar()
    version = int(latest or 0) + 1
    conn.execute(
        insert(PREFERENCES).values(
            coalition_id=coalition, version=version, document=document, created_at=now, created_by=by, reason=reason
        )
    )
    return version


def latest_preferences(conn: Connection, coalition: str) -> Row[Any] | None:
    return conn.execute(
        select(PREFERENCES)
        .where(PREFERENCES.c.coalition_id == coalition)
        .order_by(PREFERENCES.c.version.desc())
        .limit(1)
    ).first()


# ---- proposals and votes ---------------------------------------------------------------------------
def insert_proposal(conn: Connection, values: dict[str, Any], options: list[dict[str, Any]]) -> int:
    proposal_id = int(conn.execute(insert(PROPOSALS).values(**values).returning(PROPOSALS.c.id)).scalar_one())
    conn.execute(insert(OPTIONS), [{"proposal_id": proposal_id, **o} for o in options])
    return proposal_id


def proposal(conn: Connection, proposal_id: int, *, lock: str | None = None) -> Row[Any] | None:
    """A proposal row; `lock="share"` keeps it from closing under a vote, `"update"` for the tally."""
    query = select(PROPOSALS).where(PROPOSALS.c.id == proposal_id)
    if lock == "share":
        query = query.with_for_update(read=True)
    elif lock == "update":
        query = query.with_for_update()
    return conn.execute(query).first()


def proposals(conn: Connection, coalition: str) -> list[Row[Any]]:
    return list(conn.execute(select(PROPOSALS).where(PROPOSALS.c.coalition_id == coalition).order_by(PROPOSALS.c.id)))


def options(conn: Connection, proposal_id: int) -> list[Row[Any]]:
    return list(conn.execute(select(OPTIONS).where(OPTIONS.c.proposal_id == proposal_id).order_by(OPTIONS.c.option_id)))


def held_votes(conn: Connection, proposal_id: int, member_id: int, option_id: int) -> int:
    total = conn.execute(
        select(func.coalesce(func.sum(VOTES.c.votes), 0)).where(
            VOTES.c.proposal_id == proposal_id, VOTES.c.member_id == member_id, VOTES.c.option_id == option_id
        )
    ).scalar_one()
    return int(total)


def insert_vote(conn: Connection, values: dict[str, Any]) -> None:
    conn.execute(insert(VOTES).values(**values))


def ballots(conn: Connection, proposal_id: int) -> dict[int, dict[int, tuple[int, int]]]:
    """member -> option -> (votes, credits) of a proposal (for the tally; never published per member)."""
    result: dict[int, dict[int, tuple[int, int]]] = defaultdict(dict)
    rows = conn.execute(
        select(VOTES.c.member_id, VOTES.c.option_id, func.sum(VOTES.c.votes), func.sum(VOTES.c.credits))
        .where(VOTES.c.proposal_id == proposal_id)
        .group_by(VOTES.c.member_id, VOTES.c.option_id)
    )
    for member_id, option_id, votes, credits in rows:
        result[int(member_id)][int(option_id)] = (int(votes), int(credits))
    return dict(result)


def member_votes(conn: Connection, proposal_id: int, member_id: int) -> list[Row[Any]]:
    return list(
        conn.execute(
            select(VOTES.c.option_id, VOTES.c.votes, VOTES.c.credits, VOTES.c.created_at)
            .where(VOTES.c.proposal_id == proposal_id, VOTES.c.member_id == member_id)
            .order_by(VOTES.c.id)
        )
    )


def close_proposal(
    conn: Connection, proposal_id: int, status: str, tally: dict[str, Any], now: datetime, operation_id: uuid.UUID
) -> None:
    conn.execute(
        update(PROPOSALS)
        .where(PROPOSALS.c.id == proposal_id)
        .values(status=status, tally=tally, tallied_at=now, operation_id=operation_id)
    )
