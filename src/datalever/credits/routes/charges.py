"""Charging a query (operator): the AI gateway calls this before answering."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from datalever import canonical
from datalever.ledger.charges import charge_query_async
from datalever.ledger.posting import Ledger
from datalever.web.auth import require_roles
from datalever.web.deps import IdempotencyKey, MemberPath, idempotency, respond
from datalever.web.keys import Principal, Role
from datalever.web.schemas import InsufficientOut

router = APIRouter(prefix="/v1/members", tags=["charges"])
CHARGE_ROLES = (Role.OPERATOR, Role.ADMIN)


class ChargeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    # pydantic's own (Rust) pattern check, not a Python validator: this model is parsed on the charge hot path.
    reference: str | None = Field(
        default=None,
        max_length=200,
        pattern=canonical.TEXT_PATTERN,
        description="The gateway's own id for the query (at most 200 characters, no NUL).",
    )


class ChargeOut(BaseModel):
    query_id: str = Field(description="Id of the charge; feedback refers to it.")
    member_id: int
    price: int
    position_in_session: int
    balance: int = Field(description="Spendable credits left after the charge.")
    reference: str | None
    charged_at: str


# The service answers well-formed charges before FastAPI routes them (credits/charge_fast_path.py);
# this route stays the reference: it defines and documents the API and answers every other request.
@router.post(
    "/{member_id}/charges",
    status_code=201,
    response_model=ChargeOut,
    responses={402: {"model": InsufficientOut, "description": "Not enough credits: nothing charged, use the fallback"}},
)
async def post_charge(
    member_id: MemberPath,
    request: Request,
    key: IdempotencyKey,
    body: ChargeIn | None = None,
    principal: Principal = Depends(require_roles(*CHARGE_ROLES)),
) -> JSONResponse:
    ledger: Ledger = request.app.state.ledger
    body = body or ChargeIn()
    idem = idempotency(principal, key, request, body)
    return respond(await charge_query_async(ledger, idem, member_id, request.app.state.batcher, body.reference))
