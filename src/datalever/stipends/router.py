"""HTTP API of the stipend part: links (member asks, platform confirms), platform activity, monthly payment."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema

from datalever import canonical
from datalever.importers import Contribution, parse_platform
from datalever.ledger.errors import BadRequest
from datalever.ledger.posting import Ledger, Posting
from datalever.stipends import links, payments
from datalever.stipends.contributions import store_contributions
from datalever.web.auth import check_member_access, check_platform_scope, require_roles
from datalever.web.deps import IdempotencyKey, MemberPath, MonthPath, get_ledger, idempotency, respond
from datalever.web.keys import Principal, Role

router = APIRouter(prefix="/v1", tags=["stipends"])

LinkPath = Annotated[canonical.IdParam, Path(description="A link id.")]
PlatformName = Literal["stackexchange", "github", "wikipedia"]
Site = Annotated[
    str,
    BeforeValidator(lambda value: canonical.parse_name(value, "site", 200)),
    WithJsonSchema({"type": "string", "minLength": 1, "maxLength": 200, "pattern": r"^[a-z0-9][a-z0-9._-]*$"}),
]
AccountId = canonical.ref_type(100, "account_id")
Int32 = canonical.int_type("value", -(2**31), 2**31 - 1, text=False)
OptionalText = canonical.text_type


class LinkIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    platform: PlatformName = Field(description="stackexchange, github or wikipedia.")
    site: Site | None = Field(default=None, description="e.g. stackoverflow.com (default per platform), lowercase.")
    account_id: AccountId = Field(description="The account's id on the platform.")  # type: ignore[valid-type]


class ContributionIn(Contribution):
    """A contribution reported over HTTP: the importers' record with bounds for every field (32-bit numbers,
    as stored; text without NUL, within its column), so bad input is a 422, never a database error."""

    site: Site
    user_id: AccountId  # type: ignore[valid-type]
    source_id: canonical.ref_type(100, "source_id")  # type: ignore[valid-type]
    user_name: OptionalText(200, "user_name") | None = None  # type: ignore[valid-type]
    score: Int32 | None = None  # type: ignore[valid-type]
    namespace: Int32 | None = None  # type: ignore[valid-type]
    size_change: Int32 | None = None  # type: ignore[valid-type]
    repository: OptionalText(200, "repository") | None = None  # type: ignore[valid-type]
    repository_owner: OptionalText(100, "repository_owner") | None = None  # type: ignore[valid-type]
    parent_id: OptionalText(100, "parent_id") | None = None  # type: ignore[valid-type]
    detail: OptionalText(4000, "detail") | None = None  # type: ignore[valid-type]
    url: OptionalText(2000, "url") | None = None  # type: ignore[valid-type]


class ContributionsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    contributions: list[ContributionIn] = Field(min_length=1, max_length=5000)


class RunIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    member_id: canonical.Id | None = Field(default=None, description="Pay only this member (default: everyone).")


def _actor(principal: Principal) -> str:
    return f"{principal.role.value}:{principal.key_id}"


def _in_scope(principal: Principal, link: links.Link) -> None:
    """A platform key may confirm or end only links of its own platform (and site)."""
    check_platform_scope(principal, link.platform, link.site)


@router.post("/members/{member_id}/links", status_code=201)
def request_link(
    member_id: MemberPath,
    body: LinkIn,
    request: Request,
    key: IdempotencyKey,
    principal: Principal = Depends(require_roles(Role.MEMBER, Role.ADMIN)),
    ledger: Ledger = Depends(get_ledger),
) -> JSONResponse:
    """A member claims a platform account; it counts once the platform confirms it."""
    check_member_access(principal, member_id)

    def work(posting: Posting) -> tuple[int, dict[str, Any]]:
        link = links.request_link(
            posting.conn, member_id, body.platform, body.site, body.account_id, _actor(principal), posting.now
        )
        return 201, link.body()

    return respond(
        ledger.execute(idempotency(principal, key, request, body), "link.request", work, member_id=member_id)
    )


@router.get("/members/{member_id}/links")
def list_links(
    member_id: MemberPath,
    principal: Principal = Depends(require_roles(Role.MEMBER, Role.ADMIN, Role.OPERATOR)),
    ledger: Ledger = Depends(get_ledger),
) -> dict[str, Any]:
    """A member's links (every status) with each account's audit trail."""
    check_member_access(principal, member_id)
    with ledger.engine.connect().execution_options(readonly=True) as conn:
        found = links.member_links(conn, member_id)
        full = principal.role is Role.ADMIN  # others see only this member's own events, and roles, not key ids
        return {
            "member_id": member_id,
            "links": [
                {
                    **link.body(),
                    "history": links.link_history(
                        conn, link.platform, link.site, link.account_id, viewer=None if full else member_id
                    ),
                }
                for link in found
            ],
        }


@router.post("/links/{link_id}/confirm")
def confirm_link(
    link_id: LinkPath,
    request: Request,
    key: IdempotencyKey,
    principal: Principal = Depends(require_roles(Role.PLATFORM)),
    ledger: Ledger = Depends(get_ledger),
) -> JSONResponse:
    """The platform vouches that the member owns the account (one member per platform account)."""

    def work(posting: Posting) -> tuple[int, dict[str, Any]]:
        confirmed = links.confirm_link(
            posting.conn, link_id, _actor(principal), posting.now, allowed=lambda link: _in_scope(principal, link)
        )
        return 200, confirmed.body()

    return respond(ledger.execute(idempotency(principal, key, request, None), "link.confirm", work))


@router.post("/links/{link_id}/unlink")
def unlink(
    link_id: LinkPath,
    request: Request,
    key: IdempotencyKey,
    principal: Principal = Depends(require_roles(Role.MEMBER, Role.ADMIN, Role.PLATFORM)),
    ledger: Ledger = Depends(get_ledger),
) -> JSONResponse:
    """End a link; a member key may only end its own member's links. Kept in the audit trail."""
    own = principal.member_id if principal.role is Role.MEMBER else None

    def work(posting: Posting) -> tuple[int, dict[str, Any]]:
        ended = links.unlink(
            posting.conn,
            link_id,
            _actor(principal),
            posting.now,
            member_id=own,
            allowed=lambda link: _in_scope(principal, link),
        )
        return 200, ended.body()

    return respond(ledger.execute(idempotency(principal, key, request, None), "link.unlink", work))


