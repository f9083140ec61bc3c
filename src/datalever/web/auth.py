"""API-key authentication as reusable FastAPI dependencies: `require_roles(...)` and `check_member_access`."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from threading import Lock

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from datalever.ledger.db import READONLY
from datalever.ledger.posting import Ledger
from datalever.web.keys import Principal, Role, authenticate
from datalever.web.ratelimit import RateLimiter, retry_after_header

_MISS = object()
bearer = HTTPBearer(auto_error=False, description="An API key: `Authorization: Bearer dlk_...`")


class KeyCache:
    """Verified keys for a few seconds, so the hot path does not look its key up on every request."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._entries: dict[str, tuple[float, Principal | None]] = {}
        self._lock = Lock()

    def peek(self, token: str) -> Principal | object | None:
        """The cached principal (None: a cached refusal), or _MISS when the token must be looked up."""
        if self.seconds <= 0:
            return _MISS
        with self._lock:
            entry = self._entries.get(token)
        if entry is not None and entry[0] > time.monotonic():
            return entry[1]
        return _MISS

    def get(self, token: str, load: Callable[[], Principal | None]) -> Principal | None:
        if self.seconds <= 0:
            return load()
        now = time.monotonic()
        with self._lock:
            entry = self._entries.get(token)
        if entry is not None and entry[0] > now:
            return entry[1]
        principal = load()
        with self._lock:
            if len(self._entries) > 10_000:
                self._entries.clear()
            self._entries[token] = (now + self.seconds, principal)
        return principal


async def authenticate_request(request: Request, credentials: HTTPAuthorizationCredentials | None) -> Principal:
    """The caller, or 401 when the key is missing, malformed, unknown or revoked.

    Async so a cached key costs no thread hop; a cache miss reads the key in the thread pool.
    """
    if credentials is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "missing API key: send the header `Authorization: Bearer <key>`",
            headers={"WWW-Authenticate": "Bearer"},
        )
    ledger: Ledger = request.app.state.ledger
    cache: KeyCache = request.app.state.key_cache
    token = credentials.credentials

    def load() -> Principal | None:
        with ledger.engine.connect().execution_options(**READONLY) as conn:
            return authenticate(conn, token)

    principal = cache.peek(token)
    if principal is _MISS:
        principal = await run_in_threadpool(cache.get, token, load)
    if principal is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED, "invalid or revoked API key", headers={"WWW-Authenticate": "Bearer"}
        )
    assert isinstance(principal, Principal)
    return principal


def require_roles(*roles: Role) -> Callable[..., Awaitable[Principal]]:
    """A dependency that admits only keys with one of `roles` (401 without a valid key, 403 otherwise).

    One dependency level over the bearer scheme: FastAPI's per-request cost grows with each level, and
    every route uses this one.
    """
    allowed = frozenset(roles)
    names = ", ".join(sorted(role.value for role in allowed))

    async def dependency(
        request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(bearer)
    ) -> Principal:
        principal = await authenticate_request(request, credentials)
        if principal.role in RATE_LIMITED_ROLES:
            limit_rate(request, principal)
        if principal.role not in allowed:
            raise HTTPException(
                status.HTTP_403_FORBIDDEN, f"a {principal.role.value} key may not do this (allowed: {names})"
            )
        return principal

    return dependency


RATE_LIMITED_ROLES = frozenset({Role.MEMBER, Role.PLATFORM})


def limit_rate(request: Request, principal: Principal) -> None:
    """429 with Retry-After when this member or platform key is over its rate (`datalever.web.ratelimit`).

    Operator and admin keys are never limited here: the AI gateway's charges must not pay for it."""
    limiter: RateLimiter | None = getattr(request.app.state, "rate_limiter", None)
    if limiter is None:
        return
    wait = limiter.check(principal.key_id)
    if wait > 0:
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            f"too many requests for this key: at most {limiter.limit.rate} per {limiter.limit.period_seconds:g} s "
            f"(bursts of {limiter.limit.burst}); retry in {retry_after_header(wait)} s",
            headers={"Retry-After": retry_after_header(wait)},
        )


def check_platform_scope(principal: Principal, platform: str, site: str | None = None) -> None:
    """A platform key acts only for its own platform (and site, if scoped to one and `site` is given: every
    item must then be checked); other roles pass.

    Platform keys from before scopes (migration 0007_key_scopes) are refused until an admin scopes them."""
    if principal.role is not Role.PLATFORM:
        return
    if principal.platform is None:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            f"platform key {principal.key_id} is not scoped to a platform; an admin must run "
            f"`datalever keys scope {principal.key_id} --platform NAME [--site SITE]`",
        )
    if principal.platform != platform:
        raise HTTPException(status.HTTP_403_FORBIDDEN, f"this key speaks for {principal.platform}, not for {platform}")
    if principal.site is not None and site is not None and site != principal.site:
        raise HTTPException(status.HTTP_403_FORBIDDEN, f"this key speaks for the site {principal.site}, not for {site}")


def check_member_access(principal: Principal, member_id: int) -> None:
    """Admins and operators may act on any member; a member key only on its own member."""
    if principal.role in (Role.ADMIN, Role.OPERATOR):
        return
    if principal.role is Role.MEMBER and principal.member_id == member_id:
        return
    raise HTTPException(status.HTTP_403_FORBIDDEN, f"this key may not access member {member_id}")
