"""The charge hot path without FastAPI's routing and dependency resolution.

Every AI query goes through `POST /v1/members/{id}/charges`. FastAPI resolves that route's parameters and
dependencies in about 0.1 ms of CPU, a sixth of what a charge costs the service on a 2-core machine, so
this ASGI middleware answers the well-formed requests itself: a cached operator or admin key, a valid
Idempotency-Key, and a body the one charge parser (`charge_input.parse_charge_body`) accepts. It uses the
same pieces as the route (`parse_charge_body`, `scoped_idempotency`, `charge_query_async`, `created`,
`respond`, `ledger_error_response`), so the answers are the same. Anything else (no key, an uncached or
refused key, a malformed header or body, another path) is passed on untouched, body included, to the
FastAPI route, which stays the definition of the API.
"""

from __future__ import annotations

import re

from fastapi.exceptions import RequestValidationError
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from datalever.credits.charge_input import MAX_CHARGE_BODY_BYTES, ChargeIn, parse_charge_body
from datalever.credits.routes.charges import CHARGE_ROLES
from datalever.ledger.charges import charge_query_async
from datalever.ledger.errors import LedgerError
from datalever.web.auth import KeyCache
from datalever.web.deps import (
    IDEMPOTENCY_HEADER,
    IDEMPOTENCY_KEY_MAX,
    IDEMPOTENCY_KEY_PATTERN,
    MAX_ID,
    created,
    respond,
    scoped_idempotency,
)
from datalever.web.errors import ledger_error_response
from datalever.web.keys import Principal

_PATH = re.compile(r"/v1/members/([1-9][0-9]{0,9})/charges")
_KEY = re.compile(IDEMPOTENCY_KEY_PATTERN)
_ROLES = frozenset(CHARGE_ROLES)


class ChargeFastPath:
    """ASGI middleware: answers well-formed charge requests, passes everything else to `app`."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        match = _PATH.fullmatch(scope["path"]) if scope["type"] == "http" and scope["method"] == "POST" else None
        if match is None or int(match.group(1)) > MAX_ID:
            await self.app(scope, receive, send)
            return
        messages, body = await _read_body(receive)
        request = _accept(scope, body)
        if request is None:
            await self.app(scope, _replay(messages, receive), send)
            return
        principal, key, charge = request
        state = scope["app"].state
        member_id = int(match.group(1))
        idem = scoped_idempotency(principal, key, "POST", scope["path"], charge)
        try:
            outcome = await charge_query_async(
                state.ledger, idem, member_id, state.batcher, charge.reference, reply=created
            )
        except LedgerError as error:
            response = ledger_error_response(error, state.fallback_url)
        else:
            response = respond(outcome)
        await response(scope, receive, send)


def _accept(scope: Scope, body: bytes | None) -> tuple[Principal, str, ChargeIn] | None:
    """The caller, idempotency key and charge of a request the fast path may answer, else None."""
    if body is None:
        return None
    headers = Headers(scope=scope)
    authorization = headers.getlist("authorization")
    keys = headers.getlist(IDEMPOTENCY_HEADER)
    if len(authorization) != 1 or len(keys) != 1:
        return None
    scheme, _, token = authorization[0].partition(" ")
    key = keys[0]
    if scheme.lower() != "bearer" or not token or not 1 <= len(key) <= IDEMPOTENCY_KEY_MAX or not _KEY.match(key):
        return None
    cache: KeyCache = scope["app"].state.key_cache
    principal = cache.peek(token)
    if not isinstance(principal, Principal) or principal.role not in _ROLES:
        return None
    try:
        return principal, key, parse_charge_body(headers.getlist("content-type"), body)
    except RequestValidationError:
        return None  # the route answers it, with the same parser's errors


async def _read_body(receive: Receive) -> tuple[list[Message], bytes | None]:
    """The request's messages so far, and its body (None when it is too big or the client left)."""
    messages: list[Message] = []
    size = 0
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            return messages, None
        size += len(message.get("body", b""))
        if size > MAX_CHARGE_BODY_BYTES:
            return messages, None
        if not message.get("more_body", False):
            return messages, b"".join(m.get("body", b"") for m in messages)


def _replay(messages: list[Message], receive: Receive) -> Receive:
    """A `receive` that first gives back the messages already read."""
    pending = list(messages)

    async def replayed() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replayed
