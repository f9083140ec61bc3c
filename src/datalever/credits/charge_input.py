"""The one parser of a charge's body, used by the fast path (`charge_fast_path`) and by the route.

A charge's body is optional: empty (or JSON `null`) is a charge without a reference; otherwise it must be
a JSON object `ChargeIn` accepts, sent with a JSON content type (`application/json`, or any `+json` type).
Both paths call `parse_charge_body`, so they accept and refuse exactly the same bodies; a refusal is a
`RequestValidationError` whose errors sit under `body`, answered by the shared handler as a 422.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from datalever.canonical import TEXT_PATTERN

MAX_CHARGE_BODY_BYTES = 4096
"""A `ChargeIn` is far smaller; the fast path leaves a bigger body to the route, which refuses it."""


class ChargeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    # No NUL (PostgreSQL cannot store it): pydantic's own (Rust) pattern check, cheap on the charge hot path.
    reference: str | None = Field(
        default=None,
        max_length=200,
        pattern=TEXT_PATTERN,
        description="The gateway's own id for the query (at most 200 characters, no NUL).",
    )


NO_REFERENCE = ChargeIn()

REQUEST_BODY: dict[str, Any] = {
    "required": False,
    "description": "Optional. Empty, JSON `null`, or a JSON object with the gateway's own `reference`.",
    # JSON `null` is accepted (a charge without reference), so the schema says so (schemathesis checks it).
    "content": {"application/json": {"schema": {"anyOf": [ChargeIn.model_json_schema(), {"type": "null"}]}}},
}
"""The OpenAPI request body of the charge route (which reads its body itself, through this parser)."""


def is_json(content_types: Sequence[str]) -> bool:
    """One content type, `application/json` or `*/*+json` (any case, parameters allowed)."""
    if len(content_types) != 1:
        return False
    media = content_types[0].split(";", 1)[0].strip().lower()
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))


def parse_charge_body(content_types: Sequence[str], body: bytes) -> ChargeIn:
    """The charge a body asks for; RequestValidationError (errors under `body`) if it is not one."""
    if not body or (body.strip() == b"null" and is_json(content_types)):
        return NO_REFERENCE
    if not is_json(content_types):
        raise RequestValidationError(
            [
                {
                    "type": "content_type",
                    "loc": ("body",),
                    "msg": "a charge body must be JSON, sent with Content-Type: application/json",
                    "input": None,
                }
            ]
        )
    try:
        return ChargeIn.model_validate_json(body)
    except ValidationError as error:
        raise RequestValidationError(
            [{**item, "loc": ("body", *item["loc"])} for item in error.errors(include_url=False)]
        ) from None
