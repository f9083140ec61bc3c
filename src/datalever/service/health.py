"""`/healthz` (the process answers) and `/readyz` (the database answers and its schema is current)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import SQLAlchemyError

from datalever import migrations
from datalever.ledger.posting import Ledger

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: str


class Readiness(BaseModel):
    status: str
    database: str
    revision: list[str]
    head: list[str]


@router.get("/healthz", response_model=Health)
def healthz() -> dict[str, str]:
    """Alive: the process answers (no database access). For liveness probes."""
    return {"status": "ok"}


@router.get(
    "/readyz",
    response_model=Readiness,
    responses={503: {"model": Readiness, "description": "Database unreachable or migrations pending"}},
)
def readyz(request: Request) -> JSONResponse:
    """Ready: the database answers and is at the code's head revision. For readiness probes."""
    ledger: Ledger = request.app.state.ledger
    body: dict[str, Any]
    try:
        current, head = migrations.pending(ledger.engine)
    except SQLAlchemyError as error:
        body = {
            "status": "unavailable",
            "database": f"unreachable ({type(error).__name__})",
            "revision": [],
            "head": [],
        }
        return JSONResponse(body, status_code=503, headers={"Retry-After": "5"})
    if current != head:
        body = {
            "status": "unavailable",
            "database": "migrations pending: run `datalever db upgrade`",
            "revision": list(current),
            "head": list(head),
        }
        return JSONResponse(body, status_code=503, headers={"Retry-After": "30"})
    return JSONResponse({"status": "ready", "database": "ok", "revision": list(current), "head": list(head)})
