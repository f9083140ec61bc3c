"""The operator summary: credits issued, spent, expired, outstanding liability in cents, queries charged."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from datalever.canonical import Month
from datalever.ledger.db import READONLY
from datalever.ledger.errors import BadRequest
from datalever.ledger.posting import Ledger
from datalever.ledger.queries import FLOWS, SOURCES, summary
from datalever.ledger.rollups import monthly
from datalever.web.auth import require_roles
from datalever.web.deps import get_ledger
from datalever.web.keys import Principal, Role

router = APIRouter(prefix="/v1", tags=["reports"])


class FeedbackCounts(BaseModel):
    pending: int
    accepted: int
    rejected: int


class SummaryOut(BaseModel):
    members: int
    credits_issued: int
    credits_spent: int
    credits_expired: int
    credits_outstanding: int
    liability_cents: int
    queries_charged: int
    feedback: FeedbackCounts
    credit_value_cents: int
    period: dict[str, str | None] = Field(
        description="The months `credits_issued`, `credits_spent`, `credits_expired` and `by_source` cover "
        "(null: open-ended). Outstanding credits and liability are always as of now."
    )
    by_source: dict[str, dict[str, int]] = Field(
        description="Credits issued, spent and expired in the period, by the source of the lot they created or "
        f"drew on ({', '.join(SOURCES)}); each flow's sources add up to its total."
    )


MonthQuery = Annotated[Month | None, Query(description="A month, YYYY-MM (ASCII digits).")]
SUMMARY_PARAMS = frozenset({"from", "to"})


@router.get("/summary", response_model=SummaryOut)
def get_summary(
    request: Request,
    from_: Annotated[MonthQuery, Query(alias="from", description="First month included, YYYY-MM.")] = None,
    to: Annotated[MonthQuery, Query(description="Last month included, YYYY-MM.")] = None,
    _principal: Principal = Depends(require_roles(Role.ADMIN, Role.OPERATOR)),
    ledger: Ledger = Depends(get_ledger),
) -> dict[str, Any]:
    """The economics: totals (optionally for the months `from`..`to`), split by source, and the liability now."""
    unknown = sorted(set(request.query_params) - SUMMARY_PARAMS)
    if unknown:
        raise BadRequest(f"unknown query parameter {unknown[0]!r}: /v1/summary takes from=YYYY-MM and to=YYYY-MM")
    if from_ is not None and to is not None and from_ > to:
        raise BadRequest(f"from={from_} is after to={to}")
    system = ledger.system_accounts()
    with ledger.engine.connect().execution_options(**READONLY) as conn:
        body = summary(conn, ledger.policy, system)
        flows, _queries = monthly(ledger.engine, conn, system, ledger.clock())
    by_source: dict[str, dict[str, int]] = {flow: dict.fromkeys(SOURCES, 0) for flow in FLOWS}
    for (month, flow, source), amount in flows.items():
        if (from_ is None or month >= from_) and (to is None or month <= to):
            by_source[flow][source] += amount
    body["by_source"] = by_source
    body["period"] = {"from": from_, "to": to}
    if from_ is not None or to is not None:
        body["credits_issued"] = sum(by_source["issued"].values())
        body["credits_spent"] = sum(by_source["spent"].values())
        body["credits_expired"] = sum(by_source["expired"].values())
    return body


@router.get("/policy", tags=["reports"])
def get_policy(
    _principal: Principal = Depends(require_roles(Role.ADMIN, Role.OPERATOR, Role.MEMBER, Role.PLATFORM)),
    ledger: Ledger = Depends(get_ledger),
) -> dict[str, Any]:
    """The credit policy in force (prices, allowance, rewards), so every client can explain a charge."""
    return ledger.policy.model_dump(mode="json")
