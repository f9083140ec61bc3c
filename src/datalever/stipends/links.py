"""Linking platform accounts to members: a member asks, the platform confirms, either side may unlink.

The service never trusts a member's bare claim: a link counts for stipends only once a key with the
`platform` role confirmed it. A platform account has at most one confirmed member at a time; every
request, confirmation and unlinking is appended to `link_events`, so relinking keeps its history.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update
from sqlalchemy.exc import IntegrityError

from datalever.importers import Platform, parse_platform
from datalever.ledger.errors import BadRequest, Conflict, NotFound, UnknownMember
from datalever.ledger.models import MEMBERS
from datalever.stipends.models import LINK_EVENTS, PLATFORM_LINKS

DEFAULT_SITES = {Platform.GITHUB: "github.com", Platform.WIKIPEDIA: "en.wikipedia.org"}


@dataclass(frozen=True)
class Link:
    id: int
    member_id: int
    platform: str
    site: str
    account_id: str
    status: str
    requested_at: datetime
    confirmed_at: datetime | None
    confirmed_by: str | None
    unlinked_at: datetime | None

    def body(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "member_id": self.member_id,
            "platform": self.platform,
            "site": self.site,
            "account_id": self.account_id,
            "status": self.status,
            "requested_at": self.requested_at.isoformat(),
            "confirmed_at": self.confirmed_at.isoformat() if self.confirmed_at else None,
            "unlinked_at": self.unlinked_at.isoformat() if self.unlinked_at else None,
        }


def normalise_account(platform_name: str, site: str | None, account_id: str) -> tuple[Platform, str, str]:
    """Validated (platform, site, account id): an unknown platform or an empty id is a clear error."""
    try:
        platform = parse_platform(platform_name)
    except ValueError as error:
        raise BadRequest(str(error)) from None
    site_name = (site or DEFAULT_SITES.get(platform, "")).strip().lower()
    if not site_name:
        raise BadRequest(f"{platform.value} accounts are per site: give the site, e.g. stackoverflow.com")
    if len(site_name) > 200:
        raise BadRequest("site must be at most 200 characters")
    account = account_id.strip()
    if not account or len(account) > 100:
        raise BadRequest("account_id must be 1 to 100 characters")
    return platform, site_name, account


def _row(conn: Connection, link_id: int, lock: bool = False) -> Link:
    query = select(PLATFORM_LINKS).where(PLATFORM_LINKS.c.id == link_id)
    row = conn.execute(query.with_for_update() if lock else query).first()
    if row is None:
        raise NotFound(f"link {link_id} does not exist")
    return Link(**row._mapping)


def _event(conn: Connection, link: Link, action: str, actor: str, now: datetime) -> None:
    conn.execute(
        insert(LINK_EVENTS).values(
            link_id=link.id,
            member_id=link.member_id,
            platform=link.platform,
            site=link.site,
            account_id=link.account_id,
            action=action,
            actor=actor,
            at=now,
        )
    )


def request_link(
    conn: Connection, member_id: int, platform_name: str, site: str | None, account_id: str, actor: str, now: datetime
) -> Link:
    """Record a member's claim to a platform account (status `requested`)."""
    platform, site_name, account = normalise_account(platform_name, site, account_id)
    if conn.execute(select(MEMBERS.c.id).where(MEMBERS.c.id == member_id)).first() is None:
        raise UnknownMember(member_id)
    open_links = conn.execute(
        select(PLATFORM_LINKS.c.id, PLATFORM_LINKS.c.member_id, PLATFORM_LINKS.c.status).where(
            PLATFORM_LINKS.c.platform == platform.value,
            PLATFORM_LINKS.c.site == site_name,
            PLATFORM_LINKS.c.account_id == account,
            PLATFORM_LINKS.c.status != "unlinked",
        )
    ).all()
    label = f"{platform.value} account {account} on {site_name}"
    for other in open_links:
        if other.member_id == member_id:
            raise Conflict(
                f"duplicate link: member {member_id} already has link {other.id} ({other.status}) to {label}"
            )
        if other.status == "confirmed":
            raise Conflict(f"{label} is already linked to another member; it must be unlinked first")
    link_id = conn.execute(
        insert(PLATFORM_LINKS)
        .values(
            member_id=member_id,
            platform=platform.value,
            site=site_name,
            account_id=account,
            status="requested",
            requested_at=now,
        )
        .returning(PLATFORM_LINKS.c.id)
    ).scalar_one()
    link = _row(conn, int(link_id))
    _event(conn, link, "requested", actor, now)
    return link


