"""HTTP of the web app: server-rendered pages at `/`, the directory's JSON API, sign-in codes, offline `/docs`.

Pages answer HTML (never the API's JSON error shape); every state-changing form is a POST that carries the
session's CSRF token; a missing or expired session redirects to the sign-in page.
"""

from __future__ import annotations

import csv
import io
import json
import secrets
from collections.abc import Iterator
from datetime import date, datetime
from typing import Annotated, Any
from urllib.parse import parse_qsl, quote, urlsplit

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import Connection

from datalever.flows.router import catalog
from datalever.ledger.db import READONLY
from datalever.ledger.errors import LedgerError
from datalever.ledger.posting import Ledger
from datalever.stipends import links as link_store
from datalever.web.auth import require_roles
from datalever.web.deps import get_ledger
from datalever.web.errors import status_of
from datalever.web.keys import Principal, Role
from datalever.webapp import directory, economics, views
from datalever.webapp.pages import render, static_file
from datalever.webapp.pools_view import PoolsView
from datalever.webapp.seed import LeverEntry
from datalever.webapp.sessions import (
    SESSION_HOURS,
    SignInRefused,
    WebUser,
    create_code,
    csrf_ok,
    end_session,
    load_session,
    redeem_code,
)

SESSION_COOKIE = "__Host-dl_session"
SIGNIN_COOKIE = "__Host-dl_signin"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
MAX_FORM_BYTES = 20_000

pages = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/v1", tags=["web"])
router = APIRouter()


# ---------------------------------------------------------------- plumbing


def _ledger(request: Request) -> Ledger:
    ledger: Ledger = request.app.state.ledger
    return ledger


def _read(request: Request) -> Connection:
    return _ledger(request).engine.connect().execution_options(**READONLY)


def _now(request: Request) -> datetime:
    return _ledger(request).clock()


def current_user(request: Request) -> WebUser | None:
    """The signed-in user of this request (looked up once per request)."""
    if "web_user" not in request.state._state:
        with _read(request) as conn:
            request.state.web_user = load_session(conn, request.cookies.get(SESSION_COOKIE), _now(request))
    user: WebUser | None = request.state.web_user
    return user


def _safe_next(target: str | None) -> str:
    """Only local paths: an open redirect would let a link send a freshly signed-in member elsewhere."""
    if not target or not target.startswith("/") or target.startswith("//") or urlsplit(target).netloc:
        return "/"
    return target


def _to_signin(request: Request) -> Response:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    location = f"/signin?next={quote(target, safe='/')}"
    if request.headers.get("HX-Request"):
        return Response(status_code=204, headers={"HX-Redirect": location})
    return RedirectResponse(location, status_code=303)


