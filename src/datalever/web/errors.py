"""Exception handlers: every refusal is a JSON body `{"detail": ..., "code": ...}` with a specific status."""

from __future__ import annotations

import logging
import traceback
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.routing import Match

from datalever.ledger.errors import InsufficientCredits, LedgerError, Overloaded

STATUS_BY_CODE = {
    "bad_request": 400,
    "insufficient_credits": 402,
    "not_found": 404,
    "unknown_account": 404,
    "unknown_member": 404,
    "conflict": 409,
    "idempotency_conflict": 409,
    "invalid_transfer": 422,
    "rate_limited": 429,
    "overloaded": 503,
    # Generic codes a part's own errors may inherit (e.g. datalever.pools.errors.Forbidden, Unprocessable).
    "forbidden": 403,
    "unprocessable": 422,
}
"""The HTTP status of each ledger error code; the ledger itself knows nothing of HTTP."""

LOG = logging.getLogger("datalever.web")
HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "request_too_large",
    422: "invalid_request",
    429: "rate_limited",
    503: "unavailable",
}


def _allowed_methods(request: Request) -> list[str]:
    methods: set[str] = set()
    for route in request.app.routes:
        match, _ = route.matches({**request.scope, "method": "GET"})
        if match is not Match.NONE:
            methods |= set(getattr(route, "methods", None) or ()) - {"HEAD"}
    return sorted(methods)


def status_of(error: LedgerError) -> int:
    """The status for an error's code, else for the nearest base class's code (a part's own subclass of
    `Conflict` is a 409), else 400."""
    for cls in type(error).__mro__:
        status = STATUS_BY_CODE.get(getattr(cls, "code", ""))
        if status is not None:
            return status
    return 400


def ledger_error_response(error: LedgerError, fallback_url: str) -> JSONResponse:
    """The refusal of a ledger operation; a member short of credits is pointed to the fallback."""
    body: dict[str, Any] = {"detail": error.message, "code": error.code}
    headers = None
    if isinstance(error, InsufficientCredits):
        body.update(needed=error.needed, available=error.available, fallback_url=fallback_url)
        body["detail"] += f"; try {fallback_url}"
    elif isinstance(error, Overloaded):
        headers = {"Retry-After": str(error.retry_after_seconds)}
    return JSONResponse(body, status_code=status_of(error), headers=headers)


def install(app: FastAPI, fallback_url: str) -> None:
    app.state.fallback_url = fallback_url

    @app.exception_handler(LedgerError)
    async def ledger_error(_request: Request, error: LedgerError) -> JSONResponse:
        return ledger_error_response(error, fallback_url)

    @app.exception_handler(HTTPException)
    async def http_error(_request: Request, error: HTTPException) -> JSONResponse:
        detail = error.detail if isinstance(error.detail, str) else "; ".join(map(str, error.detail))
        body = {"detail": detail, "code": HTTP_CODES.get(error.status_code, f"http_{error.status_code}")}
        headers = error.headers
        if error.status_code == 405:  # every method of the path, not only those of the first route matched
            headers = {**(headers or {}), "Allow": ", ".join(_allowed_methods(_request))}
        return JSONResponse(body, status_code=error.status_code, headers=headers)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, error: Exception) -> JSONResponse:
        """A bug, never bad input: logged with the route, method and traceback, but without the exception's
        message or the request (either may carry request content); the client gets the one error shape."""
        route = getattr(request.scope.get("route"), "path", "unmatched")
        frames = "".join(traceback.format_tb(error.__traceback__))
        LOG.error("unexpected %s on %s %s\n%s", type(error).__name__, request.method, route, frames)
        return JSONResponse({"detail": "internal error; it was logged", "code": "internal_error"}, status_code=500)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_request: Request, error: RequestValidationError) -> JSONResponse:
        problems = jsonable_encoder(error.errors(), exclude={"input", "ctx", "url"})
        if any(item.get("loc") == ["header", "Idempotency-Key"] and item.get("type") == "missing" for item in problems):
            return JSONResponse(
                {"detail": "missing Idempotency-Key header: every POST needs one", "code": "missing_idempotency_key"},
                status_code=400,
            )
        text = "; ".join(f"{'.'.join(str(p) for p in item.get('loc', []))}: {item.get('msg')}" for item in problems)
        return JSONResponse({"detail": f"invalid request: {text}", "code": "invalid_request", "errors": problems}, 422)
