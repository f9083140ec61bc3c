"""Feedback (the member, on their own charged queries) and moderation verdicts (admin, operator)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, StrictBool

from datalever import canonical
from datalever.ledger.feedback import record_verdict, submit_feedback
from datalever.ledger.posting import Ledger
from datalever.web.auth import check_member_access, require_roles
from datalever.web.deps import IdempotencyKey, MemberPath, created, done, get_ledger, idempotency, respond
from datalever.web.keys import Principal, Role

router = APIRouter(prefix="/v1", tags=["feedback"])


class FeedbackIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    query_id: uuid.UUID = Field(description="The `query_id` a charge returned.")
    text: canonical.text_type(4000, "text") = Field(  # type: ignore[valid-type]
        description="At most 4,000 characters, no NUL."
    )


class FeedbackOut(BaseModel):
    id: int
    member_id: int
    query_id: str
    status: str
    reward: int | None
    created_at: str


class VerdictIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    accepted: StrictBool


class VerdictOut(BaseModel):
    feedback_id: int
    member_id: int
    accepted: bool
    reward: int
    reputation_before: float
    reputation: float
    balance: int


@router.post(
    "/members/{member_id}/feedback",
    status_code=201,
    response_model=FeedbackOut,
    responses={409: {"description": "duplicate text or query"}, 429: {"description": "daily cap reached"}},
)
def post_feedback(
    member_id: MemberPath,
    body: FeedbackIn,
    request: Request,
    key: IdempotencyKey,
    principal: Principal = Depends(require_roles(Role.MEMBER, Role.ADMIN)),
    ledger: Ledger = Depends(get_ledger),
) -> JSONResponse:
    check_member_access(principal, member_id)
    idem = idempotency(principal, key, request, body)
    return respond(submit_feedback(ledger, idem, member_id, body.query_id, body.text, reply=created))


@router.post("/feedback/{feedback_id}/verdict", response_model=VerdictOut)
def post_verdict(
    feedback_id: Annotated[canonical.BigIdParam, Path(description="A feedback id.")],
    body: VerdictIn,
    request: Request,
    key: IdempotencyKey,
    principal: Principal = Depends(require_roles(Role.ADMIN, Role.OPERATOR)),
    ledger: Ledger = Depends(get_ledger),
) -> JSONResponse:
    return respond(
        record_verdict(ledger, idempotency(principal, key, request, body), feedback_id, body.accepted, reply=done)
    )
