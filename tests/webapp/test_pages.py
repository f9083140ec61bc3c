"""The web app without a browser: sessions, CSRF, escaping, rate limits, form errors, the directory's API and the
operator summary's by-source split. Each refusal changes nothing."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from datalever.web.keys import create_key
from datalever.webapp.models import LEVER_TABLE, SIGNIN_ATTEMPTS, WEB_SESSIONS
from datalever.webapp.seed import seed_entries
from datalever.webapp.sessions import MAX_FAILURES, SESSION_HOURS
from tests.support.web import CSRF, Web, csrf_of

SCRIPT = "<script>alert('x')</script>"


def _count(web: Web, table: object) -> int:
    with web.ledger.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())  # type: ignore[arg-type]


def test_sign_in_sets_a_secure_httponly_samesite_cookie_and_sign_out_ends_it(web: Web) -> None:
    member = web.new_member(10)
    client = web.browser()
    form = client.get("/signin")
    response = client.post("/signin", data={"csrf_token": csrf_of(form), "code": web.code("member", member)})
    assert response.status_code == 303 and response.headers["location"] == "/me"
    cookie = next(h for h in response.headers.get_list("set-cookie") if h.startswith("__Host-dl_session="))
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/" in cookie
    page = client.get("/me")
    assert page.status_code == 200 and "10 <span" in page.text
    assert "Content-Security-Policy" in page.headers
    out = client.post("/signout", data={"csrf_token": csrf_of(page)})
    assert out.status_code == 303
    assert _count(web, WEB_SESSIONS) == 0
    assert client.get("/me").status_code == 303


def test_a_code_works_once_and_expires(web: Web) -> None:
    member = web.new_member()
    code = web.code("member", member)
    first, second = web.browser(), web.browser()
    assert first.post("/signin", data={"csrf_token": csrf_of(first.get("/signin")), "code": code}).status_code == 303
    again = second.post("/signin", data={"csrf_token": csrf_of(second.get("/signin")), "code": code})
    assert again.status_code == 400 and "already used" in again.text
    late = web.code("member", member)
    web.clock.advance(minutes=16)
    expired = second.post("/signin", data={"csrf_token": csrf_of(second.get("/signin")), "code": late})
    assert expired.status_code == 400 and "expired" in expired.text


def test_an_api_key_is_not_a_sign_in_code(web: Web) -> None:
    client = web.browser()
    response = client.post("/signin", data={"csrf_token": csrf_of(client.get("/signin")), "code": web.tokens["admin"]})
    assert response.status_code == 400
    assert web.tokens["admin"] not in response.text
    assert _count(web, WEB_SESSIONS) == 0


def test_sign_in_attempts_are_rate_limited(web: Web) -> None:
    member = web.new_member()
    client = web.browser()
    token = csrf_of(client.get("/signin"))
    for _ in range(MAX_FAILURES):
        assert client.post("/signin", data={"csrf_token": token, "code": "AAAA-AAAA-AAAA"}).status_code == 400
    blocked = client.post("/signin", data={"csrf_token": token, "code": web.code("member", member)})
    assert blocked.status_code == 429 and "too many" in blocked.text
    assert _count(web, WEB_SESSIONS) == 0
    web.clock.advance(minutes=16)  # the window passes
    assert client.post("/signin", data={"csrf_token": token, "code": web.code("member", member)}).status_code == 303
    assert _count(web, SIGNIN_ATTEMPTS) == MAX_FAILURES + 1


def test_sign_in_form_without_its_token_is_refused(web: Web) -> None:
    member = web.new_member()
    client = web.browser()
    client.get("/signin")
    response = client.post("/signin", data={"code": web.code("member", member)})
    assert response.status_code == 403
    assert _count(web, WEB_SESSIONS) == 0


def test_expired_session_redirects_to_sign_in(web: Web) -> None:
    member = web.new_member()
    client = web.browser()
    web.sign_in(client, "member", member)
    assert client.get("/me/history").status_code == 200
    web.clock.advance(hours=SESSION_HOURS, seconds=1)
    response = client.get("/me/history?kind=query")
    assert response.status_code == 303
    assert response.headers["location"] == "/signin?next=/me/history%3Fkind%3Dquery"
    htmx = client.get("/me/history", headers={"HX-Request": "true"})
    assert htmx.status_code == 204 and htmx.headers["HX-Redirect"].startswith("/signin")


@pytest.mark.parametrize("token", [None, "forged-token"])
def test_forged_or_missing_csrf_is_refused_and_changes_nothing(web: Web, token: str | None) -> None:
    member = web.new_member()
    client = web.browser()
    web.sign_in(client, "member", member)
    data = {"platform": "github", "account_id": "someone"}
    if token:
        data["csrf_token"] = token
    response = client.post("/me/links", data=data)
    assert response.status_code == 403 and "Form refused" in response.text
    assert "someone" not in client.get("/me/links").text
    signout = client.post("/signout", data={"csrf_token": token} if token else {})
    assert signout.status_code == 403 and _count(web, WEB_SESSIONS) == 1


def test_another_sessions_token_is_refused(web: Web) -> None:
    a, b = web.new_member(), web.new_member()
    client_a, client_b = web.browser(), web.browser()
    web.sign_in(client_a, "member", a)
    token_b = web.sign_in(client_b, "member", b)
    assert (
        client_a.post("/me/links", data={"csrf_token": token_b, "platform": "github", "account_id": "x"}).status_code
        == 403
    )


def test_next_only_goes_to_local_paths(web: Web) -> None:
    member = web.new_member()
    for target, expected in (("https://evil.example/", "/me"), ("//evil.example", "/me"), ("/me/links", "/me/links")):
        client = web.browser()
        token = CSRF.search(client.get(f"/signin?next={target}").text).group(1)  # type: ignore[union-attr]
        response = client.post(
            "/signin", data={"csrf_token": token, "code": web.code("member", member), "next": target}
        )
        assert response.headers["location"] == expected


def test_member_pages_refuse_staff_and_anonymous(web: Web) -> None:
    client = web.browser()
    assert client.get("/operator").status_code == 303
    web.sign_in(client, "operator")
    assert client.get("/me").status_code == 403
    assert client.get("/operator").status_code == 200
    assert client.get("/levers/moderation").status_code == 403  # admins only


def test_link_form_errors_are_next_to_the_field(web: Web) -> None:
    member = web.new_member()
    client = web.browser()
    token = web.sign_in(client, "member", member)
    response = client.post("/me/links", data={"csrf_token": token, "platform": "stackexchange", "account_id": ""})
    assert response.status_code == 400
    assert re.search(r'id="f-site" [^>]*aria-invalid="true"', response.text)
    assert 'id="f-account_id-error"' in response.text and 'id="f-site-error"' in response.text
    ok = client.post("/me/links", data={"csrf_token": token, "platform": "github", "account_id": "octo"})
    assert ok.status_code == 303
    page = client.get("/me/links")
    assert "octo" in page.text and "requested" in page.text
    link_id = int(re.search(r"/me/links/(\d+)/unlink", page.text).group(1))  # type: ignore[union-attr]
    assert client.post(f"/me/links/{link_id}/unlink", data={"csrf_token": token}).status_code == 303
    assert "unlinked" in client.get("/me/links").text


def test_user_text_is_escaped_everywhere(web: Web) -> None:
    member = web.new_member()
    client = web.browser()
    token = web.sign_in(client, "member", member)
    # In a link (the member's own account id) ...
    client.post("/me/links", data={"csrf_token": token, "platform": "github", "account_id": SCRIPT})
    links = client.get("/me/links").text
    assert SCRIPT not in links and "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in links
    # ... in a directory entry, on its page, in the moderation queue and in the public list ...
    form = {
        "csrf_token": token,
        "title": f"Lever {SCRIPT}",
        "summary": f"It does things {SCRIPT} quite well indeed.",
        "lever": "bargaining",
        "url": 'https://example.org/"onmouseover="alert(1)',
        "tags": "x",
        "evidence_url_1": "https://example.org/e",
        "evidence_title_1": SCRIPT,
    }
    created = client.post("/levers", data=form)
    assert created.status_code == 303
    lever_id = int(created.headers["location"].split("/")[2].split("?")[0])
    assert SCRIPT not in client.get(f"/levers/{lever_id}").text
    admin = web.browser()
    admin_token = web.sign_in(admin, "admin")
    queue = admin.get("/levers/moderation").text
    assert SCRIPT not in queue and "&lt;script&gt;" in queue
    assert 'href="https://example.org/&#34;onmouseover=&#34;alert(1)"' in queue
    admin.post(f"/levers/{lever_id}/moderate", data={"csrf_token": admin_token, "decision": "approve"})
    public = web.browser().get("/levers?q=Lever").text
    assert "Lever &lt;script&gt;" in public and SCRIPT not in public
    # ... and in the sign-in form's echo of a bad code.
    anon = web.browser()
    echoed = anon.post("/signin", data={"csrf_token": csrf_of(anon.get("/signin")), "code": SCRIPT})
    assert SCRIPT not in echoed.text


def test_javascript_urls_are_refused_in_submissions(web: Web) -> None:
    member = web.new_member()
    client = web.browser()
    token = web.sign_in(client, "member", member)
    form = {
        "csrf_token": token,
        "title": "Bad link",
        "summary": "A summary that is long enough to pass.",
        "lever": "bargaining",
        "url": "javascript:alert(1)",
        "evidence_url_1": "data:text/html,hi",
    }
    before = _count(web, LEVER_TABLE)
    response = client.post("/levers", data=form)
    assert response.status_code == 400
    assert 'id="f-url-error"' in response.text and 'id="f-evidence_url_1-error"' in response.text
    unknown_node = client.post(
        "/levers",
        data={**form, "url": "https://ok.example", "evidence_url_1": "https://e.example", "nodes": "not-a-node"},
    )
    assert unknown_node.status_code == 400 and "not in the flows catalog" in unknown_node.text
    assert _count(web, LEVER_TABLE) == before


def test_moderation_reject_needs_a_reason_and_happens_once(web: Web) -> None:
    member = web.new_member()
    client = web.browser()
    token = web.sign_in(client, "member", member)
    form = {
        "csrf_token": token,
        "title": "A new lever",
        "summary": "It lets people withhold their data together.",
        "lever": "data_strike",
        "url": "https://example.org",
        "evidence_url_1": "https://example.org/e",
    }
    lever_id = int(client.post("/levers", data=form).headers["location"].split("/")[2].split("?")[0])
    admin = web.browser()
    admin_token = web.sign_in(admin, "admin")
    no_reason = admin.post(f"/levers/{lever_id}/moderate", data={"csrf_token": admin_token, "decision": "reject"})
    assert no_reason.status_code == 400 and f'id="reason-{lever_id}-error"' in no_reason.text
    done = admin.post(
        f"/levers/{lever_id}/moderate",
        data={"csrf_token": admin_token, "decision": "reject", "reason": "No evidence it exists."},
    )
    assert done.status_code == 303
    twice = admin.post(f"/levers/{lever_id}/moderate", data={"csrf_token": admin_token, "decision": "approve"})
    assert twice.status_code == 409
    mine = client.get("/levers").text
    assert "No evidence it exists." in mine  # the submitter sees why
    assert web.browser().get(f"/levers/{lever_id}").status_code == 404  # not public
    assert "Not in the directory" in web.browser().get("/levers/not-a-number").text
    member_cannot = client.post(f"/levers/{lever_id}/moderate", data={"csrf_token": token, "decision": "approve"})
    assert member_cannot.status_code == 403


def test_upvotes_count_once_per_member(web: Web) -> None:
    a, b = web.new_member(), web.new_member()
    for member in (a, a, b):
        client = web.browser()
        token = web.sign_in(client, "member", member)
        assert client.post("/levers/1/upvote", data={"csrf_token": token}).status_code == 303
        client.post("/levers/1/upvote", data={"csrf_token": token})
    body = web.browser().get("/v1/levers").json()
    first = next(item for item in body["levers"] if item["id"] == 1)
    assert first["votes"] == 2 and body["levers"][0]["votes"] == 2  # most upvoted first


def test_directory_json_search_and_exports(web: Web) -> None:
    client = web.browser()
    everything = client.get("/v1/levers").json()
    assert everything["count"] == len(seed_entries()) >= 25
    strikes = client.get("/v1/levers?lever=data_strike").json()["levers"]
    assert strikes and all(item["lever"] == "data_strike" for item in strikes)
    tagged = client.get("/v1/levers?tag=robots.txt").json()["levers"]
    assert tagged and all("robots.txt" in item["tags"] for item in tagged)
    assert any("Nightshade" in item["title"] for item in client.get("/v1/levers?q=poison").json()["levers"])
    assert client.get("/v1/levers?lever=nonsense").status_code == 422
    rows = list(csv.DictReader(io.StringIO(client.get("/v1/levers/export?format=csv").text)))
    assert len(rows) == everything["count"] and all(row["evidence"].count("http") >= 1 for row in rows)
    assert len(client.get("/v1/levers/export?format=json").json()) == everything["count"]
    assert client.get("/v1/levers/export?format=xml").status_code == 422


def test_seed_entries_are_cited_and_link_into_the_catalog() -> None:
    from datalever.flows.router import catalog

    entries = seed_entries()
    assert len(entries) >= 25
    assert {e.lever for e in entries} == {
        "data_strike",
        "conscious_data_contribution",
        "data_poisoning",
        "regulation",
        "bargaining",
    }
    nodes = catalog().nodes
    for entry in entries:
        assert entry.url.startswith("https://") and entry.evidence, entry.title
        assert all(node in nodes for node in entry.nodes), entry.title
    assert len({e.title for e in entries}) == len(entries)


def test_signin_codes_api_roles(web: Web) -> None:
    member, other = web.new_member(), web.new_member()
    with web.ledger.engine.begin() as conn:
        web.tokens["m"] = create_key(conn, "member", member)[1]
    own = web.api("POST", "/v1/signin-codes", role="m", json={})
    assert own.status_code == 201 and own.json()["signin_path"].startswith("/signin?code=")
    assert web.api("POST", "/v1/signin-codes", role="m", json={"member_id": other}).status_code == 403
    assert web.api("POST", "/v1/signin-codes", role="m", json={"role": "admin"}).status_code == 403
    assert web.api("POST", "/v1/signin-codes", role="admin", json={"role": "operator"}).status_code == 201
    assert web.api("POST", "/v1/signin-codes", role="admin", json={"role": "member"}).status_code == 400
    assert (
        web.api("POST", "/v1/signin-codes", role="admin", json={"role": "member", "member_id": 999}).status_code == 404
    )
    assert web.api("POST", "/v1/signin-codes", role="operator", json={}).status_code == 403
    client = web.browser()
    code = own.json()["code"]
    link = client.get(own.json()["signin_path"])
    assert f'value="{code}"' in link.text and link.headers["Referrer-Policy"] == "no-referrer"


def test_static_files_and_offline_docs(web: Web) -> None:
    client = web.browser()
    docs = client.get("/docs")
    assert docs.status_code == 200
    assert "/static/vendor/swagger-ui/swagger-ui-bundle.js" in docs.text and "cdn" not in docs.text.lower()
    assert (
        client.get("/static/vendor/swagger-ui/swagger-ui-bundle.js")
        .headers["content-type"]
        .startswith("text/javascript")
    )
    assert client.get("/static/vendor/htmx/htmx.min.js").status_code == 200
    for bad in ("../router.py", "..%2Frouter.py", "vendor/../../router.py", "nope.css"):
        assert client.get(f"/static/{bad}").status_code == 404
    assert client.get("/redoc").status_code in (404, 303)


def test_summary_by_source_and_periods(web: Web) -> None:
    member = web.new_member(40)  # a grant in March 2026
    web.api("POST", f"/v1/members/{member}/charges", role="operator", json={})
    web.clock.advance(days=30)  # April
    web.api("POST", "/v1/allowance/runs", json={"month": "2026-04"})
    whole = web.api("GET", "/v1/summary").json()
    assert whole["by_source"]["issued"]["grant"] == 40 and whole["by_source"]["issued"]["allowance"] == 100
    assert sum(whole["by_source"]["issued"].values()) == whole["credits_issued"] == 140
    assert whole["by_source"]["spent"]["grant"] == 1 and whole["credits_spent"] == 1
    march = web.api("GET", "/v1/summary?from=2026-03&to=2026-03").json()
    assert march["credits_issued"] == 40 and march["period"] == {"from": "2026-03", "to": "2026-03"}
    assert march["credits_outstanding"] == whole["credits_outstanding"]  # state is always as of now
    april = web.api("GET", "/v1/summary?from=2026-04").json()
    assert april["credits_issued"] == 100 and april["credits_spent"] == 0
    for bad, status in (("?month=2026-03", 400), ("?from=2026-13", 422), ("?from=2026-04&to=2026-03", 400)):
        response = web.api("GET", f"/v1/summary{bad}")
        assert response.status_code == status, bad
        assert "detail" in response.json()


def test_operator_page_shows_months_by_source(web: Web) -> None:
    member = web.new_member(40)
    web.api("POST", f"/v1/members/{member}/charges", role="operator", json={})
    client = web.browser()
    web.sign_in(client, "admin")
    web.clock.advance(minutes=10)  # past the settle time: read through the per-process cache
    page = client.get("/operator").text
    assert 'data-chart="Credits issued per month, by source"' in page
    assert page.count("<rect") >= 2 and "2026-03" in page
    web.new_member(5)
    web.clock.advance(minutes=1)
    again = client.get("/operator").text
    assert "45" in again  # the newer grant is counted on top of the cached totals


def test_signin_code_command(web: Web) -> None:
    from typer.testing import CliRunner

    from datalever.cli import app as cli

    member = web.new_member()
    url = str(web.ledger.engine.url)
    bad = CliRunner().invoke(cli, ["web", "signin-code", "--member", "999", "--database-url", url])
    assert bad.exit_code == 2 and "999" in bad.output
    wrong = CliRunner().invoke(cli, ["web", "signin-code", "--role", "platform", "--database-url", url])
    assert wrong.exit_code == 2 and "unknown role" in wrong.output
    ok = CliRunner().invoke(cli, ["web", "signin-code", "--member", str(member), "--database-url", url])
    assert ok.exit_code == 0, ok.output
    code = re.search(r"^([A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4})$", ok.stdout, re.MULTILINE)
    assert code is not None
    client = web.browser()
    web.clock.now = datetime.now(UTC)  # the command stamps codes with the real clock
    response = client.post("/signin", data={"csrf_token": csrf_of(client.get("/signin")), "code": code.group(1)})
    assert response.status_code == 303


def test_operator_estimates_come_from_the_form_and_bad_ones_are_refused(web: Web) -> None:
    member = web.new_member(40)
    for _ in range(4):
        web.api("POST", f"/v1/members/{member}/charges", role="operator", json={})
    client = web.browser()
    web.sign_in(client, "operator")
    page = client.get("/operator?cost_cents=2.5&revenue_cents=1").text
    assert "10.00" in page and "4.00" in page  # 4 queries x 2.5 and x 1 cents
    bad = client.get("/operator?cost_cents=lots&revenue_cents=-3")
    assert bad.status_code == 400
    assert 'id="f-cost_cents-error"' in bad.text and 'id="f-revenue_cents-error"' in bad.text


class _FakePools:
    """A stand-in for the pools part's implementation of PoolsView (votes counted once per key)."""

    def __init__(self) -> None:
        self.votes: dict[str, tuple[int, int, str, int]] = {}

    def vote(self, ledger: object, member_id: int, proposal_id: int, option: str, votes: int, key: str) -> str:
        from datalever.ledger.errors import InsufficientCredits

        if votes > 10:
            raise InsufficientCredits(account_id=1, needed=votes * votes, available=10)
        self.votes.setdefault(key, (member_id, proposal_id, option, votes))
        return f"{votes} vote(s) for {option} recorded"

    def pool(self, conn: object, community: str) -> object:
        from datalever.webapp.pools_view import PoolEntry, PoolSnapshot

        return PoolSnapshot(1200, [PoolEntry(datetime(2026, 3, 1, tzinfo=UTC), "funding", 1200)])

    def valuations(self, conn: object, community: str) -> list[object]:
        from datalever.webapp.pools_view import Valuation

        return [Valuation("2026-03", "shapley", 0.12, 0.18, 1200)]

    def proposals(self, conn: object, community: str) -> list[object]:
        from datalever.webapp.pools_view import Proposal

        return [
            Proposal(
                7, f"Deny GPTBot {SCRIPT}", "data_use", "open", None, [("yes", 40), ("no", 9)], None, ["yes", "no"]
            )
        ]


