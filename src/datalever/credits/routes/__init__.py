"""Every route of the credits part. To add one: create `routes/<name>.py` with `router = APIRouter(...)`,
then add it below; the part's router includes them in this order."""

from __future__ import annotations

from fastapi import APIRouter

from datalever.credits.routes import (
    allowance,
    charges,
    corrections,
    expiry,
    feedback,
    grants,
    members,
    reports,
)

ROUTERS: list[APIRouter] = [
    members.router,
    charges.router,
    feedback.router,
    grants.router,
    corrections.router,
    allowance.router,
    expiry.router,
    reports.router,
]


router = APIRouter()  # the part's one router: every route above, in order
for _sub in ROUTERS:
    router.include_router(_sub)
