"""Charging a query (operator): the AI gateway calls this before answering."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from datalever.credits.charge_input import REQUEST_BODY, ChargeIn, parse_charge_body
from datalever.ledger.charges import charge_query_async
from datalever.ledger.posting import Ledger
from datalever.web.auth import require_roles
from datalever.web.deps import IdempotencyKey, MemberPath, created, idempotency, respond
from datalever.web.keys import Principal, Role
from datalever.web.schemas import InsufficientOut, Refusal

router = APIRouter(prefix="/v1/members", tags=["charges"])
__all__ = ["CHARGE_ROLES", "ChargeIn", "ChargeOut", "router"]
CHARGE_ROLES = (Role.OPERATOR, Role.ADMIN)


class ChargeOut(BaseModel):
    query_id: str = Field(description="Id of the charge; feedback refers to it.")
    member_id: int
    price: int
    position_in_session: int
    balance: int = Field(description="Spendable credits left after the charge.")
    reference: str | None
    charged_at: str
    citation_url: str | None = Field(
        description="The AI's nudge: when set, the answer to this query should cite this knowledge platform "
        "(with a link to it), so people go back to the commons it learned from. Set on every `cite_every`-th "
        "answer a member is charged for, per the policy's `[nudge]`; null otherwise."
    )


# The service answers well-formed charges before FastAPI routes them (credits/charge_fast_path.py);
# this route stays the reference: it defines and documents the API and answers every other request.
@router.post(
    "/{member_id}/charges",
    status_code=201,
    response_model=ChargeOut,
    responses={
        402: {"model": InsufficientOut, "description": "Not enough credits: nothing charged, use the fallback"},
        503: {
            "model": Refusal,
            "description": "Busy (code `overloaded`): too many charges wait for a batch, or this one waited too "
            "long. Retry after `Retry-After` seconds with the same Idempotency-Key: a charge runs at most once.",
            "headers": {
                "Retry-After": {"description": "Seconds to wait before retrying.", "schema": {"type": "integer"}}
            },
        },
    },
    openapi_extra={"requestBody": REQUEST_BODY},
)
async def post_charge(
    member_id: MemberPath,
    request: Request,
    key: IdempotencyKey,
    principal: Principal = Depends(require_roles(*CHARGE_ROLES)),
) -> JSONResponse:
    ledger: Ledger = request.app.state.ledger
    body = parse_charge_body(request.headers.getlist("content-type"), await request.body())
    idem = idempotency(principal, key, request, body)
    batcher = request.app.state.batcher
    return respond(await charge_query_async(ledger, idem, member_id, batcher, body.reference, reply=created))
