"""HTTP API of the pools part, under /v1/pools.

Roles: admins set up communities and add members; members (their own key) join through a linked account,
donate and vote; admins and operators run valuations, fund pools and tally proposals; proposals and their
published tallies are public (per-option totals only, never who voted how).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request, Response, status
from fastapi.responses import JSONResponse
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from datalever.canonical import Month
from datalever.ledger.db import READONLY
from datalever.ledger.posting import Ledger
from datalever.pools import operations, storage
from datalever.pools.valuation import catalog
from datalever.web.auth import check_member_access, require_roles
from datalever.web.deps import MAX_ID, IdempotencyKey, MemberPath, MonthPath, get_ledger, idempotency, respond
from datalever.web.keys import Principal, Role

router = APIRouter(prefix="/v1/pools", tags=["pools"])

CommunityPath = Annotated[str, Path(min_length=1, max_length=120, pattern=r"^[a-z0-9][a-z0-9._-]*$")]
ProposalPath = Annotated[int, Path(ge=1, le=MAX_ID, description="A proposal id.")]
Credits = Annotated[int, Field(gt=0, le=2**31 - 1)]
ANY_KEY = (Role.ADMIN, Role.OPERATOR, Role.MEMBER, Role.PLATFORM)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CommunityIn(Strict):
    name: str | None = Field(None, max_length=200)
    nodes: list[Annotated[str, Field(min_length=1, max_length=120)]] = Field(
        min_length=1, max_length=50, description="Flow-catalog nodes whose data is the community's."
    )
    link_platform: Literal["stackexchange", "github", "wikipedia"] | None = Field(
        None, description="Members with a confirmed linked account on this platform may join."
    )
    link_site: str | None = Field(
        None, max_length=200, description="...on this site (e.g. bicycles.stackexchange.com)."
    )
    change_cost: int | None = Field(None, ge=0, le=2**31 - 1)


class DonationIn(Strict):
    member_id: int = Field(ge=1, le=MAX_ID)
    amount: Credits


class ValuationIn(Strict):
    month: Month
    method: Literal["token_share", "leave_one_out", "shapley"] | None = None
    model: str | None = Field(None, min_length=1, max_length=120)
    communities: list[Annotated[str, Field(min_length=1, max_length=120)]] | None = Field(None, max_length=200)


class ProjectIn(Strict):
    title: str = Field(min_length=1, max_length=200)
    cost: Credits
    recipient_member_id: int = Field(ge=1, le=MAX_ID)


class ProposalIn(Strict):
    kind: Literal["data_use", "spending"]
    title: str = Field(min_length=1, max_length=200)
    description: str | None = Field(None, max_length=5000)
    opens_at: AwareDatetime | None = None
    closes_at: AwareDatetime | None = None
    preferences: dict[str, Any] | None = Field(None, description="data_use: the community's new preferences.")
    projects: list[ProjectIn] | None = Field(None, max_length=100, description="spending: projects with costs.")
    budget: Credits | None = Field(None, description="spending: credits of the pool the proposal allocates.")


class VoteIn(Strict):
    member_id: int = Field(ge=1, le=MAX_ID)
    option_id: int = Field(ge=0, le=1000)
    votes: int = Field(gt=0, le=10_000, description="Votes to buy now (added to those already held).")


def _actor(principal: Principal) -> str:
    return str(principal.key_id)


@router.put("/communities/{community}")
def put_community(
    community: CommunityPath,
    body: CommunityIn,
    response: Response,
    _principal: Principal = Depends(require_roles(Role.ADMIN)),
    ledger: Ledger = Depends(get_ledger),
) -> dict[str, Any]:
    """Create or update a community (a flows coalition) with its catalog nodes; opens its pool account."""
    created, body_out = operations.put_community(
        ledger, catalog(), community, body.name, body.nodes, body.link_platform, body.link_site, body.change_cost
    )
    response.status_code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
    return body_out


@router.get("/communities/{community}")
def get_community(
    community: CommunityPath,
    _principal: Principal = Depends(require_roles(*ANY_KEY)),
    ledger: Ledger = Depends(get_ledger),
) -> dict[str, Any]:
    """A community: its nodes, members count, pool balance and monthly fundings."""
    with ledger.engine.connect().execution_options(**READONLY) as conn:
        return operations.community_body(conn, community)


@router.put("/communities/{community}/members/{member_id}")
def join_community(
    community: CommunityPath,
    member_id: MemberPath,
    response: Response,
    principal: Principal = Depends(require_roles(Role.ADMIN, Role.MEMBER)),
    ledger: Ledger = Depends(get_ledger),
) -> dict[str, Any]:
    """Join: a member through a confirmed linked account on the community's platform, or added by an admin."""
    check_member_access(principal, member_id)
    created, body = operations.join(ledger, community, member_id, principal.role is Role.ADMIN, _actor(principal))
    response.status_code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
    return body


@router.post("/communities/{community}/donations", status_code=201)
def donate(
    community: CommunityPath,
    body: DonationIn,
    request: Request,
    key: IdempotencyKey,
    principal: Principal = Depends(require_roles(Role.MEMBER, Role.ADMIN)),
    ledger: Ledger = Depends(get_ledger),
) -> JSONResponse:
    """Donate the member's own credits to the community's pool (once per Idempotency-Key)."""
    check_member_access(principal, body.member_id)
    idem = idempotency(principal, key, request, body)
    return respond(operations.donate(ledger, idem, community, body.member_id, body.amount))


