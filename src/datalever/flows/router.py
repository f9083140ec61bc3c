"""HTTP API of the flows part (mounted under /v1/flows by the service).

* coalitions and their members (admin, platform keys);
* data-use preferences: GET (any key) and PUT (admin, platform); versioned, never overwritten;
* exports for crawlers, public like any robots.txt: robots.txt, tdmrep.json, ai.txt;
* a member's flow report (the member or an admin; opening it is recorded: the 'aware' threshold);
* what-ifs (POST with Idempotency-Key; stored: the 'can reason' threshold);
* monthly alignment scores: PUT recomputes and stores a month (admin), GET reads them (any key).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, HTTPException, Path, Query, Request, Response, status
from fastapi.responses import JSONResponse, PlainTextResponse
from pydantic import BaseModel, ConfigDict, Field

from datalever import canonical
from datalever.documents import ConfigError
from datalever.flows import alignment, store
from datalever.flows.catalog import FlowCatalog, load_catalog
from datalever.flows.prefs import ai_txt, robots_txt, tdmrep_json, validate_preferences
from datalever.flows.trace import trace
from datalever.flows.whatif import WhatIfError, what_if
from datalever.ledger.db import READONLY
from datalever.ledger.errors import BadRequest, NotFound
from datalever.ledger.posting import Ledger, Posting
from datalever.web.auth import check_member_access, require_roles
from datalever.web.deps import IdempotencyKey, MemberPath, MonthPath, get_ledger, idempotency, respond
from datalever.web.keys import Principal, Role

router = APIRouter(prefix="/v1/flows", tags=["flows"])

PREFERENCES_BODY = (
    "A preferences document, as in a preferences file (docs/flows.md): `coalition`, `rules`, `paths`. "
    "Checked like a file; what breaks a rule the schema cannot express (a rule with two targets, conflicting "
    "rules, an unknown crawler, a coalition other than the path's) is a 400 naming the problem."
)

CoalitionPath = Annotated[canonical.Name, Path(description="A coalition id (lowercase slug).")]
SystemPath = Annotated[canonical.Name, Path(description="A catalog model id, e.g. llama-65b.")]
ANY_KEY = (Role.ADMIN, Role.OPERATOR, Role.MEMBER, Role.PLATFORM)

_catalog: FlowCatalog | None = None


def catalog() -> FlowCatalog:
    """The packaged catalog, validated once per process."""
    global _catalog
    if _catalog is None:
        _catalog = load_catalog()
    return _catalog


Cost = canonical.int_type("change_cost", 0, 2**31 - 1, text=False)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CoalitionIn(Strict):
    name: canonical.text_type(200, "name") | None = None  # type: ignore[valid-type]
    change_cost: Cost = Field(description="Credits for a member to change the coalition's flow.")  # type: ignore[valid-type]


class CoalitionMemberIn(Strict):
    change_cost: Cost | None = Field(None, description="This member's own cost, if it differs.")  # type: ignore[valid-type]


class WhatIfIn(Strict):
    coalition: canonical.Name
    withheld: canonical.Name = Field(description="Catalog node whose tokens are withheld.")
    system: canonical.Name = Field(description="Catalog model id.")


def _not_found(error: store.StoreError) -> HTTPException:
    return HTTPException(status.HTTP_404_NOT_FOUND, str(error))


@router.put("/coalitions/{coalition}", responses={201: {"description": "Created (200: updated)"}})
def put_coalition(
    coalition: CoalitionPath,
    body: CoalitionIn,
    response: Response,
    _principal: Principal = Depends(require_roles(Role.ADMIN, Role.PLATFORM)),
    ledger: Ledger = Depends(get_ledger),
) -> dict[str, Any]:
    """Create or update a coalition (PUT is idempotent: repeating it changes nothing more)."""
    with ledger.engine.begin() as conn:
        created = store.put_coalition(conn, coalition, body.name, body.change_cost, ledger.clock())
    response.status_code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
    return {"id": coalition, "name": body.name, "change_cost": body.change_cost}


@router.put("/coalitions/{coalition}/members/{member_id}", responses={201: {"description": "Added (200: updated)"}})
def put_coalition_member(
    coalition: CoalitionPath,
    member_id: MemberPath,
    body: CoalitionMemberIn,
    response: Response,
    _principal: Principal = Depends(require_roles(Role.ADMIN, Role.PLATFORM)),
    ledger: Ledger = Depends(get_ledger),
) -> dict[str, Any]:
    try:
        with ledger.engine.begin() as conn:
            created = store.put_member(conn, coalition, member_id, body.change_cost, ledger.clock())
    except store.StoreError as error:
        raise _not_found(error) from None
    response.status_code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
    return {"coalition": coalition, "member_id": member_id, "change_cost": body.change_cost}


@router.get("/coalitions/{coalition}/preferences")
def get_preferences(
    coalition: CoalitionPath,
    _principal: Principal = Depends(require_roles(*ANY_KEY)),
    ledger: Ledger = Depends(get_ledger),
) -> dict[str, Any]:
    with ledger.engine.connect().execution_options(**READONLY) as conn:
        found = store.get_preferences(conn, coalition)
    if found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"coalition '{coalition}' has no preferences yet")
    version, prefs = found
    return {"version": version, "preferences": prefs.model_dump(mode="json")}


@router.put(
    "/coalitions/{coalition}/preferences",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {"type": "object", "description": PREFERENCES_BODY}}},
        }
    },
)
def put_preferences(
    coalition: CoalitionPath,
    body: Annotated[dict[str, Any], Body()],
    principal: Principal = Depends(require_roles(Role.ADMIN, Role.PLATFORM)),
    ledger: Ledger = Depends(get_ledger),
) -> dict[str, Any]:
    """Store a new version of the preferences (validated like a preferences file; 422 names the problem)."""
    try:
        prefs = validate_preferences(body)
    except ConfigError as error:  # the schema cannot say it (see PREFERENCES_BODY): a rule refusal, 400
        raise BadRequest("invalid preferences: " + "; ".join(error.problems)) from None
    if prefs.coalition != coalition:
        raise BadRequest(f"coalition: the body says '{prefs.coalition}' but the path says '{coalition}'")
    try:
        with ledger.engine.begin() as conn:
            version = store.put_preferences(conn, prefs, principal.key_id, ledger.clock())
    except store.StoreError as error:
        raise _not_found(error) from None
    return {"version": version, "preferences": prefs.model_dump(mode="json")}


def _stored_prefs(ledger: Ledger, coalition: str) -> Any:
    with ledger.engine.connect().execution_options(**READONLY) as conn:
        found = store.get_preferences(conn, coalition)
    if found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"coalition '{coalition}' has no preferences yet")
    return found[1]


@router.get("/coalitions/{coalition}/robots.txt", response_class=PlainTextResponse)
def get_robots(coalition: CoalitionPath, ledger: Ledger = Depends(get_ledger)) -> str:
    """robots.txt groups for AI crawlers, from the latest preferences (public, like any robots.txt)."""
    return robots_txt(_stored_prefs(ledger, coalition))


@router.get("/coalitions/{coalition}/tdmrep.json")
def get_tdmrep(coalition: CoalitionPath, ledger: Ledger = Depends(get_ledger)) -> Response:
    """The coalition's `/.well-known/tdmrep.json` (W3C TDMRep)."""
    return Response(tdmrep_json(_stored_prefs(ledger, coalition)), media_type="application/json")


