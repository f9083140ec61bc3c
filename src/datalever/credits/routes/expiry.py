"""The expiry run (admin): moves what is left of expired lots to the expiry sink."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict

from datalever.ledger.expiry import run_expiry_once
from datalever.ledger.posting import Ledger
from datalever.web.auth import require_roles
from datalever.web.deps import IdempotencyKey, done, get_ledger, idempotency, respond
from datalever.web.keys import Principal, Role

router = APIRouter(prefix="/v1/expiry", tags=["expiry"])


class ExpiryRunIn(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ExpiryRunOut(BaseModel):
    accounts: int
    lots: int
    credits: int


@router.post("/runs", response_model=ExpiryRunOut)
def post_expiry_run(
    request: Request,
    key: IdempotencyKey,
    body: ExpiryRunIn | None = None,
    principal: Principal = Depends(require_roles(Role.ADMIN)),
    ledger: Ledger = Depends(get_ledger),
) -> JSONResponse:
    return respond(run_expiry_once(ledger, idempotency(principal, key, request, body or ExpiryRunIn()), reply=done))