@router.post("/platforms/{platform}/contributions", status_code=201)
def report_contributions(
    platform: Annotated[PlatformName, Path(description="stackexchange, github or wikipedia.")],
    body: ContributionsIn,
    request: Request,
    key: IdempotencyKey,
    principal: Principal = Depends(require_roles(Role.PLATFORM)),
    ledger: Ledger = Depends(get_ledger),
) -> JSONResponse:
    """A platform reports normalized contributions; all are stored in one transaction, duplicates skipped."""
    which = parse_platform(platform)
    check_platform_scope(principal, which.value)
    if principal.site is not None:
        for contribution in body.contributions:
            check_platform_scope(principal, which.value, contribution.site)
    wrong = [c.source_id for c in body.contributions if c.platform is not which]
    if wrong:
        raise BadRequest(f"contributions {', '.join(wrong[:3])} are not {which.value} contributions")

    def work(posting: Posting) -> tuple[int, dict[str, Any]]:
        summary = store_contributions(
            posting.conn, body.contributions, which, f"api:{principal.key_id}", _actor(principal), posting.now
        )
        return 201, summary.body()

    return respond(ledger.execute(idempotency(principal, key, request, body), "contributions.import", work))


@router.post("/stipends/{month}/run")
def run_stipends(
    month: MonthPath,
    request: Request,
    key: IdempotencyKey,
    body: RunIn | None = None,
    principal: Principal = Depends(require_roles(Role.ADMIN)),
    ledger: Ledger = Depends(get_ledger),
) -> JSONResponse:
    """Pay the stipend for an ended month. Each member-month is paid once, however often this runs; a retry
    with the same Idempotency-Key returns the first run's report."""
    body = body or RunIn()
    idem = idempotency(principal, key, request, body)
    return respond(payments.run_month_once(ledger, idem, month, body.member_id))


@router.get("/stipends/{month}")
def stipend_report(
    month: MonthPath,
    principal: Principal = Depends(require_roles(Role.ADMIN, Role.OPERATOR)),
    ledger: Ledger = Depends(get_ledger),
) -> dict[str, Any]:
    """The month's report: who qualified, by which rule, and what was paid."""
    return payments.month_report(ledger, month).body(paid_now=False)