@router.post("/valuations", status_code=201)
def post_valuation(
    body: ValuationIn,
    request: Request,
    key: IdempotencyKey,
    principal: Principal = Depends(require_roles(Role.ADMIN, Role.OPERATOR)),
    ledger: Ledger = Depends(get_ledger),
) -> JSONResponse:
    """Value the communities for a month with the policy's method (or the one given); the run is stored."""
    idem = idempotency(principal, key, request, body)
    return respond(
        operations.run_valuation(
            ledger, idem, catalog(), body.month, _actor(principal), body.method, body.model, body.communities
        )
    )


@router.get("/valuations")
def get_valuations(
    month: Month | None = Query(None, description="Only this month's runs (YYYY-MM)."),
    _principal: Principal = Depends(require_roles(*ANY_KEY)),
    ledger: Ledger = Depends(get_ledger),
) -> dict[str, Any]:
    """Stored valuation runs with their inputs (catalog version, model, fit, method) and results."""
    with ledger.engine.connect().execution_options(**READONLY) as conn:
        runs = storage.valuations(conn, month)
    return {
        "runs": [
            {
                "id": r.id,
                "month": r.month,
                "created_at": r.created_at.isoformat(),
                "inputs": r.inputs,
                "result": r.result,
            }
            for r in runs
        ]
    }


@router.post("/funding/{month}")
def fund_month(
    month: MonthPath,
    principal: Principal = Depends(require_roles(Role.ADMIN, Role.OPERATOR)),
    ledger: Ledger = Depends(get_ledger),
) -> JSONResponse:
    """Fund the pools for an ended month, exactly once (a repeat returns the first run's allocations)."""
    return respond(operations.fund_month(ledger, catalog(), month, _actor(principal)))


@router.post("/communities/{community}/proposals", status_code=201)
def post_proposal(
    community: CommunityPath,
    body: ProposalIn,
    request: Request,
    key: IdempotencyKey,
    principal: Principal = Depends(require_roles(Role.ADMIN, Role.MEMBER)),
    ledger: Ledger = Depends(get_ledger),
) -> JSONResponse:
    """Open a data-use or pool-spending proposal (admins, or members of the community)."""
    if principal.role is Role.MEMBER:
        assert principal.member_id is not None
        with ledger.engine.connect().execution_options(**READONLY) as conn:
            if storage.membership(conn, community, principal.member_id) is None:
                from datalever.pools.errors import NotAMember

                raise NotAMember(f"member {principal.member_id} is not a member of community '{community}'")
    idem = idempotency(principal, key, request, body)
    data = body.model_dump()
    data["projects"] = [p.model_dump() for p in body.projects] if body.projects else None
    return respond(operations.create_proposal(ledger, idem, community, data, _actor(principal)))


@router.get("/communities/{community}/proposals")
def list_proposals(community: CommunityPath, ledger: Ledger = Depends(get_ledger)) -> dict[str, Any]:
    """The community's proposals with their published tallies (public)."""
    with ledger.engine.connect().execution_options(**READONLY) as conn:
        operations.community_body(conn, community)
        return {"proposals": [operations.proposal_body(conn, r.id) for r in storage.proposals(conn, community)]}


@router.get("/proposals/{proposal_id}")
def get_proposal(proposal_id: ProposalPath, ledger: Ledger = Depends(get_ledger)) -> dict[str, Any]:
    """A proposal and, once tallied, its per-option totals and outcome (public)."""
    with ledger.engine.connect().execution_options(**READONLY) as conn:
        return operations.proposal_body(conn, proposal_id)


@router.post("/proposals/{proposal_id}/votes", status_code=201)
def post_vote(
    proposal_id: ProposalPath,
    body: VoteIn,
    request: Request,
    key: IdempotencyKey,
    principal: Principal = Depends(require_roles(Role.MEMBER, Role.ADMIN)),
    ledger: Ledger = Depends(get_ledger),
) -> JSONResponse:
    """Buy votes on an option with the member's credits (cost, cap and window from the policy)."""
    check_member_access(principal, body.member_id)
    idem = idempotency(principal, key, request, body)
    return respond(operations.vote(ledger, idem, proposal_id, body.member_id, body.option_id, body.votes))


@router.get("/proposals/{proposal_id}/votes/{member_id}")
def get_member_votes(
    proposal_id: ProposalPath,
    member_id: MemberPath,
    principal: Principal = Depends(require_roles(Role.MEMBER, Role.ADMIN)),
    ledger: Ledger = Depends(get_ledger),
) -> dict[str, Any]:
    """A member's own votes on a proposal (only they and admins see them)."""
    check_member_access(principal, member_id)
    with ledger.engine.connect().execution_options(**READONLY) as conn:
        operations.proposal_body(conn, proposal_id)
        rows = storage.member_votes(conn, proposal_id, member_id)
    return {
        "proposal_id": proposal_id,
        "member_id": member_id,
        "votes": [
            {"option_id": r.option_id, "votes": r.votes, "credits": r.credits, "at": _iso(r.created_at)} for r in rows
        ],
    }


def _iso(moment: datetime) -> str:
    return moment.isoformat()


@router.post("/proposals/{proposal_id}/tally")
def post_tally(
    proposal_id: ProposalPath,
    principal: Principal = Depends(require_roles(Role.ADMIN, Role.OPERATOR)),
    ledger: Ledger = Depends(get_ledger),
) -> JSONResponse:
    """Tally a proposal whose window has ended, exactly once: adopt the data-use change or pay the projects."""
    return respond(operations.tally(ledger, proposal_id, _actor(principal)))
