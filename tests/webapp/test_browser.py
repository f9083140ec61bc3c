"""The web app in a real browser: Debian's Chromium driven by Playwright (never `playwright install`).

One server and one browser for the module; each test gets its own browser context (its own cookies).
Screenshots of every page go to test-artifacts/webapp/ (gitignored); an axe-core check runs on each page.
"""

from __future__ import annotations

import csv
import io
import os
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from datalever.service.app import create_app
from datalever.service.settings import Settings
from datalever.web.keys import create_key
from tests.support.clock import Clock
from tests.support.web import Web
from tests.webapp.data import World, populate
from tests.webapp.live import serve

playwright_sync = pytest.importorskip("playwright.sync_api")
CHROMIUM = Path("/usr/bin/chromium")
AXE = Path(__file__).with_name("vendor") / "axe.min.js"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "webapp"

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists() and not os.environ.get("CI"),
    reason="Debian's chromium is not installed (.ci/run installs it)",
)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Web, World, str]]:
    path = tmp_path_factory.mktemp("browser") / "web.db"
    clock = Clock(datetime(2026, 1, 1, tzinfo=UTC))
    app = create_app(Settings(database_url=f"sqlite:///{path}", auth_cache_seconds=0), clock=clock)
    web = Web(app, app.state.ledger, clock)
    with web.ledger.engine.begin() as conn:
        for role in ("admin", "operator", "platform"):
            web.tokens[role] = create_key(conn, role, platform="stackexchange" if role == "platform" else None)[1]
    world = populate(web)
    with serve(app) as url:
        yield web, world, url
    web.ledger.engine.dispose()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with playwright_sync.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        yield chromium
        chromium.close()


@pytest.fixture
def context(browser: Any, site: tuple[Web, World, str]) -> Iterator[Any]:
    # bypass_csp only so the test can inject axe-core; the pages themselves run under their CSP.
    ctx = browser.new_context(base_url=site[2], bypass_csp=True, accept_downloads=True)
    ctx.set_default_timeout(10_000)
    yield ctx
    ctx.close()


def shoot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def axe_serious(page: Any) -> list[dict[str, Any]]:
    """Serious and critical axe-core violations on the current page (WCAG 2.x A and AA rules)."""
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        "async () => await axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21aa']}})"
    )
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:3]}
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def sign_in(page: Any, web: Web, role: str = "member", member_id: int | None = None) -> None:
    page.goto("/signin")
    page.get_by_label("Sign-in code").fill(web.code(role, member_id))
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/(me|operator)$"))


def test_sign_in_balance_and_sign_out(context: Any, site: tuple[Web, World, str]) -> None:
    web, world, _url = site
    page = context.new_page()
    page.goto("/me")
    page.wait_for_url(re.compile(r"/signin\?next=/me"))  # not signed in: sent to sign in
    sign_in(page, web, "member", world.member)
    balance = page.get_by_test_id("balance").inner_text()
    assert int(balance.split()[0].replace(",", "")) > 0
    assert page.get_by_role("table", name=re.compile("Credits by lot")).locator("tbody tr").count() >= 2
    assert page.get_by_text("stackoverflow.com").count() >= 1  # stipend progress per confirmed link
    shoot(page, "member")
    assert axe_serious(page) == []
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(re.compile(r"/signin\?signed_out=1"))
    page.goto("/me")
    page.wait_for_url(re.compile(r"/signin"))


def test_history_filters_and_csv(context: Any, site: tuple[Web, World, str]) -> None:
    web, world, _url = site
    page = context.new_page()
    sign_in(page, web, "member", world.member)
    page.goto("/me/history")
    page.get_by_label("Kind").select_option("grant")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url(re.compile(r"kind=grant"))
    rows = page.locator("#history-rows tbody tr")
    assert rows.count() == 1 and "welcome" in rows.first.inner_text()
    shoot(page, "history")
    assert axe_serious(page) == []
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download as CSV").click()
    text = Path(download_info.value.path()).read_text("utf-8")
    table = list(csv.DictReader(io.StringIO(text)))
    assert [row["kind"] for row in table] == ["grant"] and table[0]["amount"] == "25"


