"""Every router of the service. To add one: create `routes/<name>.py` with `router = APIRouter(...)`,
then add one line below. `create_app` mounts them in this order."""

from __future__ import annotations

from fastapi import APIRouter

from datalever.service.routes import (
    allowance,
    charges,
    corrections,
    expiry,
    feedback,
    flows,
    grants,
    members,
    reports,
    stipends,
)
from datalever.webapp.router import router as webapp_router

ROUTERS: list[APIRouter] = [
    members.router,
    charges.router,
    feedback.router,
    grants.router,
    corrections.router,
    allowance.router,
    expiry.router,
    reports.router,
    stipends.router,
    flows.router,
    webapp_router,
]
