"""Storage of coalitions, data-use preferences, flow-report views, what-ifs and monthly alignment scores.

Tables are in `datalever.flows.models` (migration `flows_0001`). Preferences are versioned: a PUT
adds a version, nothing is overwritten. Alignment inputs read from these tables are the same
`AlignmentInputs` model as the file format, so files and the database are scored by the same code.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import Connection, Table, delete, func, insert, select, update

from datalever.economy.alignment import AlignmentPolicy
from datalever.flows.alignment import (
    AlignmentInputs,
    AlignmentReport,
    AlignmentScore,
    CoalitionInput,
    Concentration,
    MemberInput,
    WhatIfInput,
)
from datalever.flows.models import (
    FlowAlignmentConcentration,
    FlowAlignmentScore,
    FlowCoalition,
    FlowCoalitionMember,
    FlowPreferences,
    FlowReportView,
    FlowWhatIf,
)
from datalever.flows.prefs import Preferences
from datalever.ledger.models import Member

COALITIONS = cast(Table, FlowCoalition.__table__)
COALITION_MEMBERS = cast(Table, FlowCoalitionMember.__table__)
PREFERENCES = cast(Table, FlowPreferences.__table__)
REPORT_VIEWS = cast(Table, FlowReportView.__table__)
WHATIFS = cast(Table, FlowWhatIf.__table__)
SCORES = cast(Table, FlowAlignmentScore.__table__)
CONCENTRATION = cast(Table, FlowAlignmentConcentration.__table__)
MEMBERS = cast(Table, Member.__table__)


class StoreError(LookupError):
    """A referenced coalition or member does not exist (the service answers 404)."""


def coalition_exists(conn: Connection, coalition: str) -> bool:
    return conn.execute(select(COALITIONS.c.id).where(COALITIONS.c.id == coalition)).first() is not None


def require_coalition(conn: Connection, coalition: str) -> None:
    if not coalition_exists(conn, coalition):
        raise StoreError(f"coalition '{coalition}' does not exist")


def put_coalition(conn: Connection, coalition: str, name: str | None, change_cost: int, now: datetime) -> bool:
    """Create or update a coalition; True if it was created."""
    if coalition_exists(conn, coalition):
        conn.execute(update(COALITIONS).where(COALITIONS.c.id == coalition).values(name=name, change_cost=change_cost))
        return False
    conn.execute(insert(COALITIONS).values(id=coalition, name=name, change_cost=change_cost, created_at=now))
    return True


def put_member(conn: Connection, coalition: str, member_id: int, change_cost: int | None, now: datetime) -> bool:
    """Add a ledger member to a coalition (or update their own change cost); True if added."""
    require_coalition(conn, coalition)
    if conn.execute(select(MEMBERS.c.id).where(MEMBERS.c.id == member_id)).first() is None:
        raise StoreError(f"member {member_id} does not exist")
    where = (COALITION_MEMBERS.c.coalition_id == coalition) & (COALITION_MEMBERS.c.member_id == member_id)
    if conn.execute(select(COALITION_MEMBERS.c.member_id).where(where)).first() is not None:
        conn.execute(update(COALITION_MEMBERS).where(where).values(change_cost=change_cost))
        return False
    conn.execute(
        insert(COALITION_MEMBERS).values(
            coalition_id=coalition, member_id=member_id, change_cost=change_cost, joined_at=now
        )
    )
    return True


def is_member(conn: Connection, coalition: str, member_id: int) -> bool:
    where = (COALITION_MEMBERS.c.coalition_id == coalition) & (COALITION_MEMBERS.c.member_id == member_id)
    return conn.execute(select(COALITION_MEMBERS.c.member_id).where(where)).first() is not None


def put_preferences(conn: Connection, prefs: Preferences, by: str | None, now: datetime) -> int:
    """Store a new version of the coalition's preferences; returns the version number."""
    require_coalition(conn, prefs.coalition)
    latest = conn.execute(
        select(func.max(PREFERENCES.c.version)).where(PREFERENCES.c.coalition_id == prefs.coalition)
    ).scalar()
    version = int(latest or 0) + 1
    conn.execute(
        insert(PREFERENCES).values(
            coalition_id=prefs.coalition,
            version=version,
            document=prefs.model_dump(mode="json"),
            created_at=now,
            created_by=by,
        )
    )
    return version


def get_preferences(conn: Connection, coalition: str) -> tuple[int, Preferences] | None:
    """The latest version of a coalition's preferences, or None."""
    row = conn.execute(
        select(PREFERENCES.c.version, PREFERENCES.c.document)
        .where(PREFERENCES.c.coalition_id == coalition)
        .order_by(PREFERENCES.c.version.desc())
        .limit(1)
    ).first()
    if row is None:
        return None
    return int(row.version), Preferences.model_validate(row.document)