def test_link_an_account(context: Any, site: tuple[Web, World, str]) -> None:
    web, world, _url = site
    page = context.new_page()
    sign_in(page, web, "member", world.member)
    page.goto("/me/links")
    page.get_by_role("button", name="Request the link").click()  # empty: errors next to the fields
    page.locator("#f-platform-error").wait_for()
    page.locator("#f-account_id-error").wait_for()
    page.locator("#f-platform").select_option("github")
    page.get_by_label("Account id on the platform").fill("octo-member")
    page.get_by_role("button", name="Request the link").click()
    page.wait_for_url(re.compile(r"requested=1"))
    row = page.locator("tr", has_text="octo-member")
    assert row.get_by_test_id("link-status").inner_text() == "requested"
    shoot(page, "links")
    assert axe_serious(page) == []


def test_operator_charts(context: Any, site: tuple[Web, World, str]) -> None:
    web, _world, _url = site
    page = context.new_page()
    sign_in(page, web, "operator")
    page.goto("/operator")
    charts = page.locator("svg[data-chart]")
    assert charts.count() == 6
    issued = page.locator('svg[data-chart="Credits issued per month, by source"] rect')
    assert issued.count() >= 3  # three months of allowance at least
    assert page.locator('svg[data-chart="Queries charged per month"] circle').count() >= 3
    assert page.get_by_test_id("liability").inner_text().strip() != "0.0 USD"
    shoot(page, "operator")
    assert axe_serious(page) == []


def test_directory_submission_through_moderation(context: Any, browser: Any, site: tuple[Web, World, str]) -> None:
    web, world, url = site
    page = context.new_page()
    sign_in(page, web, "member", world.member)
    page.goto("/levers/new")
    page.get_by_role("button", name="Submit for review").click()
    page.locator("#f-title-error").wait_for()
    page.locator("#f-evidence_url_1-error").wait_for()
    shoot(page, "lever-new-errors")
    assert axe_serious(page) == []
    page.get_by_label("Name").fill("Browser test lever <script>alert(1)</script>")
    page.get_by_label("What it does").fill("Blocks AI crawlers from a test site, for the browser test.")
    page.get_by_label("Which lever it pulls").select_option("data_strike")
    page.get_by_label("Web address").fill("https://example.org/lever")
    page.get_by_label("Tags").fill("test, robots.txt")
    page.get_by_label("Affected catalog nodes").fill("common-crawl")
    page.get_by_label("Evidence link 1").fill("https://example.org/evidence")
    page.get_by_label("What the link shows 1").fill("The test's evidence")
    page.get_by_role("button", name="Submit for review").click()
    page.wait_for_url(re.compile(r"/levers/\d+\?submitted=1"))
    lever_id = int(re.search(r"/levers/(\d+)", page.url).group(1))  # type: ignore[union-attr]

    anonymous = browser.new_context(base_url=url)
    public = anonymous.new_page()
    public.goto("/levers?q=Browser+test")
    assert public.get_by_text("0 entries match").is_visible()  # pending: not public yet

    admin = context.browser.new_context(base_url=url)
    moderator = admin.new_page()
    sign_in(moderator, web, "admin")
    moderator.goto("/levers/moderation")
    card = moderator.locator("article", has_text="Browser test lever")
    shoot(moderator, "moderation")
    card.get_by_role("button", name="Approve").click()
    moderator.wait_for_url(re.compile(r"done=1"))

    public.goto("/levers?q=Browser+test")
    entry = public.get_by_role("link", name=re.compile("Browser test lever"))
    assert entry.is_visible()
    public.goto(f"/levers/{lever_id}")
    assert public.get_by_role("heading", level=1).inner_text() == "Browser test lever <script>alert(1)</script>"
    assert public.get_by_role("link", name="Common Crawl (open web archive)").is_visible()
    page.goto("/levers")
    shoot(page, "levers")
    assert axe_serious(page) == []
    card = page.locator("article", has_text="Browser test lever")
    card.get_by_role("button", name=re.compile("Upvote")).click()  # htmx swaps the vote count in place
    card.get_by_text("1 upvote").wait_for()  # htmx swaps in the new count
    anonymous.close()
    admin.close()