@router.get("/coalitions/{coalition}/ai.txt", response_class=PlainTextResponse)
def get_ai_txt(coalition: CoalitionPath, ledger: Ledger = Depends(get_ledger)) -> str:
    return ai_txt(_stored_prefs(ledger, coalition))


@router.get("/members/{member_id}/report")
def get_report(
    member_id: MemberPath,
    coalition: Annotated[canonical.Name, Query(description="The coalition's id.")],
    node: Annotated[
        canonical.Name | None, Query(description="Catalog node to trace (default: the coalition's id).")
    ] = None,
    principal: Principal = Depends(require_roles(Role.ADMIN, Role.MEMBER)),
    ledger: Ledger = Depends(get_ledger),
) -> dict[str, Any]:
    """A member's flow report: where their coalition's data goes. Opening it is recorded (awareness)."""
    check_member_access(principal, member_id)
    flows = catalog()
    target = node or coalition
    if target not in flows.nodes:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND,
            f"'{target}' is not a node of the flow catalog; pass node= with the platform or community it feeds",
        )
    result = trace(flows, target)
    with ledger.engine.begin() as conn:
        if not store.is_member(conn, coalition, member_id):
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"member {member_id} is not in coalition '{coalition}'")
        if principal.role is Role.MEMBER:
            store.record_view(conn, coalition, member_id, ledger.clock())
    return result.as_dict(flows)


@router.post("/whatifs", status_code=201)
def post_whatif(
    body: WhatIfIn,
    request: Request,
    key: IdempotencyKey,
    principal: Principal = Depends(require_roles(Role.ADMIN, Role.PLATFORM, Role.MEMBER)),
    ledger: Ledger = Depends(get_ledger),
) -> JSONResponse:
    """Compute and store a what-if for a coalition and a system (once per Idempotency-Key)."""
    try:
        result = what_if(catalog(), body.withheld, body.system).as_dict()
    except (WhatIfError, KeyError) as error:  # a node or model the catalog does not have
        raise NotFound(str(error.args[0] if error.args else error)) from None

    def work(posting: Posting) -> tuple[int, dict[str, Any]]:
        try:
            whatif_id = store.store_whatif(
                posting.conn, body.coalition, body.system, body.withheld, result, posting.now
            )
        except store.StoreError as error:
            raise NotFound(str(error)) from None
        return 201, {"id": whatif_id, "coalition": body.coalition, **result}

    return respond(ledger.execute(idempotency(principal, key, request, body), "flows_whatif", work))


@router.put("/alignment/{system}/{month}")
def compute_alignment(
    system: SystemPath,
    month: MonthPath,
    _principal: Principal = Depends(require_roles(Role.ADMIN)),
    ledger: Ledger = Depends(get_ledger),
) -> dict[str, Any]:
    """(Re)compute and store a month's alignment scores from the stored records (idempotent)."""
    policy = ledger.policy.alignment
    with ledger.engine.begin() as conn:
        inputs = store.alignment_inputs(conn)
        report = alignment.report(inputs, system, policy, [month])
        store.store_report(conn, report, policy, ledger.clock())
    return report.as_dict()


@router.get("/alignment/{system}")
def get_alignment(
    system: SystemPath,
    month: Annotated[canonical.Month | None, Query(description="YYYY-MM; default: every stored month.")] = None,
    _principal: Principal = Depends(require_roles(*ANY_KEY)),
    ledger: Ledger = Depends(get_ledger),
) -> dict[str, Any]:
    """Stored monthly alignment scores and their concentration across coalitions (the trend)."""
    months = [month] if month is not None else None
    with ledger.engine.connect().execution_options(**READONLY) as conn:
        return store.stored_report(conn, system, months).as_dict()
