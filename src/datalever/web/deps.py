"""Shared request plumbing for routers: the ledger, the idempotency key, and the response of an operation."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Header, Path, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from datalever.ledger.posting import Idempotency, Ledger, Outcome, request_hash
from datalever.web.keys import Principal

IDEMPOTENCY_HEADER = "Idempotency-Key"
IDEMPOTENCY_KEY_PATTERN = r"^[\x21-\x7e]+$"  # printable ASCII, no spaces
IDEMPOTENCY_KEY_MAX = 200
MAX_ID = 2**31 - 1  # ids are 32-bit integer columns

IdempotencyKey = Annotated[
    str,
    Header(
        alias=IDEMPOTENCY_HEADER,
        min_length=1,
        max_length=IDEMPOTENCY_KEY_MAX,
        pattern=IDEMPOTENCY_KEY_PATTERN,
        description="Required on every POST. A retry with the same key and body returns the first response.",
    ),
]

MemberPath = Annotated[int, Path(ge=1, le=MAX_ID, description="A member id.")]


async def get_ledger(request: Request) -> Ledger:
    ledger: Ledger = request.app.state.ledger
    return ledger


def idempotency(
    principal: Principal, key: str, request: Request, body: BaseModel | dict[str, Any] | None
) -> Idempotency:
    """Scope the key to the calling API key and fingerprint method, path and body."""
    return scoped_idempotency(principal, key, request.method, request.scope["path"], body)


def scoped_idempotency(
    principal: Principal, key: str, method: str, path: str, body: BaseModel | dict[str, Any] | None
) -> Idempotency:
    """`idempotency` from the parts of a request (for code that has no Starlette Request)."""
    payload = body.model_dump(mode="json") if isinstance(body, BaseModel) else body
    return Idempotency(f"key:{principal.key_id}", key, request_hash(method, path, payload))


def respond(outcome: Outcome) -> JSONResponse:
    """The stored (or fresh) response; replays say so in `Idempotent-Replayed: true`."""
    headers = {"Idempotent-Replayed": "true"} if outcome.replayed else None
    return JSONResponse(outcome.body, status_code=outcome.status_code, headers=headers)
