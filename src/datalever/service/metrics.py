"""Prometheus metrics (prometheus-client): requests and latency by route, charge batches, queue depth, and
the credits issued, spent and outstanding.

Cost on the charge hot path: charges that the fast path answers are not measured one by one (a labelled
histogram observation costs several microseconds, a measurable share of a charge); they are counted once per
batch by the batcher's observer (batch size, duration, queue depth, charges by outcome). Every other
request goes through `MetricsMiddleware`. Credit totals are read from the ledger when scraped (at most once
per `cache_seconds`), so no posting pays for them and every worker reports the same figures.

With several worker processes (`serve --workers N`), prometheus-client's multiprocess mode aggregates the
workers' values (`PROMETHEUS_MULTIPROC_DIR`, set up by `serve`), so any worker answers for all.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Mapping
from threading import Lock
from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import PlainTextResponse
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512)


def multiprocess() -> bool:
    return bool(os.environ.get(MULTIPROC_ENV))


class Metrics:
    """The service's metrics; one per app (tests build several apps in one process)."""

    def __init__(self, credit_totals: Callable[[], Mapping[str, int]], cache_seconds: float = 10.0) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        registry = None if multiprocess() else self.registry  # multiprocess values are collected from files
        self.requests = Counter(
            "datalever_http_requests", "HTTP requests by route template, method and status.",
            ["route", "method", "status"], registry=registry,
        )  # fmt: skip
        self.latency = Histogram(
            "datalever_http_request_seconds", "Time to answer an HTTP request, by route template and method.",
            ["route", "method"], buckets=LATENCY_BUCKETS, registry=registry,
        )  # fmt: skip
        self.batch_size = Histogram(
            "datalever_charge_batch_size", "Charges per group-committed batch.", buckets=BATCH_BUCKETS,
            registry=registry,
        )  # fmt: skip
        self.batch_seconds = Histogram(
            "datalever_charge_batch_seconds", "Time to run and commit one batch of charges.",
            buckets=LATENCY_BUCKETS, registry=registry,
        )  # fmt: skip
        self.queue_depth = Gauge(
            "datalever_charge_queue_depth", "Charges waiting for the next batch (sampled after each batch).",
            registry=registry, multiprocess_mode="livesum",
        )  # fmt: skip
        self.charges = Counter(
            "datalever_charges", "Charges handled by the batcher, by outcome (ok, refused, error).", ["outcome"],
            registry=registry,
        )  # fmt: skip
        self.registry.register(CreditTotals(credit_totals, cache_seconds))
        if multiprocess():
            MultiProcessCollector(self.registry)  # type: ignore[no-untyped-call]

    def observe_batch(self, size: int, seconds: float, queue_depth: int, refused: int, errors: int) -> None:
        """Called once per batch by the batcher (never per charge)."""
        self.batch_size.observe(size)
        self.batch_seconds.observe(seconds)
        self.queue_depth.set(queue_depth)
        ok = size - refused - errors
        if ok:
            self.charges.labels("ok").inc(ok)
        if refused:
            self.charges.labels("refused").inc(refused)
        if errors:
            self.charges.labels("error").inc(errors)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


class CreditTotals(Collector):
    """Gauges read from the ledger at scrape time (cached): exact, shared by all workers, free for postings."""

    def __init__(self, read: Callable[[], Mapping[str, int]], cache_seconds: float) -> None:
        self.read = read
        self.cache_seconds = cache_seconds
        self._cached: tuple[float, Mapping[str, int]] | None = None
        self._lock = Lock()

    def describe(self) -> Iterable[Metric]:
        return []  # nothing read at registration: the first scrape reads the ledger

    def collect(self) -> Iterable[Metric]:
        with self._lock:
            now = time.monotonic()
            if self._cached is None or now - self._cached[0] >= self.cache_seconds:
                self._cached = (now, self.read())
            totals = self._cached[1]
        for name, text in (
            ("issued", "Credits ever issued (allowance, rewards, stipends, grants)."),
            ("spent", "Credits ever spent on AI queries."),
            ("expired", "Credits ever expired."),
            ("outstanding", "Credits held by members now (the operator's liability)."),
        ):
            yield GaugeMetricFamily(f"datalever_credits_{name}", text, value=totals.get(name, 0))


class MetricsMiddleware:
    """Counts and times each HTTP request by its route template (unmatched paths share one label)."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            route: Any = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            method = scope["method"]
            self.metrics.requests.labels(template, method, str(status)).inc()
            self.metrics.latency.labels(template, method).observe(time.perf_counter() - started)


def router() -> APIRouter:
    """`GET /metrics` for Prometheus (admin or operator key: the totals are the operator's business)."""
    from datalever.web.auth import require_roles
    from datalever.web.keys import Principal, Role

    metrics_router = APIRouter(tags=["health"])

    @metrics_router.get(
        "/metrics",
        response_class=PlainTextResponse,
        responses={200: {"content": {CONTENT_TYPE: {"schema": {"type": "string"}}}, "description": "Metrics"}},
    )
    def get_metrics(
        request: Request, _principal: Principal = Depends(require_roles(Role.ADMIN, Role.OPERATOR))
    ) -> Response:
        """Prometheus text format: requests and latency by route, charge batches, queue depth, credit totals."""
        metrics: Metrics = request.app.state.metrics
        return Response(metrics.exposition(), media_type=CONTENT_TYPE)

    return metrics_router