def confirm_link(
    conn: Connection, link_id: int, actor: str, now: datetime, allowed: Callable[[Link], None] | None = None
) -> Link:
    """The platform vouches that the member owns the account. Refused if another member holds it.

    `allowed` may refuse (raise) once the link is known, e.g. a platform key scoped to another platform."""
    link = _row(conn, link_id, lock=True)
    if allowed is not None:
        allowed(link)
    if link.status == "confirmed":
        raise Conflict(f"link {link_id} is already confirmed")
    if link.status == "unlinked":
        raise Conflict(f"link {link_id} was unlinked; the member must request a new link")
    holder = conn.execute(
        select(PLATFORM_LINKS.c.id, PLATFORM_LINKS.c.member_id).where(
            PLATFORM_LINKS.c.platform == link.platform,
            PLATFORM_LINKS.c.site == link.site,
            PLATFORM_LINKS.c.account_id == link.account_id,
            PLATFORM_LINKS.c.status == "confirmed",
        )
    ).first()
    if holder is not None:
        raise Conflict(
            f"{link.platform} account {link.account_id} on {link.site} is already linked to another member "
            f"(link {holder.id}); one platform account links to at most one member"
        )
    try:
        with conn.begin_nested():
            conn.execute(
                update(PLATFORM_LINKS)
                .where(PLATFORM_LINKS.c.id == link_id)
                .values(status="confirmed", confirmed_at=now, confirmed_by=actor)
            )
    except IntegrityError:  # a concurrent confirmation of the same account won the race
        raise Conflict(
            f"{link.platform} account {link.account_id} on {link.site} was just linked to another member"
        ) from None
    confirmed = _row(conn, link_id)
    _event(conn, confirmed, "confirmed", actor, now)
    return confirmed


def unlink(
    conn: Connection,
    link_id: int,
    actor: str,
    now: datetime,
    member_id: int | None = None,
    allowed: Callable[[Link], None] | None = None,
) -> Link:
    """End a link (requested or confirmed). With `member_id`, only that member's link may be ended;
    `allowed` may refuse (raise) once the link is known."""
    link = _row(conn, link_id, lock=True)
    if member_id is not None and link.member_id != member_id:
        raise NotFound(f"link {link_id} does not exist for member {member_id}")
    if allowed is not None:
        allowed(link)
    if link.status == "unlinked":
        raise Conflict(f"link {link_id} is already unlinked")
    conn.execute(
        update(PLATFORM_LINKS).where(PLATFORM_LINKS.c.id == link_id).values(status="unlinked", unlinked_at=now)
    )
    ended = _row(conn, link_id)
    _event(conn, ended, "unlinked", actor, now)
    return ended


def member_links(conn: Connection, member_id: int) -> list[Link]:
    rows = conn.execute(
        select(PLATFORM_LINKS).where(PLATFORM_LINKS.c.member_id == member_id).order_by(PLATFORM_LINKS.c.id)
    ).all()
    return [Link(**row._mapping) for row in rows]


def link_history(
    conn: Connection, platform: str, site: str, account_id: str, viewer: int | None = None
) -> list[dict[str, Any]]:
    """The audit trail of one platform account: who claimed it, who confirmed, who unlinked, when.

    With `viewer` (a member id), the trail is shown as that member may see it: other members' events keep
    their action and time but not their member or link id, and actors are shown by role, never by key id.
    """
    rows = conn.execute(
        select(LINK_EVENTS)
        .where(LINK_EVENTS.c.platform == platform, LINK_EVENTS.c.site == site, LINK_EVENTS.c.account_id == account_id)
        .order_by(LINK_EVENTS.c.id)
    ).all()
    if viewer is None:
        return [
            {"link_id": row.link_id, "member_id": row.member_id, "action": row.action, "actor": row.actor,
             "at": row.at.isoformat()}
            for row in rows
        ]  # fmt: skip
    return [
        {
            "link_id": row.link_id if row.member_id == viewer else None,
            "member_id": row.member_id if row.member_id == viewer else None,
            "action": row.action,
            "actor": row.actor.split(":", 1)[0],  # the role (member, platform, admin), never the key id
            "at": row.at.isoformat(),
        }
        for row in rows
    ]
