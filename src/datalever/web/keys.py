"""API keys: random secrets of which only a SHA-256 digest is stored, each with one role."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Connection, insert, select, update

from datalever import canonical
from datalever.importers.records import Platform
from datalever.ledger.errors import BadRequest, Conflict, NotFound, UnknownMember
from datalever.ledger.models import Member
from datalever.ledger.types import utcnow
from datalever.web.models import API_KEYS

PREFIX = "dlk"
PLATFORMS = tuple(platform.value for platform in Platform)


class Role(StrEnum):
    """admin: members, keys, grants, policy; operator: the AI gateway; member: own data; platform: stipends."""

    ADMIN = "admin"
    OPERATOR = "operator"
    MEMBER = "member"
    PLATFORM = "platform"


@dataclass(frozen=True)
class Principal:
    """Who is calling: the key id (also the idempotency scope), its role and, for members, whose data;
    for platform keys, the platform (and optionally the site) it speaks for (None: not scoped yet)."""

    key_id: str
    role: Role
    member_id: int | None
    platform: str | None = None
    site: str | None = None


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def check_scope(platform: str | None, site: str | None) -> tuple[str, str | None]:
    """A platform key's scope in its canonical form: a known platform, and a site slug if given."""
    if platform is None:
        raise BadRequest("a platform key belongs to one platform: give --platform (stackexchange, github, wikipedia)")
    if platform not in PLATFORMS:
        raise BadRequest(f"unknown platform {platform!r}; choose one of {', '.join(PLATFORMS)}")
    if site is not None:
        try:
            site = canonical.parse_name(site, "site", 200)
        except canonical.CanonicalError as error:
            raise BadRequest(str(error)) from None
    return platform, site


def create_key(
    conn: Connection,
    role: Role | str,
    member_id: int | None = None,
    label: str | None = None,
    now: datetime | None = None,
    *,
    platform: str | None = None,
    site: str | None = None,
) -> tuple[Principal, str]:
    """Store a new key and return it with its plaintext token (shown once, never stored).

    A platform key is scoped to `platform` (and `site`, if given) when it is created."""
    try:
        role = Role(role)
    except ValueError:
        raise BadRequest(f"unknown role {role!r}; choose one of {', '.join(r.value for r in Role)}") from None
    if role is Role.MEMBER and member_id is None:
        raise BadRequest("a member key needs the member it belongs to (--member ID)")
    if role is not Role.MEMBER and member_id is not None:
        raise BadRequest(f"a {role.value} key is not bound to a member; drop the member id")
    if role is Role.PLATFORM:
        platform, site = check_scope(platform, site)
    elif platform is not None or site is not None:
        raise BadRequest(f"a {role.value} key has no platform scope; drop --platform and --site")
    if member_id is not None and conn.execute(select(Member.id).where(Member.id == member_id)).first() is None:
        raise UnknownMember(member_id)
    key_id = secrets.token_hex(8)
    secret = secrets.token_urlsafe(32)
    conn.execute(
        insert(API_KEYS).values(
            id=key_id,
            secret_hash=_digest(secret),
            role=role.value,
            member_id=member_id,
            label=label,
            created_at=now or utcnow(),
            platform=platform,
            site=site,
        )
    )
    return Principal(key_id, role, member_id, platform, site), f"{PREFIX}_{key_id}_{secret}"


def scope_key(conn: Connection, key_id: str, platform: str, site: str | None, *, replace: bool = False) -> Principal:
    """Scope a platform key to `platform` (and `site`). A scoped key is only re-scoped with `replace`, so a
    typo cannot silently widen or move what a key may do."""
    platform, site = check_scope(platform, site)
    row = conn.execute(
        select(API_KEYS.c.role, API_KEYS.c.platform, API_KEYS.c.site, API_KEYS.c.revoked_at).where(
            API_KEYS.c.id == key_id
        )
    ).first()
    if row is None or row.revoked_at is not None:
        raise NotFound(f"no active key with id {key_id!r}")
    if row.role != Role.PLATFORM.value:
        raise BadRequest(f"key {key_id} is a {row.role} key; only platform keys have a scope")
    if row.platform is not None and not replace:
        where = f"{row.platform}" + (f" / {row.site}" if row.site else "")
        raise Conflict(f"key {key_id} is already scoped to {where}; give --replace to change it")
    conn.execute(update(API_KEYS).where(API_KEYS.c.id == key_id).values(platform=platform, site=site))
    return Principal(key_id, Role.PLATFORM, None, platform, site)


def authenticate(conn: Connection, token: str) -> Principal | None:
    """The principal of a token, or None if it is malformed, unknown or revoked."""
    parts = token.split("_", 2)
    if len(parts) != 3 or parts[0] != PREFIX:
        return None
    _, key_id, secret = parts
    row = conn.execute(
        select(
            API_KEYS.c.secret_hash,
            API_KEYS.c.role,
            API_KEYS.c.member_id,
            API_KEYS.c.platform,
            API_KEYS.c.site,
            API_KEYS.c.revoked_at,
        ).where(API_KEYS.c.id == key_id)
    ).first()
    if row is None or row.revoked_at is not None:
        return None
    if not hmac.compare_digest(row.secret_hash, _digest(secret)):
        return None
    return Principal(key_id, Role(row.role), row.member_id, row.platform, row.site)


def revoke_key(conn: Connection, key_id: str, now: datetime | None = None) -> bool:
    """Revoke a key by its id (the part after `dlk_`); False if no such active key."""
    result = conn.execute(
        update(API_KEYS)
        .where(API_KEYS.c.id == key_id, API_KEYS.c.revoked_at.is_(None))
        .values(revoked_at=now or utcnow())
    )
    return bool(result.rowcount)


def count_keys(conn: Connection) -> int:
    return len(conn.execute(select(API_KEYS.c.id).limit(1)).all())