def test_community_and_node_pages(context: Any, site: tuple[Web, World, str]) -> None:
    web, world, _url = site
    page = context.new_page()
    sign_in(page, web, "member", world.member)
    page.goto("/me/communities")
    assert page.get_by_test_id("pools-unavailable").count() == 0  # the pools part is assembled
    assert page.get_by_role("link", name="robots.txt").is_visible()
    shoot(page, "communities")
    assert axe_serious(page) == []
    page.goto(f"/communities/{world.community}")
    shoot(page, "community")
    assert axe_serious(page) == []
    page.goto("/flows/nodes/stack-exchange")
    shoot(page, "node")
    assert axe_serious(page) == []


def test_a_member_votes_through_the_form_and_sees_the_pool_and_the_tally(
    context: Any, site: tuple[Web, World, str]
) -> None:
    from tests.webapp.pools_data import COMMUNITY, funded_pool, tally

    web, _world, _url = site
    pool = funded_pool(web, credits=20)
    page = context.new_page()
    sign_in(page, web, "member", pool.member)
    page.goto(f"/communities/{COMMUNITY}")
    assert page.get_by_text(f"Pool balance: {pool.funded:,} credits.").is_visible()
    card = page.locator("section.lever-card", has_text="Allow the questions")
    card.get_by_label("Option").select_option("for")
    card.get_by_label("Votes").fill("4")
    card.get_by_role("button", name=re.compile("Vote")).click()
    page.wait_for_url(re.compile(r"voted="))
    assert page.get_by_role("status").inner_text().startswith("You bought 4 votes for 'for' (16 credits)")
    assert page.get_by_text(f"Pool balance: {pool.funded + 16:,} credits.").is_visible()
    assert page.get_by_role("cell", name="vote", exact=True).first.is_visible()  # the vote in the pool history
    tally(web, pool.proposal)
    page.reload()
    assert page.get_by_role("list", name="Published tally").inner_text().split("\n") == [
        "against: 0 votes",
        "for: 4 votes",
    ]
    shoot(page, "community-vote")
    assert axe_serious(page) == []


def test_the_accessibility_check_does_find_violations(context: Any) -> None:
    page = context.new_page()
    page.set_content('<html lang="en"><title>t</title><main><input type="text"></main></html>')
    assert "label" in {v["id"] for v in axe_serious(page)}


def test_docs_render_offline_and_public_pages(context: Any) -> None:
    page = context.new_page()
    outside: list[str] = []

    def only_local(route: Any) -> None:
        if route.request.url.startswith(context.pages[0].url.split("/docs")[0]) or "127.0.0.1" in route.request.url:
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    context.route("**/*", only_local)
    page.goto("/docs")
    page.locator(".swagger-ui .info .title").wait_for()
    assert "datalever credit ledger" in page.locator(".swagger-ui .info .title").inner_text()
    assert page.locator(".opblock").count() > 10
    assert outside == []
    shoot(page, "docs")
    for path, name in (("/", "home"), ("/signin", "signin")):
        page.goto(path)
        shoot(page, name)
        assert axe_serious(page) == [], path
    page.set_viewport_size({"width": 375, "height": 740})  # a phone
    for path, name in (("/levers", "levers-phone"), ("/signin", "signin-phone")):
        page.goto(path)
        assert page.evaluate("document.documentElement.scrollWidth") <= 375, path
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"{name}.png"))
