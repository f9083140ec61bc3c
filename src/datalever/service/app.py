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
from datalever.ledger.db import READONLY, make_engine
from datalever.ledger.posting import Ledger
from datalever.ledger.queries import summary
from datalever.ledger.types import utcnow
from datalever.logs import configure_logging
from datalever.parts import PARTS
from datalever.service import health
from datalever.service.metrics import Metrics, MetricsMiddleware
from datalever.service.metrics import router as metrics_router
from datalever.service.settings import Settings
from datalever.service.supervisor import die_with_parent
from datalever.web import contract, errors
from datalever.web.auth import KeyCache
from datalever.web.limits import BodySizeLimit
from datalever.web.ratelimit import RateLimit, RateLimiter


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
    app.state.rate_limiter = (
        RateLimiter(RateLimit(settings.rate_limit_per_minute, 60.0, settings.rate_limit_burst))
        if settings.rate_limit_per_minute > 0
        else None
    )
    app.state.metrics = metrics = Metrics(lambda: credit_totals(ledger))
    app.state.batcher.observer = metrics.observe_batch
    errors.install(app, str(policy.fallback.url))
    # Outermost last: the fast path answers well-formed charges before anything else runs (it reads at most
    # 4 KiB of a body itself); every other request is measured, then held to the body limit.
    app.add_middleware(BodySizeLimit, limit=settings.max_body_bytes)
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    if settings.charge_fast_path:
        app.add_middleware(ChargeFastPath)
    app.include_router(health.router)
    app.include_router(metrics_router())
    for part in PARTS:
        if part.router is not None:
            app.include_router(part.router())
        for name, view in (part.web_views() if part.web_views is not None else {}).items():
            assert not hasattr(app.state, name), f"{part.name}: app.state.{name} is already set"
            setattr(app.state, name, view)
    contract.install(app)
    return app


def credit_totals(ledger: Ledger) -> dict[str, int]:
    """Issued, spent, expired and outstanding credits, for the metrics (read when Prometheus scrapes)."""
    with ledger.engine.connect().execution_options(**READONLY) as conn:
        totals = summary(conn, ledger.policy, ledger.system_accounts())
    return {name: int(totals[f"credits_{name}"]) for name in ("issued", "spent", "expired", "outstanding")}


def app_from_env() -> FastAPI:
    """Factory for uvicorn workers (`--factory`): settings come from DATALEVER_* environment variables.

    The worker's long-lived objects (app, routes, compiled statements) are moved out of the garbage
    collector's sight and young collections run less often: full collections otherwise pause a busy
    worker for tens of milliseconds, which showed as the slowest 1% of charges.
    """
    die_with_parent()  # a worker never outlives the `serve` supervisor (and never keeps its port)
    configure_logging()  # text or JSON per DATALEVER_LOG_FORMAT
    app = create_app(Settings.from_env())
    gc.collect()
    gc.freeze()
    gc.set_threshold(20_000, 50, 1000)
    return app