def test_community_pages_render_pools_from_the_interface(web: Web) -> None:
    member = web.new_member()
    web.api("PUT", "/v1/flows/coalitions/stack-overflow", json={"name": "Stack Overflow", "change_cost": 5})
    web.api("PUT", f"/v1/flows/coalitions/stack-overflow/members/{member}", json={})
    client = web.browser()
    web.sign_in(client, "member", member)
    del web.app.state.pools_view  # a service without the pools part
    assert "not yet available" in client.get("/communities/stack-overflow").text
    web.app.state.pools_view = _FakePools()
    page = client.get("/communities/stack-overflow").text
    assert "not yet available" not in page
    assert "1,200" in page and "yes: 40 votes" in page and "shapley" in page and "12.0% to 18.0%" in page
    assert SCRIPT not in page and "Deny GPTBot &lt;script&gt;" in page
    mine = client.get("/me/communities").text
    assert "yes: 40 votes" in mine and "1,200" in mine


def test_a_member_votes_once_per_form(web: Web) -> None:
    member = web.new_member()
    web.api("PUT", "/v1/flows/coalitions/stack-overflow", json={"name": "Stack Overflow", "change_cost": 5})
    client = web.browser()
    token = web.sign_in(client, "member", member)
    path = "/communities/stack-overflow/proposals/7/vote"
    del web.app.state.pools_view  # without the pools part: no votes
    assert (
        client.post(path, data={"csrf_token": token, "option": "yes", "votes": "2", "nonce": "n" * 20}).status_code
        == 404
    )
    pools = _FakePools()
    web.app.state.pools_view = pools
    page = client.get("/communities/stack-overflow").text
    nonce = re.search(r'name="nonce" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    form = {"csrf_token": token, "option": "yes", "votes": "2", "nonce": nonce}
    for _ in range(2):  # a resubmitted form
        response = client.post(path, data=form)
        assert response.status_code == 303 and "voted=" in response.headers["location"]
    assert list(pools.votes.values()) == [(member, 7, "yes", 2)]
    assert client.post(path, data={**form, "csrf_token": "forged"}).status_code == 403
    assert client.post(path, data={**form, "votes": "0"}).status_code == 400
    refused = client.post(path, data={**form, "votes": "11", "nonce": "m" * 20})
    assert refused.status_code == 402 and "insufficient credits" in refused.text
    assert len(pools.votes) == 1


def test_community_alignment_over_time_is_charted(web: Web) -> None:
    web.clock.now = datetime(2025, 12, 1, tzinfo=UTC)  # members count in months after they joined
    member = web.new_member()
    web.api("PUT", "/v1/flows/coalitions/stack-overflow", json={"name": "Stack Overflow", "change_cost": 5})
    web.api("PUT", f"/v1/flows/coalitions/stack-overflow/members/{member}", json={})
    web.clock.now = datetime(2026, 3, 10, tzinfo=UTC)
    for month in ("2026-01", "2026-02"):
        assert web.api("PUT", f"/v1/flows/alignment/llama-7b/{month}").json()["scores"]
    client = web.browser()
    web.sign_in(client, "member", member)
    page = client.get("/communities/stack-overflow").text
    assert 'data-chart="Alignment score with llama-7b"' in page and page.count("<circle") == 2


def test_the_pools_part_shows_its_real_pool_votes_and_published_tally(web: Web) -> None:
    from tests.webapp.pools_data import COMMUNITY, funded_pool, tally

    pool = funded_pool(web, credits=10)
    assert pool.funded > 0
    client = web.browser()
    token = web.sign_in(client, "member", pool.member)
    page = client.get(f"/communities/{COMMUNITY}").text
    assert f"Pool balance: <strong>{pool.funded:,}</strong>" in page and "pool_funding" in page
    assert "Allow the questions" in page and "Totals are published when voting closes." in page
    assert "for: " not in page  # no running count while the vote is open
    path = f"/communities/{COMMUNITY}/proposals/{pool.proposal}/vote"

    def form(**changes: str) -> dict[str, str]:
        nonce = re.search(r'name="nonce" value="([^"]+)"', client.get(f"/communities/{COMMUNITY}").text)
        assert nonce is not None
        return {"csrf_token": token, "option": "for", "votes": "3", "nonce": nonce.group(1), **changes}

    first = form()
    for _ in range(2):  # a resubmitted form votes once
        response = client.post(path, data=first)
        assert response.status_code == 303 and "you+now+hold+3" in response.headers["location"].replace("%20", "+")
    page = client.get(f"/communities/{COMMUNITY}").text
    assert (
        f"Pool balance: <strong>{pool.funded + 9:,}</strong>" in page
    )  # 3 quadratic votes cost 9 credits, paid to the pool

    # Refusals carry the pools part's errors and change nothing.
    unknown = client.post(path, data=form(option="maybe"))
    assert unknown.status_code == 400 and "has no option" in unknown.text
    broke = client.post(path, data=form(votes="1"))  # a 4th vote costs 16 - 9 = 7; 1 credit left
    assert broke.status_code == 402
    capped = client.post(path, data=form(votes="8"))  # 11 votes pass the cap of 10
    assert capped.status_code == 409 and "cap" in capped.text
    missing = client.post(f"/communities/{COMMUNITY}/proposals/999/vote", data=form())
    assert missing.status_code == 404 and "proposal 999 does not exist" in missing.text
    outsider = web.new_member(credits=5)
    other = web.browser()
    other_token = web.sign_in(other, "member", outsider)
    refused = other.post(path, data={**form(), "csrf_token": other_token})
    assert refused.status_code == 403
    assert f"Pool balance: <strong>{pool.funded + 9:,}</strong>" in client.get(f"/communities/{COMMUNITY}").text

    published = tally(web, pool.proposal)
    assert published["status"] == "adopted"
    page = client.get(f"/communities/{COMMUNITY}").text
    assert "for: 3 votes" in page and "against: 0 votes" in page and "outcome: adopted" in page
    assert 'name="nonce"' not in page  # closed: no vote form
    mine = client.get("/me/communities").text
    assert "for: 3 votes" in mine and f"{pool.funded + 9:,}" in mine
