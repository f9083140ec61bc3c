"""Response models shared by several routers (refusals)."""

from __future__ import annotations

from pydantic import BaseModel


class Refusal(BaseModel):
    """Every refusal: a human-readable `detail` and a stable machine-readable `code`."""

    detail: str
    code: str


class InsufficientOut(Refusal):
    needed: int
    available: int
    fallback_url: str
