"""Corrections (admin): reverse an operation with new, opposite transfers."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict

from datalever.ledger.corrections import reverse_operation
from datalever.ledger.posting import Ledger
from datalever.web.auth import require_roles
from datalever.web.deps import IdempotencyKey, created, get_ledger, idempotency, respond
from datalever.web.keys import Principal, Role

router = APIRouter(prefix="/v1/operations", tags=["corrections"])


class ReversalIn(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ReversalOut(BaseModel):
    operation_id: str
    reverses: str
    transfers: int
    credits: int


@router.post("/{operation_id}/reversal", status_code=201, response_model=ReversalOut)
def post_reversal(
    operation_id: uuid.UUID,
    request: Request,
    key: IdempotencyKey,
    body: ReversalIn | None = None,
    principal: Principal = Depends(require_roles(Role.ADMIN)),
    ledger: Ledger = Depends(get_ledger),
) -> JSONResponse:
    idem = idempotency(principal, key, request, body or ReversalIn())
    return respond(reverse_operation(ledger, idem, operation_id, reply=created))
