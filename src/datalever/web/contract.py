"""One API contract: every operation documents every status it can answer, all with the one error schema.

FastAPI documents only the success status and its own 422 (an array `detail`, which this service never
sends). The service's refusals come from shared machinery (authentication, roles, rate limits, the body
limit, idempotency, ledger errors, validation), so they are added here from what each operation is:

* every operation with parameters or a body: 422 (the service's validation shape, `errors` listed);
* every operation behind an API key: 401, 403, 429 (rate limits), 400, 404 and 409 (ledger refusals and
  idempotency: a missing `Idempotency-Key` is 400, a reused key with another request 409);
* every operation with a request body: 413 (body size limit);
* whatever a route declares itself (`responses=`), e.g. 402 and 503 for a charge.

All of them use the `Error` schema: `detail` and `code` always, `errors` for 422, `needed`/`available`/
`fallback_url` for 402.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

ERROR_REF = "#/components/schemas/Error"

ERROR_SCHEMA: dict[str, Any] = {
    "title": "Error",
    "type": "object",
    "description": "Every refusal: a human-readable `detail` and a stable machine-readable `code`.",
    "required": ["detail", "code"],
    "properties": {
        "detail": {"type": "string"},
        "code": {"type": "string"},
        "errors": {
            "type": "array",
            "description": "422 only: each problem with its location and message.",
            "items": {
                "type": "object",
                "required": ["loc", "msg", "type"],
                "properties": {
                    "loc": {"type": "array", "items": {"anyOf": [{"type": "string"}, {"type": "integer"}]}},
                    "msg": {"type": "string"},
                    "type": {"type": "string"},
                },
            },
        },
        "needed": {"type": "integer", "description": "402 only: the price of the query."},
        "available": {"type": "integer", "description": "402 only: the member's spendable balance."},
        "fallback_url": {"type": "string", "description": "402 only: where to go without credits."},
    },
}

DESCRIPTIONS = {
    400: "Bad request: a rule of the operation refused it, or the Idempotency-Key header is missing",
    401: "Missing, malformed, unknown or revoked API key",
    402: "Insufficient credits",
    403: "This key may not do this (role, member or platform scope)",
    404: "Not found",
    409: "Conflict (state, or an Idempotency-Key reused with another request)",
    413: "Request body too large",
    422: "Invalid request: a parameter, header or body field is malformed or out of bounds",
    429: "Too many requests for this key or member; retry after `Retry-After` seconds",
    503: "Temporarily unable to answer; retry after `Retry-After` seconds",
}
RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait before retrying.", "schema": {"type": "integer"}}}
BODY_METHODS = {"post", "put", "patch"}


def _error_response(status: int, description: str | None = None) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": description or DESCRIPTIONS.get(status, "Refused"),
        "content": {"application/json": {"schema": {"$ref": ERROR_REF}}},
    }
    if status in (429, 503):
        response["headers"] = RETRY_AFTER
    return response


def statuses_for(method: str, operation: dict[str, Any]) -> set[int]:
    """The refusals an operation can answer, from what it is (see the module docstring)."""
    statuses: set[int] = set()
    if operation.get("parameters") or "requestBody" in operation:
        statuses.add(422)
    if any(parameter.get("in") == "path" for parameter in operation.get("parameters", [])):
        statuses.add(404)
    if operation.get("security"):
        statuses |= {400, 401, 403, 404, 409, 429}
    if method in BODY_METHODS:
        statuses.add(413)
    return statuses


def complete(schema: dict[str, Any]) -> dict[str, Any]:
    """Add every refusal to every operation, all with the `Error` schema (in place; returns `schema`)."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components["Error"] = ERROR_SCHEMA
    for name in ("HTTPValidationError", "ValidationError"):
        components.pop(name, None)
    for operations in schema.get("paths", {}).values():
        for method, operation in operations.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            responses = operation.setdefault("responses", {})
            for status in statuses_for(method, operation):
                responses[str(status)] = _error_response(status)
            for status_text, response in responses.items():
                status = int(status_text) if status_text.isdigit() else 0
                if status >= 400:
                    content = response.setdefault("content", {}).setdefault("application/json", {})
                    refusal = content.get("schema", {}).get("$ref", "").endswith(("/Refusal", "/InsufficientOut"))
                    if "schema" not in content or status < 500 or refusal:  # every refusal: the one Error schema
                        content["schema"] = {"$ref": ERROR_REF}
                    if status in (429, 503):
                        response.setdefault("headers", RETRY_AFTER)
    return schema


def install(app: FastAPI) -> None:
    """Serve the completed document at /openapi.json (built once, on first request)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = complete(
                get_openapi(
                    title=app.title,
                    version=app.version,
                    description=app.description,
                    routes=app.routes,
                )
            )
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
