"""The monthly allowance run (admin): idempotent per member and month."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from datalever import canonical
from datalever.ledger.allowance import run_allowance_once
from datalever.ledger.posting import Ledger
from datalever.web.auth import require_roles
from datalever.web.deps import IdempotencyKey, done, get_ledger, idempotency, respond
from datalever.web.keys import Principal, Role

router = APIRouter(prefix="/v1/allowance", tags=["allowance"])


class AllowanceRunIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    month: canonical.Month = Field(description="YYYY-MM in ASCII digits; the month's allowance is granted once.")


class AllowanceRunOut(BaseModel):
    month: str
    members_granted: int
    credits_granted: int
    already_granted: int = Field(description="Members who had already received this month's allowance.")
    not_due: int = Field(default=0, description="Members due nothing for the month (they joined after it).")
    expires_at: str | None


@router.post("/runs", response_model=AllowanceRunOut)
def post_allowance_run(
    body: AllowanceRunIn,
    request: Request,
    key: IdempotencyKey,
    principal: Principal = Depends(require_roles(Role.ADMIN)),
    ledger: Ledger = Depends(get_ledger),
) -> JSONResponse:
    return respond(run_allowance_once(ledger, idempotency(principal, key, request, body), body.month, reply=done))
