"""The FastAPI application factory: `create_app(settings)` builds one app bound to one database and policy."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime

from fastapi import FastAPI

from datalever import __version__, migrations
from datalever.credits.charge_fast_path import ChargeFastPath
from datalever.economy import load_policy
from datalever.ledger.batching import Batcher
from datalever.ledger.db import make_engine
from datalever.ledger.posting import Ledger
from datalever.ledger.types import utcnow
from datalever.parts import PARTS
from datalever.service.settings import Settings
from datalever.web import errors
from datalever.web.auth import KeyCache


def create_app(settings: Settings | None = None, *, clock: Callable[[], datetime] = utcnow) -> FastAPI:
    """A ready service: upgrades the schema (unless told not to), loads the policy, mounts every part's router."""
    settings = settings or Settings()
    policy = load_policy(settings.policy_path)
    engine = make_engine(settings.database_url, pool_size=settings.pool_size)
    if settings.auto_upgrade:
        migrations.upgrade(engine)
    ledger = Ledger(engine, policy, clock)
    ledger.system_accounts()  # cache the system account ids before any posting needs them

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            app.state.batcher.close()
            engine.dispose()

    app = FastAPI(
        lifespan=lifespan,
        title="datalever credit ledger",
        version=__version__,
        description="A credit economy for AI use on a double-entry ledger. Every POST needs an Idempotency-Key.",
        docs_url=None,  # the web app serves /docs from its packaged Swagger UI (works offline)
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.ledger = ledger
    app.state.batcher = Batcher(
        ledger,
        threads=settings.batch_threads,
        max_queued=settings.charge_queue_max,
        wait_seconds=settings.charge_wait_seconds,
    )
    app.state.key_cache = KeyCache(settings.auth_cache_seconds)
    errors.install(app, str(policy.fallback.url))
    if settings.charge_fast_path:
        app.add_middleware(ChargeFastPath)
    for part in PARTS:
        if part.router is not None:
            app.include_router(part.router())
        for name, view in (part.web_views() if part.web_views is not None else {}).items():
            assert not hasattr(app.state, name), f"{part.name}: app.state.{name} is already set"
            setattr(app.state, name, view)

    @app.get("/healthz", tags=["health"])
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app


def app_from_env() -> FastAPI:
    """Factory for uvicorn workers (`--factory`): settings come from DATALEVER_* environment variables.

    The worker's long-lived objects (app, routes, compiled statements) are moved out of the garbage
    collector's sight and young collections run less often: full collections otherwise pause a busy
    worker for tens of milliseconds, which showed as the slowest 1% of charges.
    """
    app = create_app(Settings.from_env())
    gc.collect()
    gc.freeze()
    gc.set_threshold(20_000, 50, 1000)
    return app
