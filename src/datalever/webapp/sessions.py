"""Browser sessions: one-time sign-in codes, rate-limited redemption, sessions with expiry and a CSRF token.

* A sign-in code is created by an admin (for any role) or by a member's own API key (for itself). It is
  shown once, stored as a SHA-256 digest, valid for `CODE_MINUTES` and usable once. API keys are never
  accepted by the web pages, so a key never appears in a URL or a page.
* Redeeming a code creates a session: a random cookie value (only its digest is stored) that expires after
  `SESSION_HOURS`, and a random CSRF token every form and htmx request must send back.
* Failed attempts are counted per client address; after `MAX_FAILURES` in `FAILURE_WINDOW` further
  attempts are refused without looking at the code, so codes cannot be guessed.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, delete, func, insert, select, update

from datalever.ledger.errors import BadRequest, UnknownMember
from datalever.ledger.models import MEMBERS
from datalever.webapp.models import SIGNIN_ATTEMPTS, SIGNIN_CODES, WEB_SESSIONS

CODE_MINUTES = 15
SESSION_HOURS = 8
MAX_FAILURES = 10
FAILURE_WINDOW = timedelta(minutes=15)
ROLES = ("admin", "operator", "member")
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTVWXYZ23456789"  # no 0/O, 1/I/L, U: easy to read aloud and type
CODE_LENGTH = 12  # 30^12 ~ 5e17 codes; with the rate limit, guessing is hopeless


@dataclass(frozen=True)
class WebUser:
    """Who a browser session belongs to, and the token its state-changing requests must carry."""

    session_id: str
    role: str
    member_id: int | None
    csrf_token: str
    expires_at: datetime

    @property
    def is_staff(self) -> bool:
        return self.role in ("admin", "operator")


class SignInRefused(Exception):
    """A code was refused; `message` is safe to show next to the code field."""

    def __init__(self, message: str, *, rate_limited: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.rate_limited = rate_limited


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def normalise_code(text: str) -> str:
    """Upper case without spaces or dashes, so 'abcd-efgh-jkmn' and 'ABCDEFGHJKMN' are the same code."""
    return "".join(ch for ch in text.upper() if ch not in " -\t")


def format_code(code: str) -> str:
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


def create_code(
    conn: Connection, role: str, member_id: int | None, created_by: str, now: datetime
) -> tuple[str, datetime]:
    """A new one-time code (formatted XXXX-XXXX-XXXX) and when it expires."""
    if role not in ROLES:
        raise BadRequest(f"unknown role {role!r}; a sign-in code is for one of {', '.join(ROLES)}")
    if (role == "member") != (member_id is not None):
        raise BadRequest("a member sign-in code needs the member id, and only member codes take one")
    if member_id is not None and conn.execute(select(MEMBERS.c.id).where(MEMBERS.c.id == member_id)).first() is None:
        raise UnknownMember(member_id)
    code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    expires = now + timedelta(minutes=CODE_MINUTES)
    conn.execute(
        insert(SIGNIN_CODES).values(
            code_hash=_digest(code),
            role=role,
            member_id=member_id,
            created_by=created_by[:64],
            created_at=now,
            expires_at=expires,
        )
    )
    return format_code(code), expires


def recent_failures(conn: Connection, client: str, now: datetime) -> int:
    return int(
        conn.execute(
            select(func.count())
            .select_from(SIGNIN_ATTEMPTS)
            .where(
                SIGNIN_ATTEMPTS.c.client == client,
                SIGNIN_ATTEMPTS.c.ok.is_(False),
                SIGNIN_ATTEMPTS.c.at > now - FAILURE_WINDOW,
            )
        ).scalar_one()
    )


def _attempt(conn: Connection, client: str, ok: bool, now: datetime) -> None:
    conn.execute(insert(SIGNIN_ATTEMPTS).values(client=client[:64], ok=ok, at=now))


def redeem_code(conn: Connection, code_text: str, client: str, now: datetime) -> tuple[WebUser, str]:
    """Use a code once: a new session and its cookie value, or SignInRefused (recorded as a failure).

    The caller commits even on refusal, so failures count towards the rate limit.
    """
    if recent_failures(conn, client, now) >= MAX_FAILURES:
        raise SignInRefused(
            f"too many failed sign-in attempts; wait {int(FAILURE_WINDOW.total_seconds() // 60)} minutes",
            rate_limited=True,
        )
    code = normalise_code(code_text)
    if len(code) != CODE_LENGTH or any(ch not in CODE_ALPHABET for ch in code):
        _attempt(conn, client, False, now)
        raise SignInRefused(f"a sign-in code is {CODE_LENGTH} letters and digits, like ABCD-EFGH-JKMN")
    row = conn.execute(select(SIGNIN_CODES).where(SIGNIN_CODES.c.code_hash == _digest(code))).first()
    # The single use is the conditional update: two browsers racing with one code get one session.
    used = (
        row is not None
        and row.expires_at > now
        and conn.execute(
            update(SIGNIN_CODES)
            .where(SIGNIN_CODES.c.id == row.id, SIGNIN_CODES.c.used_at.is_(None))
            .values(used_at=now)
        ).rowcount
        == 1
    )
    if not used or row is None:
        _attempt(conn, client, False, now)
        raise SignInRefused("this code is unknown, expired or already used; ask for a new one")
    _attempt(conn, client, True, now)
    token = secrets.token_urlsafe(32)
    user = WebUser(
        _digest(token), row.role, row.member_id, secrets.token_urlsafe(32), now + timedelta(hours=SESSION_HOURS)
    )
    conn.execute(
        insert(WEB_SESSIONS).values(
            id=user.session_id,
            role=user.role,
            member_id=user.member_id,
            csrf_token=user.csrf_token,
            created_at=now,
            expires_at=user.expires_at,
        )
    )
    return user, token


def load_session(conn: Connection, token: str | None, now: datetime) -> WebUser | None:
    """The session of a cookie value, or None when there is none, it is unknown or it has expired."""
    if not token or len(token) > 100:
        return None
    row = conn.execute(select(WEB_SESSIONS).where(WEB_SESSIONS.c.id == _digest(token))).first()
    if row is None or row.expires_at <= now:
        return None
    return WebUser(row.id, row.role, row.member_id, row.csrf_token, row.expires_at)


def end_session(conn: Connection, session_id: str, now: datetime) -> None:
    """Sign out: the session row goes, and with it every expired one (housekeeping on a rare path)."""
    conn.execute(delete(WEB_SESSIONS).where((WEB_SESSIONS.c.id == session_id) | (WEB_SESSIONS.c.expires_at <= now)))
    conn.execute(delete(SIGNIN_ATTEMPTS).where(SIGNIN_ATTEMPTS.c.at <= now - FAILURE_WINDOW))


def csrf_ok(expected: str, given: str | None) -> bool:
    return given is not None and hmac.compare_digest(expected.encode(), given.encode())
