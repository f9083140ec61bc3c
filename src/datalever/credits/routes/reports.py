"""The operator summary: credits issued, spent, expired, outstanding liability in cents, queries charged."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel

from datalever.ledger.db import READONLY
from datalever.ledger.posting import Ledger
from datalever.ledger.queries import summary
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


@router.get("/summary", response_model=SummaryOut)
def get_summary(
    _principal: Principal = Depends(require_roles(Role.ADMIN, Role.OPERATOR)), ledger: Ledger = Depends(get_ledger)
) -> dict[str, Any]:
    system = ledger.system_accounts()
    with ledger.engine.connect().execution_options(**READONLY) as conn:
        return summary(conn, ledger.policy, system)


@router.get("/policy", tags=["reports"])
def get_policy(
    _principal: Principal = Depends(require_roles(Role.ADMIN, Role.OPERATOR, Role.MEMBER, Role.PLATFORM)),
    ledger: Ledger = Depends(get_ledger),
) -> dict[str, Any]:
    """The credit policy in force (prices, allowance, rewards), so every client can explain a charge."""
    return ledger.policy.model_dump(mode="json")