def page(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    user = current_user(request)
    policy = _ledger(request).policy
    return render(
        template,
        status_code,
        request=request,
        user=user,
        csrf=user.csrf_token if user else "",
        policy=policy,
        **context,
    )


def error_page(request: Request, status_code: int, title: str, message: str) -> HTMLResponse:
    return page(request, "error.html.j2", status_code, title=title, message=message)


async def form_data(request: Request) -> dict[str, str]:
    """The posted url-encoded form as plain strings (bounded size; a repeated field keeps its last value).

    Every form of the app is url-encoded (none uploads files), so the standard library parses it.
    """
    body = await request.body()
    if len(body) > MAX_FORM_BYTES or not request.headers.get("content-type", "").startswith(
        "application/x-www-form-urlencoded"
    ):
        return {}
    return dict(parse_qsl(body.decode("utf-8", errors="replace"), keep_blank_values=True))


async def _guard(request: Request, roles: tuple[str, ...]) -> tuple[WebUser, dict[str, str]] | Response:
    """The signed-in user with one of `roles` and the posted form with a valid CSRF token, or the refusal."""
    user = current_user(request)
    if user is None:
        return _to_signin(request)
    form = await form_data(request)
    if not csrf_ok(user.csrf_token, form.get(CSRF_FIELD) or request.headers.get(CSRF_HEADER)):
        return error_page(
            request,
            403,
            "Form refused",
            "This form has expired or did not come from this site. Go back, reload the page and try again.",
        )
    if user.role not in roles:
        return error_page(request, 403, "Not allowed", "Your account may not do this.")
    return user, form


def _view_guard(request: Request, roles: tuple[str, ...]) -> WebUser | Response:
    user = current_user(request)
    if user is None:
        return _to_signin(request)
    if user.role not in roles:
        return error_page(request, 403, "Not allowed", "This page is for another kind of account.")
    return user


def _pools_view(request: Request) -> PoolsView | None:
    view: PoolsView | None = getattr(request.app.state, "pools_view", None)
    return view


# ---------------------------------------------------------------- static files and offline docs


@pages.get("/static/{path:path}")
def static(path: str) -> Response:
    found = static_file(path)
    if found is None:
        return Response("not found", status_code=404, media_type="text/plain")
    content, media_type = found
    return Response(content, media_type=media_type, headers={"Cache-Control": "public, max-age=86400"})


@pages.get("/docs")
def docs(request: Request) -> HTMLResponse:
    """Swagger UI from the package's own copy of swagger-ui-dist: works without internet."""
    response = render(
        "docs.html.j2",
        200,
        request=request,
        openapi_url=request.app.openapi_url or "/openapi.json",
        title=request.app.title,
    )
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    )
    return response


# ---------------------------------------------------------------- sign-in and out


@pages.get("/")
def home(request: Request) -> Response:
    user = current_user(request)
    if user is not None:
        return RedirectResponse("/operator" if user.is_staff else "/me", status_code=303)
    with _read(request) as conn:
        count = len(directory.listing(conn))
    return page(request, "home.html.j2", levers=count)


def _signin_page(
    request: Request, code: str = "", error: str | None = None, status_code: int = 200, next_path: str = "/"
) -> HTMLResponse:
    token = request.cookies.get(SIGNIN_COOKIE) or secrets.token_urlsafe(32)
    response = page(
        request, "signin.html.j2", status_code, code=code, error=error, signin_token=token, next_path=next_path
    )
    response.set_cookie(SIGNIN_COOKIE, token, max_age=3600, secure=True, httponly=True, samesite="strict", path="/")
    response.headers["Referrer-Policy"] = "no-referrer"  # a sign-in link's code must not leak to other sites
    return response


@pages.get("/signin")
def signin_form(request: Request, code: str = "", next: str = "/") -> Response:
    return _signin_page(request, code=code[:40], next_path=_safe_next(next))


@pages.post("/signin")
async def signin(request: Request) -> Response:
    form = await form_data(request)
    next_path = _safe_next(form.get("next"))
    expected = request.cookies.get(SIGNIN_COOKIE)
    if not expected or not csrf_ok(expected, form.get(CSRF_FIELD)):
        return error_page(
            request, 403, "Form refused", "This sign-in form has expired. Reload the sign-in page and try again."
        )
    code = form.get("code", "")[:40]
    client = request.client.host if request.client else "unknown"
    ledger = _ledger(request)
    failed: SignInRefused | None = None
    with ledger.engine.begin() as conn:  # commits a refusal too, so failures count towards the rate limit
        try:
            user, token = redeem_code(conn, code, client, ledger.clock())
        except SignInRefused as refusal:
            failed = refusal
    if failed is not None:
        return _signin_page(request, code, failed.message, 429 if failed.rate_limited else 400, next_path)
    response = RedirectResponse(
        next_path if next_path != "/" else ("/operator" if user.is_staff else "/me"), status_code=303
    )
    response.set_cookie(
        SESSION_COOKIE, token, max_age=SESSION_HOURS * 3600, secure=True, httponly=True, samesite="lax", path="/"
    )
    response.delete_cookie(SIGNIN_COOKIE, path="/", secure=True, httponly=True, samesite="strict")
    return response


