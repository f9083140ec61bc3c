"""Issue 10: platform keys are scoped to one platform (optionally a site); the stipend run honours its
Idempotency-Key; a member's link history shows no other member's ids or any key id."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import update
from typer.testing import CliRunner

from datalever.cli import app
from datalever.web.keys import create_key
from datalever.web.models import API_KEYS
from tests.support.api import Api

runner = CliRunner()
RECORD = {
    "platform": "stackexchange",
    "site": "bicycles.stackexchange.com",
    "user_id": "42",
    "kind": "answer",
    "source_id": "a1",
    "occurred_at": "2026-03-02T10:00:00Z",
    "score": 2,
}


def _link(api: Api, platform: str, site: str | None, account: str) -> tuple[int, str, int]:
    member_id = api.new_member()
    role = api.member_key(member_id)
    body = {"platform": platform, "account_id": account} | ({"site": site} if site else {})
    response = api.post(f"/v1/members/{member_id}/links", role, body)
    assert response.status_code == 201, response.text
    return member_id, role, int(response.json()["id"])


def _key(api: Api, name: str, platform: str | None, site: str | None = None) -> str:
    with api.ledger.engine.begin() as conn:
        principal, token = create_key(conn, "platform", platform=platform or "github", site=site)
        if platform is None:  # a key from before migration 0007_key_scopes
            conn.execute(update(API_KEYS).where(API_KEYS.c.id == principal.key_id).values(platform=None))
    api.tokens[name] = token
    return principal.key_id


def test_a_platform_key_acts_only_for_its_platform_and_site(api: Api) -> None:
    _member, _role, se_link = _link(api, "stackexchange", "bicycles.stackexchange.com", "42")
    _member2, _role2, other_site = _link(api, "stackexchange", "cooking.stackexchange.com", "42")
    refused = api.post(f"/v1/links/{se_link}/confirm", "platform")  # a GitHub key
    assert refused.status_code == 403 and "not for stackexchange" in refused.json()["detail"]
    _key(api, "bicycles", "stackexchange", "bicycles.stackexchange.com")
    assert api.post(f"/v1/links/{other_site}/confirm", "bicycles").status_code == 403
    assert api.post(f"/v1/links/{other_site}/unlink", "bicycles").status_code == 403
    assert api.post(f"/v1/links/{se_link}/confirm", "bicycles").status_code == 200
    assert api.post(f"/v1/links/{other_site}/confirm", "platform:stackexchange").status_code == 200  # every site
    report = {"contributions": [RECORD]}
    assert api.post("/v1/platforms/stackexchange/contributions", "platform", report).status_code == 403
    elsewhere = {"contributions": [RECORD | {"site": "cooking.stackexchange.com"}]}
    assert api.post("/v1/platforms/stackexchange/contributions", "bicycles", elsewhere).status_code == 403
    assert api.post("/v1/platforms/stackexchange/contributions", "bicycles", report).status_code == 201


def test_an_unscoped_key_is_refused_until_an_admin_scopes_it(api: Api, tmp_path: Path) -> None:
    _member, _role, link = _link(api, "github", None, "5001")
    key_id = _key(api, "legacy", None)
    refused = api.post(f"/v1/links/{link}/confirm", "legacy")
    assert refused.status_code == 403
    assert f"datalever keys scope {key_id} --platform" in refused.json()["detail"]
    url = str(api.ledger.engine.url.render_as_string(hide_password=False))
    scoped = runner.invoke(app, ["keys", "scope", key_id, "--platform", "github", "--database-url", url])
    assert scoped.exit_code == 0, scoped.output
    assert api.post(f"/v1/links/{link}/confirm", "legacy").status_code == 200
    again = runner.invoke(app, ["keys", "scope", key_id, "--platform", "wikipedia", "--database-url", url])
    assert again.exit_code == 2 and "--replace" in again.output  # a scope never moves silently
    bad = runner.invoke(app, ["keys", "scope", key_id, "--platform", "myspace", "--database-url", url])
    assert bad.exit_code == 2 and "unknown platform" in bad.output
    created = runner.invoke(app, ["keys", "create", "--role", "platform", "--database-url", url])
    assert created.exit_code == 2 and "--platform" in created.output


def test_stipend_run_honours_the_idempotency_key(api: Api) -> None:
    api.post("/v1/members", "admin", {})
    first = api.post("/v1/stipends/2026-02/run", "admin", {}, key="run-feb")
    assert first.status_code == 200, first.text
    replay = api.post("/v1/stipends/2026-02/run", "admin", {}, key="run-feb")
    assert replay.status_code == 200 and replay.headers.get("Idempotent-Replayed") == "true"
    assert replay.json() == first.json()
    conflict = api.post("/v1/stipends/2026-02/run", "admin", {"member_id": 1}, key="run-feb")
    assert conflict.status_code == 409


def test_link_history_hides_other_members_and_key_ids(api: Api) -> None:
    alice, alice_role, first = _link(api, "github", None, "777")
    assert api.post(f"/v1/links/{first}/confirm", "platform").status_code == 200
    assert api.post(f"/v1/links/{first}/unlink", alice_role).status_code == 200
    bob, bob_role, _second = _link(api, "github", None, "777")
    history = api.get(f"/v1/members/{bob}/links", bob_role).json()["links"][0]["history"]
    text = str(history)
    assert str(alice) not in [str(entry["member_id"]) for entry in history]
    assert all(entry["member_id"] in (None, bob) for entry in history)
    assert all(entry["actor"] in ("member", "platform", "admin") for entry in history)
    for token in api.tokens.values():
        assert token.split("_")[1] not in text  # no key id
    full = api.get(f"/v1/members/{bob}/links", "admin").json()["links"][0]["history"]
    assert {entry["member_id"] for entry in full} == {alice, bob}  # admins see the whole audit trail
