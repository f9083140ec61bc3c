"""Members: create (admin), read (admin, operator, the member itself), balance and history."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from datalever import canonical
from datalever.ledger.db import READONLY
from datalever.ledger.errors import UnknownMember
from datalever.ledger.members import create_member, member_body
from datalever.ledger.models import MEMBERS
from datalever.ledger.posting import Ledger
from datalever.ledger.queries import member_balance, member_history
from datalever.web.auth import check_member_access, require_roles
from datalever.web.deps import IdempotencyKey, MemberPath, created, get_ledger, idempotency, respond
from datalever.web.keys import Principal, Role

router = APIRouter(prefix="/v1/members", tags=["members"])


class MemberIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    external_ref: canonical.ref_type(200, "external_ref") | None = Field(  # type: ignore[valid-type]
        default=None, description="Your own id for them: no control characters or surrounding space (stored in NFC)."
    )


class MemberOut(BaseModel):
    id: int
    external_ref: str | None
    reputation: float
    joined_at: str


class LotOut(BaseModel):
    lot_id: int
    source: str
    granted: int
    remaining: int
    granted_at: str
    expires_at: str | None


class BalanceOut(BaseModel):
    member_id: int
    balance: int = Field(description="Spendable credits now.")
    expired_pending: int = Field(description="Credits past their expiry, removed by the next expiry run.")
    lots: list[LotOut] = Field(description="Open lots in spend order: soonest expiry first, never-expiring last.")


class EntryLot(BaseModel):
    lot_id: int
    source: str
    granted_at: str
    expires_at: str | None


class EntryOut(BaseModel):
    transfer_id: int
    operation_id: str
    at: str
    kind: str
    amount: int = Field(description="Positive: credits in; negative: credits out.")
    counterparty: str
    reverses: int | None
    lot: EntryLot | None = Field(description="The lot created (credits in) or drawn on (credits out).")


class HistoryOut(BaseModel):
    member_id: int
    entries: list[EntryOut]
    next_before: int | None


@router.post("", status_code=201, response_model=MemberOut, responses={409: {"description": "external_ref taken"}})
def post_member(
    request: Request,
    key: IdempotencyKey,
    body: MemberIn | None = None,
    principal: Principal = Depends(require_roles(Role.ADMIN)),
    ledger: Ledger = Depends(get_ledger),
) -> JSONResponse:
    body = body or MemberIn()
    return respond(create_member(ledger, idempotency(principal, key, request, body), body.external_ref, reply=created))


@router.get("/{member_id}", response_model=MemberOut)
def get_member(
    member_id: MemberPath,
    principal: Principal = Depends(require_roles(Role.ADMIN, Role.OPERATOR, Role.MEMBER)),
    ledger: Ledger = Depends(get_ledger),
) -> dict[str, Any]:
    check_member_access(principal, member_id)
    with ledger.engine.connect().execution_options(**READONLY) as conn:
        row = conn.execute(
            MEMBERS.select()
            .with_only_columns(MEMBERS.c.id, MEMBERS.c.external_ref, MEMBERS.c.reputation, MEMBERS.c.joined_at)
            .where(MEMBERS.c.id == member_id)
        ).first()
    if row is None:
        raise UnknownMember(member_id)
    return member_body(row.id, row.external_ref, row.reputation, row.joined_at)


@router.get("/{member_id}/balance", response_model=BalanceOut)
def get_balance(
    member_id: MemberPath,
    principal: Principal = Depends(require_roles(Role.ADMIN, Role.OPERATOR, Role.MEMBER)),
    ledger: Ledger = Depends(get_ledger),
) -> dict[str, Any]:
    check_member_access(principal, member_id)
    with ledger.engine.connect().execution_options(**READONLY) as conn:
        return member_balance(conn, member_id, ledger.clock())


@router.get("/{member_id}/history", response_model=HistoryOut)
def get_history(
    member_id: MemberPath,
    limit: Annotated[canonical.LimitParam, Query()] = 100,
    before: Annotated[
        canonical.BigIdParam | None, Query(description="Only transfers with a smaller id (paging).")
    ] = None,
    principal: Principal = Depends(require_roles(Role.ADMIN, Role.OPERATOR, Role.MEMBER)),
    ledger: Ledger = Depends(get_ledger),
) -> dict[str, Any]:
    check_member_access(principal, member_id)
    with ledger.engine.connect().execution_options(**READONLY) as conn:
        return member_history(conn, member_id, limit, before)