@pages.post("/signout")
async def signout(request: Request) -> Response:
    guarded = await _guard(request, ("admin", "operator", "member"))
    if isinstance(guarded, Response):
        return guarded
    user, _form = guarded
    ledger = _ledger(request)
    with ledger.engine.begin() as conn:
        end_session(conn, user.session_id, ledger.clock())
    response = RedirectResponse("/signin?signed_out=1", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/", secure=True, httponly=True, samesite="lax")
    return response


# ---------------------------------------------------------------- member pages


@pages.get("/me")
def member_home(request: Request) -> Response:
    user = _view_guard(request, ("member",))
    if isinstance(user, Response):
        return user
    assert user.member_id is not None
    ledger = _ledger(request)
    now = ledger.clock()
    with _read(request) as conn:
        return page(
            request,
            "member.html.j2",
            balance=views.balance(conn, user.member_id, now),
            profile=views.member_profile(conn, user.member_id),
            stipend=views.stipend_progress(conn, user.member_id, ledger.policy, now),
            now=now,
        )


def _history_filter(
    kind: str | None, direction: str | None, start: str | None, end: str | None, before: int | None
) -> tuple[views.HistoryFilter, dict[str, str]]:
    errors: dict[str, str] = {}

    def day(name: str, text: str | None) -> date | None:
        if not text:
            return None
        try:
            return date.fromisoformat(text)
        except ValueError:
            errors[name] = "Enter a date as YYYY-MM-DD."
            return None

    start_day, end_day = day("from", start), day("to", end)
    if start_day and end_day and start_day > end_day:
        errors["to"] = "The end date is before the start date."
    if direction not in (None, "", "in", "out"):
        errors["direction"] = "Choose in, out or both."
        direction = None
    filters = views.HistoryFilter((kind or None) and kind[:40], direction or None, start_day, end_day, before)
    return filters, errors


@pages.get("/me/history")
def member_history(
    request: Request,
    kind: str | None = None,
    direction: str | None = None,
    from_: Annotated[str | None, Query(alias="from")] = None,
    to: str | None = None,
    before: Annotated[int | None, Query(ge=1, le=2**62)] = None,
) -> Response:
    user = _view_guard(request, ("member",))
    if isinstance(user, Response):
        return user
    assert user.member_id is not None
    filters, errors = _history_filter(kind, direction, from_, to, before)
    with _read(request) as conn:
        entries = [] if errors else views.history(conn, user.member_id, filters)
        kinds = views.history_kinds(conn, user.member_id)
    query = {"kind": kind or "", "direction": direction or "", "from": from_ or "", "to": to or ""}
    template = "_history_rows.html.j2" if request.headers.get("HX-Request") and not errors else "history.html.j2"
    return page(
        request,
        template,
        400 if errors else 200,
        entries=entries,
        kinds=kinds,
        query=query,
        errors=errors,
        next_before=entries[-1]["id"] if len(entries) == views.HISTORY_PAGE else None,
    )


@pages.get("/me/history.csv")
def member_history_csv(
    request: Request,
    kind: str | None = None,
    direction: str | None = None,
    from_: Annotated[str | None, Query(alias="from")] = None,
    to: str | None = None,
) -> Response:
    user = _view_guard(request, ("member",))
    if isinstance(user, Response):
        return user
    assert user.member_id is not None
    filters, errors = _history_filter(kind, direction, from_, to, None)
    if errors:
        return error_page(request, 400, "Check the filters", "; ".join(errors.values()))
    member_id = user.member_id
    ledger = _ledger(request)

    def lines() -> Iterator[str]:
        with ledger.engine.connect().execution_options(**READONLY) as conn:
            yield from views.history_csv(conn, member_id, filters)

    return StreamingResponse(
        lines(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="datalever-member-{member_id}-history.csv"'},
    )


@pages.get("/me/links")
def member_links(request: Request) -> Response:
    user = _view_guard(request, ("member",))
    if isinstance(user, Response):
        return user
    assert user.member_id is not None
    with _read(request) as conn:
        return page(request, "links.html.j2", links=views.links(conn, user.member_id), form={}, errors={})


@pages.post("/me/links")
async def member_link_request(request: Request) -> Response:
    guarded = await _guard(request, ("member",))
    if isinstance(guarded, Response):
        return guarded
    user, form = guarded
    assert user.member_id is not None
    member_id = user.member_id
    platform, site, account = form.get("platform", ""), form.get("site", ""), form.get("account_id", "")
    errors: dict[str, str] = {}
    if platform not in ("stackexchange", "github", "wikipedia"):
        errors["platform"] = "Choose Stack Exchange, GitHub or Wikipedia."
    if not account.strip():
        errors["account_id"] = "Enter your account's id on the platform."
    elif len(account) > 100:
        errors["account_id"] = "At most 100 characters."
    if platform == "stackexchange" and not site.strip():
        errors["site"] = "Stack Exchange accounts are per site: enter the site, e.g. stackoverflow.com."
    if len(site) > 200:
        errors["site"] = "At most 200 characters."
    ledger = _ledger(request)
    if not errors:
        try:
            with ledger.engine.begin() as conn:
                link_store.request_link(
                    conn, member_id, platform, site or None, account, f"web:member:{member_id}", ledger.clock()
                )
        except LedgerError as error:
            errors["account_id"] = error.message
    if errors:
        with _read(request) as conn:
            return page(request, "links.html.j2", 400, links=views.links(conn, member_id), form=form, errors=errors)
    return RedirectResponse("/me/links?requested=1", status_code=303)


@pages.post("/me/links/{link_id}/unlink")
async def member_unlink(request: Request, link_id: int) -> Response:
    guarded = await _guard(request, ("member",))
    if isinstance(guarded, Response):
        return guarded
    user, _form = guarded
    ledger = _ledger(request)
    try:
        with ledger.engine.begin() as conn:
            link_store.unlink(conn, link_id, f"web:member:{user.member_id}", ledger.clock(), member_id=user.member_id)
    except LedgerError as error:
        return error_page(request, status_of(error), "Could not unlink", error.message)
    return RedirectResponse("/me/links?unlinked=1", status_code=303)


@pages.get("/me/communities")
def member_communities(request: Request) -> Response:
    user = _view_guard(request, ("member",))
    if isinstance(user, Response):
        return user
    assert user.member_id is not None
    flows = catalog()
    pools = _pools_view(request)
    with _read(request) as conn:
        found = []
        for row in views.communities_of(conn, user.member_id):
            found.append(
                {
                    "row": row,
                    "picture": views.flow_picture(flows, row.id),
                    "preferences": views.preferences(conn, row.id),
                    "pool": pools.pool(conn, row.id) if pools else None,
                    "proposals": pools.proposals(conn, row.id) if pools else [],
                }
            )
    return page(request, "communities.html.j2", communities=found, pools_available=pools is not None)


# ---------------------------------------------------------------- community and operator pages


@pages.get("/communities/{community_id}")
def community_page(request: Request, community_id: str) -> Response:
    user = _view_guard(request, ("member", "admin", "operator"))
    if isinstance(user, Response):
        return user
    pools = _pools_view(request)
    with _read(request) as conn:
        found = views.community(conn, community_id[:120])
        if found is None:
            return error_page(request, 404, "No such community", "There is no community with this id.")
        series = views.alignment_series(conn, community_id)
        from datalever.webapp.charts import lines

        charts = [
            lines(
                f"Alignment score with {system}",
                [m for m, _ in points],
                {"score": [s * 100 for _, s in points]},
                "{:.0f}%",
            )
            for system, points in series.items()
        ]
        return page(
            request,
            "community.html.j2",
            community=found,
            preferences=views.preferences(conn, community_id),
            picture=views.flow_picture(catalog(), community_id),
            alignment=series,
            charts=charts,
            pools_available=pools is not None,
            pool=pools.pool(conn, community_id) if pools else None,
            valuations=pools.valuations(conn, community_id) if pools else [],
            proposals=pools.proposals(conn, community_id) if pools else [],
        )


def _estimate(text: str | None, default: float, name: str, errors: dict[str, str]) -> float:
    """A per-query estimate in cents from the operator's form (0 to 1000), or the default."""
    if text is None or text.strip() == "":
        return default
    try:
        value = float(text)
    except ValueError:
        errors[name] = "Enter a number of cents, e.g. 0.36."
        return default
    if not 0 <= value <= 1000:
        errors[name] = "Enter between 0 and 1000 cents."
        return default
    return value


@pages.post("/communities/{community_id}/proposals/{proposal_id}/vote")
async def proposal_vote(request: Request, community_id: str, proposal_id: int) -> Response:
    """A member's vote through the pools part; without it, 404. The form's nonce makes a resubmission vote once."""
    guarded = await _guard(request, ("member",))
    if isinstance(guarded, Response):
        return guarded
    user, form = guarded
    assert user.member_id is not None
    pools = _pools_view(request)
    if pools is None:
        return error_page(request, 404, "Not available", "Votes are not available on this service yet.")
    option, nonce = form.get("option", "")[:200], form.get("nonce", "")[:100]
    try:
        votes = int(form.get("votes", ""))
    except ValueError:
        votes = 0
    if votes < 1 or not option or len(nonce) < 16:
        return error_page(request, 400, "Check your vote", "Choose an option and a whole number of votes (1 or more).")
    try:
        message = pools.vote(_ledger(request), user.member_id, proposal_id, option, votes, f"web-vote:{nonce}")
    except LedgerError as error:
        return error_page(request, status_of(error), "Vote refused", error.message)
    return RedirectResponse(f"/communities/{quote(community_id[:120])}?voted={quote(message[:200])}", status_code=303)


@pages.get("/operator")
def operator_page(request: Request, cost_cents: str | None = None, revenue_cents: str | None = None) -> Response:
    user = _view_guard(request, ("admin", "operator"))
    if isinstance(user, Response):
        return user
    from datalever.webapp import charts

    ledger = _ledger(request)
    now = ledger.clock()
    errors: dict[str, str] = {}
    cost = _estimate(cost_cents, economics.DEFAULT_COST_CENTS, "cost_cents", errors)
    revenue = _estimate(revenue_cents, economics.DEFAULT_REVENUE_CENTS, "revenue_cents", errors)
    with _read(request) as conn:
        data = economics.operator_view(ledger.engine, conn, ledger.policy, ledger.system_accounts(), now)
    months = data["months"]
    cost_series = [q * cost for q in data["queries"]]
    revenue_series = [q * revenue for q in data["queries"]]
    figures = [
        charts.stacked_bars("Credits issued per month, by source", months, data["by_flow"]["issued"]),
        charts.stacked_bars("Credits spent per month, by source of the credits", months, data["by_flow"]["spent"]),
        charts.stacked_bars("Credits expired per month, by source", months, data["by_flow"]["expired"]),
        charts.lines(
            "Outstanding liability at month end (cents)",
            [m for m, _ in data["liability_series"]],
            {"liability": [v for _, v in data["liability_series"]]},
        ),
        charts.lines("Queries charged per month", months, {"queries": data["queries"]}),
        charts.lines(
            "Estimated compute cost and revenue per month (cents)",
            months,
            {"compute cost": cost_series, "revenue": revenue_series},
            "{:,.2f}",
        ),
    ]
    estimates = {"cost_cents": cost, "revenue_cents": revenue, "cost": cost_series, "revenue": revenue_series}
    form = {"cost_cents": cost_cents or "", "revenue_cents": revenue_cents or ""}
    return page(
        request,
        "operator.html.j2",
        400 if errors else 200,
        data=data,
        figures=figures,
        now=now,
        estimates=estimates,
        errors=errors,
        form=form,
    )


@pages.get("/flows/nodes/{node_id}")
def node_page(request: Request, node_id: str) -> Response:
    found = views.catalog_node(catalog(), node_id[:120])
    if found is None:
        return error_page(request, 404, "Not in the catalog", "The flows catalog has no node with this id.")
    return page(request, "node.html.j2", node=found, node_id=node_id)


# ---------------------------------------------------------------- the data-levers directory


def _directory_query(q: str | None, lever: str | None, tag: str | None) -> tuple[str | None, str | None, str | None]:
    return (
        (q or "").strip()[:100] or None,
        lever if lever in directory.LEVER_LABELS else None,
        (tag or "").strip()[:30] or None,
    )


@pages.get("/levers")
def levers_page(request: Request, q: str | None = None, lever: str | None = None, tag: str | None = None) -> Response:
    text, lever_name, tag_name = _directory_query(q, lever, tag)
    user = current_user(request)
    with _read(request) as conn:
        found = directory.listing(conn, "approved", text, lever_name, tag_name)
        tags = directory.all_tags(conn)
        voted = directory.voted(conn, user.member_id) if user and user.member_id else set()
        mine = directory.submissions_of(conn, user.member_id) if user and user.member_id else []
    template = "_lever_list.html.j2" if request.headers.get("HX-Request") else "levers.html.j2"
    return page(
        request,
        template,
        levers=found,
        tags=tags,
        voted=voted,
        mine=mine,
        q=text or "",
        lever=lever_name or "",
        tag=tag_name or "",
        labels=directory.LEVER_LABELS,
    )


@pages.get("/levers/new")
def lever_new(request: Request) -> Response:
    user = _view_guard(request, ("member",))
    if isinstance(user, Response):
        return user
    return page(request, "lever_new.html.j2", form={}, errors={}, labels=directory.LEVER_LABELS)


FRIENDLY = {
    "title": "Give the entry a name of 3 to 200 characters.",
    "summary": "Say what it does in 20 to 2000 characters.",
    "lever": "Choose which lever it pulls.",
    "url": "Enter a web address starting with https:// (or http://).",
    "evidence_url": "Enter the evidence as a web address starting with https://.",
    "evidence_title": "Say in 3 to 300 characters what the link shows.",
}


def _entry_from_form(form: dict[str, str]) -> tuple[LeverEntry | None, dict[str, str]]:
    """Validate a submission; errors keyed by form field, in words a person can act on."""
    evidence = []
    for i in (1, 2, 3):
        url, title = form.get(f"evidence_url_{i}", "").strip(), form.get(f"evidence_title_{i}", "").strip()
        if url or title:
            evidence.append({"url": url, "title": title or url})
    data = {
        "title": form.get("title", "").strip(),
        "summary": form.get("summary", "").strip(),
        "lever": form.get("lever", ""),
        "url": form.get("url", "").strip(),
        "tags": [t for t in form.get("tags", "").replace(";", ",").split(",") if t.strip()],
        "nodes": [n for n in form.get("nodes", "").replace(";", ",").split(",") if n.strip()],
        "evidence": evidence,
    }
    errors: dict[str, str] = {}
    try:
        entry = LeverEntry.model_validate(data)
    except ValidationError as error:
        for problem in error.errors():
            loc = problem["loc"]
            name = str(loc[0]) if loc else "title"
            message = FRIENDLY.get(name) or str(problem["msg"]).removeprefix("Value error, ")
            if name == "evidence":
                name = f"evidence_{loc[2]}_{int(loc[1]) + 1}" if len(loc) > 2 else "evidence_url_1"
                message = FRIENDLY.get(name.rsplit("_", 1)[0], message)
                if not evidence:
                    message = "Add at least one evidence link (a source showing what it does)."
            errors.setdefault(name, message)
        return None, errors
    unknown = [node for node in entry.nodes if node not in catalog().nodes]
    if unknown:
        errors["nodes"] = f"{unknown[0]!r} is not in the flows catalog; leave it out or use an id from /flows/nodes"
        return None, errors
    return entry, errors


@pages.post("/levers")
async def lever_submit(request: Request) -> Response:
    guarded = await _guard(request, ("member",))
    if isinstance(guarded, Response):
        return guarded
    user, form = guarded
    entry, errors = _entry_from_form(form)
    if entry is None:
        return page(request, "lever_new.html.j2", 400, form=form, errors=errors, labels=directory.LEVER_LABELS)
    ledger = _ledger(request)
    with ledger.engine.begin() as conn:
        lever_id = directory.submit(conn, entry, user.member_id, ledger.clock())
    return RedirectResponse(f"/levers/{lever_id}?submitted=1", status_code=303)


@pages.get("/levers/moderation")
def lever_queue(request: Request) -> Response:
    user = _view_guard(request, ("admin",))
    if isinstance(user, Response):
        return user
    with _read(request) as conn:
        queue = directory.listing(conn, "pending")
    return page(request, "moderation.html.j2", queue=queue, labels=directory.LEVER_LABELS, errors={})


@pages.get("/levers/{lever_ref}")
def lever_page(request: Request, lever_ref: str) -> Response:
    user = current_user(request)
    with _read(request) as conn:
        try:
            found = directory.get(conn, int(lever_ref)) if lever_ref.isdigit() and len(lever_ref) < 10 else None
        except LedgerError:
            found = None
        voted = directory.voted(conn, user.member_id) if user and user.member_id else set()
    visible = found is not None and (
        found.status == "approved"
        or (user is not None and (user.role == "admin" or user.member_id == found.submitted_by))
    )
    if not visible or found is None:
        return error_page(request, 404, "Not in the directory", "There is no published entry with this number.")
    return page(
        request, "lever.html.j2", lever=found, voted=voted, labels=directory.LEVER_LABELS, nodes=catalog().nodes
    )


@pages.post("/levers/{lever_id}/moderate")
async def lever_moderate(request: Request, lever_id: int) -> Response:
    guarded = await _guard(request, ("admin",))
    if isinstance(guarded, Response):
        return guarded
    user, form = guarded
    decision = form.get("decision")
    reason = form.get("reason", "").strip()
    ledger = _ledger(request)
    if decision not in ("approve", "reject") or (decision == "reject" and not reason):
        with _read(request) as conn:
            queue = directory.listing(conn, "pending")
        message = "Give a reason the submitter can act on." if decision == "reject" else "Choose approve or reject."
        return page(
            request, "moderation.html.j2", 400, queue=queue, labels=directory.LEVER_LABELS, errors={lever_id: message}
        )
    try:
        with ledger.engine.begin() as conn:
            directory.moderate(
                conn, lever_id, decision == "approve", reason or None, f"web:{user.role}", ledger.clock()
            )
    except LedgerError as error:
        return error_page(request, status_of(error), "Could not moderate", error.message)
    return RedirectResponse("/levers/moderation?done=1", status_code=303)


@pages.post("/levers/{lever_id}/upvote")
async def lever_upvote(request: Request, lever_id: int) -> Response:
    guarded = await _guard(request, ("member",))
    if isinstance(guarded, Response):
        return guarded
    user, _form = guarded
    assert user.member_id is not None
    ledger = _ledger(request)
    try:
        with ledger.engine.begin() as conn:
            votes = directory.upvote(conn, lever_id, user.member_id, ledger.clock())
    except LedgerError as error:
        return error_page(request, status_of(error), "Could not upvote", error.message)
    if request.headers.get("HX-Request"):
        return page(request, "_vote.html.j2", lever_id=lever_id, votes=votes, has_voted=True)
    return RedirectResponse(f"/levers/{lever_id}", status_code=303)


# ---------------------------------------------------------------- JSON API


class LeverOut(LeverEntry):
    model_config = ConfigDict(extra="forbid")
    id: int
    lever_label: str
    status: str
    reject_reason: str | None
    submitted_at: str
    moderated_at: str | None
    votes: int


class LeverList(BaseModel):
    count: int
    levers: list[LeverOut]


LeverFilter = Annotated[
    str | None, Query(pattern="^(data_strike|conscious_data_contribution|data_poisoning|regulation|bargaining)$")
]


@api.get("/levers", response_model=LeverList)
def api_levers(
    request: Request,
    q: Annotated[str | None, Query(max_length=100, description="Words in the title, summary or tags.")] = None,
    lever: LeverFilter = None,
    tag: Annotated[str | None, Query(max_length=30)] = None,
) -> dict[str, Any]:
    """The public data-levers directory (approved entries, most upvoted first). No key needed."""
    with _read(request) as conn:
        found = directory.listing(conn, "approved", q, lever, tag)
    return {"count": len(found), "levers": [item.body() for item in found]}


@api.get(
    "/levers/export",
    response_model=None,
    responses={
        200: {
            "description": "The directory",
            "content": {"application/json": {}, "text/csv": {"schema": {"type": "string"}}},
        }
    },
)
def api_levers_export(request: Request, format: Annotated[str, Query(pattern="^(json|csv)$")] = "json") -> Response:
    """Every approved entry, as a JSON or CSV file to download (evidence as 'title <url>' joined by ' | ')."""
    with _read(request) as conn:
        found = directory.listing(conn, "approved")
    if format == "json":
        return Response(
            json.dumps([item.body() for item in found], ensure_ascii=False, indent=1),
            media_type="application/json",
            headers={"Content-Disposition": 'attachment; filename="datalever-levers.json"'},
        )
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["id", "title", "lever", "summary", "url", "tags", "nodes", "evidence", "votes"])
    for item in found:
        e = item.entry
        writer.writerow(
            [
                item.id,
                e.title,
                e.lever,
                e.summary,
                e.url,
                ";".join(e.tags),
                ";".join(e.nodes),
                " | ".join(f"{ev['title']} <{ev['url']}>" for ev in item.body()["evidence"]),
                item.votes,
            ]
        )
    return Response(
        buffer.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="datalever-levers.csv"'},
    )


class SignInCodeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: str = Field("member", pattern="^(admin|operator|member)$", description="Who the code signs in as.")
    member_id: int | None = Field(None, ge=1, le=2**31 - 1, description="For a member code: which member.")


class SignInCodeOut(BaseModel):
    code: str
    expires_at: str
    signin_path: str = Field(description="A sign-in link (relative to the service) with the code filled in.")


@api.post("/signin-codes", status_code=201, response_model=SignInCodeOut)
def api_signin_code(
    body: SignInCodeIn | None = None,
    principal: Principal = Depends(require_roles(Role.ADMIN, Role.MEMBER)),
    ledger: Ledger = Depends(get_ledger),
) -> dict[str, Any]:
    """A one-time web sign-in code (valid 15 minutes). A member key gets a code for itself only; an admin key
    for any member, or for an admin or operator. Not idempotent by design: each call is a new code."""
    body = body or SignInCodeIn()
    role, member_id = body.role, body.member_id
    if principal.role is Role.MEMBER:
        if role != "member" or (member_id is not None and member_id != principal.member_id):
            from fastapi import HTTPException

            raise HTTPException(403, "a member key may only create a sign-in code for its own member")
        member_id = principal.member_id
    with ledger.engine.begin() as conn:
        code, expires = create_code(conn, role, member_id, f"key:{principal.key_id}", ledger.clock())
    return {"code": code, "expires_at": expires.isoformat(), "signin_path": f"/signin?code={code}"}


router.include_router(pages)
router.include_router(api)