def record_view(conn: Connection, coalition: str, member_id: int, now: datetime) -> None:
    conn.execute(insert(REPORT_VIEWS).values(member_id=member_id, coalition_id=coalition, viewed_at=now))


def store_whatif(
    conn: Connection, coalition: str, system: str, withheld: str, result: dict[str, Any], now: datetime
) -> int:
    require_coalition(conn, coalition)
    inserted = conn.execute(
        insert(WHATIFS)
        .values(coalition_id=coalition, system=system, withheld=withheld, result=result, created_at=now)
        .returning(WHATIFS.c.id)
    ).scalar_one()
    return int(inserted)


def alignment_inputs(conn: Connection) -> AlignmentInputs:
    """Everything stored, as the same inputs model the file format uses."""
    coalitions = [
        CoalitionInput(id=row.id, name=row.name, change_cost=row.change_cost)
        for row in conn.execute(select(COALITIONS).order_by(COALITIONS.c.id))
    ]
    views: dict[tuple[str, int], list[date]] = defaultdict(list)
    for row in conn.execute(select(REPORT_VIEWS.c.coalition_id, REPORT_VIEWS.c.member_id, REPORT_VIEWS.c.viewed_at)):
        views[(row.coalition_id, row.member_id)].append(row.viewed_at.date())
    members = [
        MemberInput(
            id=str(row.member_id),
            coalition=row.coalition_id,
            joined=row.joined_at.date(),
            change_cost=row.change_cost,
            report_views=sorted(views[(row.coalition_id, row.member_id)]),
        )
        for row in conn.execute(
            select(COALITION_MEMBERS).order_by(COALITION_MEMBERS.c.coalition_id, COALITION_MEMBERS.c.member_id)
        )
    ]
    whatifs = [
        WhatIfInput(coalition=row.coalition_id, system=row.system, created=row.created_at.date())
        for row in conn.execute(select(WHATIFS.c.coalition_id, WHATIFS.c.system, WHATIFS.c.created_at))
    ]
    if not coalitions:
        return AlignmentInputs.model_construct(coalitions=[], members=[], whatifs=[])
    return AlignmentInputs(coalitions=coalitions, members=members, whatifs=whatifs)


def store_report(conn: Connection, report: AlignmentReport, policy: AlignmentPolicy, now: datetime) -> None:
    """Replace the stored scores of the report's system for the report's months (a recomputation)."""
    for month in report.months:
        conn.execute(delete(SCORES).where(SCORES.c.system == report.system, SCORES.c.month == month))
        conn.execute(
            delete(CONCENTRATION).where(CONCENTRATION.c.system == report.system, CONCENTRATION.c.month == month)
        )
    if report.scores:
        conn.execute(
            insert(SCORES),
            [
                {
                    "month": s.month,
                    "coalition_id": s.coalition,
                    "system": s.system,
                    "members": s.members,
                    "aware": s.aware,
                    "can_reason": s.can_reason,
                    "agency": s.agency,
                    "aligned": s.aligned,
                    "score": s.score,
                    "computed_at": now,
                }
                for s in report.scores
            ],
        )
    if report.concentration:
        conn.execute(
            insert(CONCENTRATION),
            [
                {
                    "month": c.month,
                    "system": c.system,
                    "gini": c.gini,
                    "hhi": c.hhi,
                    "thresholds": policy.model_dump(mode="json"),
                    "computed_at": now,
                }
                for c in report.concentration
            ],
        )


def stored_report(conn: Connection, system: str, months: list[str] | None = None) -> AlignmentReport:
    """The stored monthly scores of a system (all months, or the given ones), oldest first."""
    query = select(SCORES).where(SCORES.c.system == system)
    conc_query = select(CONCENTRATION).where(CONCENTRATION.c.system == system)
    if months is not None:
        query = query.where(SCORES.c.month.in_(months))
        conc_query = conc_query.where(CONCENTRATION.c.month.in_(months))
    scores = tuple(
        AlignmentScore(
            month=r.month,
            coalition=r.coalition_id,
            system=r.system,
            members=r.members,
            aware=r.aware,
            can_reason=r.can_reason,
            agency=r.agency,
            aligned=r.aligned,
            score=r.score,
        )
        for r in conn.execute(query.order_by(SCORES.c.month, SCORES.c.coalition_id))
    )
    conc = tuple(
        Concentration(month=r.month, system=r.system, gini=r.gini, hhi=r.hhi)
        for r in conn.execute(conc_query.order_by(CONCENTRATION.c.month))
    )
    return AlignmentReport(system, tuple(c.month for c in conc), scores, conc)
