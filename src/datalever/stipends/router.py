"""HTTP API of the stipend part: links (member asks, platform confirms), platform activity, monthly payment."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from datalever.importers import Contribution, parse_platform
from datalever.ledger.errors import BadRequest
from datalever.ledger.posting import Ledger, Posting
from datalever.stipends import links, payments
from datalever.stipends.contributions import store_contributions
from datalever.web.auth import check_member_access, require_roles
from datalever.web.deps import IdempotencyKey, MemberPath, get_ledger, idempotency, respond
from datalever.web.keys import Principal, Role

router = APIRouter(prefix="/v1", tags=["stipends"])

LinkPath = Annotated[int, Path(ge=1, le=2**31 - 1, description="A link id.")]
MonthPath = Annotated[str, Path(pattern=r"^\d{4}-\d{2}$", description="A calendar month, YYYY-MM.")]


class LinkIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    platform: str = Field(description="stackexchange, github or wikipedia.", max_length=40)
    site: str | None = Field(default=None, max_length=200, description="e.g. stackoverflow.com (default per platform).")
    account_id: str = Field(min_length=1, max_length=100, description="The account's id on the platform.")


class ContributionsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    contributions: list[Contribution] = Field(min_length=1, max_length=5000)


class RunIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    member_id: int | None = Field(default=None, ge=1, description="Pay only this member (default: everyone).")


def _actor(principal: Principal) -> str:
    return f"{principal.role.value}:{principal.key_id}"


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
        return {
            "member_id": member_id,
            "links": [
                {**link.body(), "history": links.link_history(conn, link.platform, link.site, link.account_id)}
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
        return 200, links.confirm_link(posting.conn, link_id, _actor(principal), posting.now).body()

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
        return 200, links.unlink(posting.conn, link_id, _actor(principal), posting.now, member_id=own).body()

    return respond(ledger.execute(idempotency(principal, key, request, None), "link.unlink", work))


@router.post("/platforms/{platform}/contributions", status_code=201)
def report_contributions(
    platform: str,
    body: ContributionsIn,
    request: Request,
    key: IdempotencyKey,
    principal: Principal = Depends(require_roles(Role.PLATFORM)),
    ledger: Ledger = Depends(get_ledger),
) -> JSONResponse:
    """A platform reports normalized contributions; all are stored in one transaction, duplicates skipped."""
    try:
        which = parse_platform(platform)
    except ValueError as error:
        raise BadRequest(str(error)) from None
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
    key: IdempotencyKey,
    body: RunIn | None = None,
    principal: Principal = Depends(require_roles(Role.ADMIN)),
    ledger: Ledger = Depends(get_ledger),
) -> dict[str, Any]:
    """Pay the stipend for an ended month. Each member-month is paid once, however often this runs."""
    report = payments.run_month(ledger, month, body.member_id if body else None)
    return report.body()


@router.get("/stipends/{month}")
def stipend_report(
    month: MonthPath,
    principal: Principal = Depends(require_roles(Role.ADMIN, Role.OPERATOR)),
    ledger: Ledger = Depends(get_ledger),
) -> dict[str, Any]:
    """The month's report: who qualified, by which rule, and what was paid."""
    return payments.month_report(ledger, month).body(paid_now=False)
