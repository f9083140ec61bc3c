"""Request limits: a maximum body size (413) and per-key rate limits (429 with Retry-After).

The body limit is an ASGI middleware, so an oversized request is refused before anything parses it: at
once when `Content-Length` says so, or as soon as a chunked body grows past the limit. The rate limit is
applied where the caller is known (`web.auth.require_roles`), to member and platform keys only: operator
and admin keys (the AI gateway, the charge hot path) are never slowed by it.
"""

from __future__ import annotations

from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024  # 5,000 contributions of ~600 bytes fit; anything larger is refused


class BodyTooLarge(HTTPException):
    """Raised inside `receive` when a streamed body passes the limit. An HTTPException, so FastAPI's body
    reader passes it on as is (it turns other errors into 400) and the error handler answers 413."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"request body larger than {limit} bytes")


def too_large(limit: int) -> JSONResponse:
    return JSONResponse(
        {"detail": f"request body larger than {limit} bytes", "code": "request_too_large"}, status_code=413
    )


class BodySizeLimit:
    """Refuses request bodies over `limit` bytes with 413 and the one error shape."""

    def __init__(self, app: ASGIApp, limit: int = DEFAULT_MAX_BODY_BYTES) -> None:
        assert limit > 0
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope["headers"]:
            if name == b"content-length" and (not value.isdigit() or int(value) > self.limit):
                await too_large(self.limit)(scope, receive, send)
                return
        received = 0
        started = False

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise BodyTooLarge(self.limit)
            return message

        async def tracking(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted, tracking)
        except BodyTooLarge:
            if started:
                raise
            await too_large(self.limit)(scope, receive, send)
