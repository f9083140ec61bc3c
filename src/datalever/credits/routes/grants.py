"""Admin grants: issue credits to a member from the issuance source (corrections, promotions)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from datalever import canonical
from datalever.economy import Expiry
from datalever.ledger.grants import grant_credits
from datalever.ledger.posting import Ledger
from datalever.web.auth import require_roles
from datalever.web.deps import IdempotencyKey, MemberPath, created, get_ledger, idempotency, respond
from datalever.web.keys import Principal, Role

router = APIRouter(prefix="/v1/members", tags=["grants"])


class GrantIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    amount: canonical.int_type("amount", 1, 10**12, text=False) = Field(  # type: ignore[valid-type]
        description="Whole credits, 1 to 10^12."
    )
    source: str = Field(default="grant", pattern=r"^[a-z0-9][a-z0-9_.:-]{0,39}$", description="Label of the lot.")
    expires: Expiry = Expiry.NEVER


class GrantOut(BaseModel):
    operation_id: str
    member_id: int
    amount: int
    source: str
    expires_at: str | None
    balance: int


@router.post("/{member_id}/grants", status_code=201, response_model=GrantOut)
def post_grant(
    member_id: MemberPath,
    body: GrantIn,
    request: Request,
    key: IdempotencyKey,
    principal: Principal = Depends(require_roles(Role.ADMIN)),
    ledger: Ledger = Depends(get_ledger),
) -> JSONResponse:
    idem = idempotency(principal, key, request, body)
    return respond(grant_credits(ledger, idem, member_id, body.amount, body.source, body.expires, reply=created))
