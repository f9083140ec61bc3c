"""Shared request plumbing for routers: the ledger, the idempotency key, and the response of an operation."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Header, Path, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from datalever import canonical
from datalever.ledger.posting import Idempotency, Ledger, Outcome, Reply, request_hash
from datalever.ledger.values import Result
from datalever.web.keys import Principal

IDEMPOTENCY_HEADER = "Idempotency-Key"
IDEMPOTENCY_KEY_PATTERN = canonical.IDEMPOTENCY_KEY_PATTERN  # printable ASCII, no spaces, 1-200
IDEMPOTENCY_KEY_MAX = canonical.MAX_IDEMPOTENCY_KEY
MAX_ID = canonical.MAX_ID  # ids are 32-bit integer columns

IdempotencyKey = Annotated[
    canonical.IdempotencyKeyValue,
    Header(
        alias=IDEMPOTENCY_HEADER,
        description="Required on every POST. A retry with the same key and body returns the first response.",
    ),
]

# Path and query values are parsed by `datalever.canonical`: one ASCII spelling each ("12", never "012",
# "+12", " 12" or "12.0"), so a request, its idempotency fingerprint and the fast path agree.
MemberPath = Annotated[canonical.IdParam, Path(description="A member id.")]
IdPath = Annotated[canonical.IdParam, Path(description="An id.")]
MonthPath = Annotated[canonical.Month, Path(description="A calendar month, YYYY-MM (ASCII digits).")]


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


def created(result: Result) -> Reply:
    """The serializer of an operation that creates something: 201 and the result's record."""
    return 201, result.record()


def done(result: Result) -> Reply:
    """The serializer of an operation that acts on what exists: 200 and the result's record."""
    return 200, result.record()


def respond(outcome: Outcome) -> JSONResponse:
    """The stored (or fresh) response; replays say so in `Idempotent-Replayed: true`."""
    headers = {"Idempotent-Replayed": "true"} if outcome.replayed else None
    return JSONResponse(outcome.body, status_code=outcome.status_code, headers=headers)
