"""The flows API on a fresh service: preferences, exports, reports, what-ifs and stored alignment scores."""

from __future__ import annotations

from protego import Protego

from tests.support.api import Api

PREFS = {
    "coalition": "bicycles-se",
    "default": "deny",
    "paths": ["/questions/"],
    "funding_operators": ["Ai2"],
    "rules": [{"purpose": "training", "decision": "allow_if_funding"}, {"agent": "CCBot", "decision": "allow"}],
}


def put(api: Api, path: str, role: str, json: object) -> object:
    return api.client.put(path, json=json, headers=api.headers(role))


def setup_coalition(api: Api) -> list[int]:
    coalition = {"name": "Bikes", "change_cost": 20}
    assert put(api, "/v1/flows/coalitions/bicycles-se", "platform", coalition).status_code == 201
    assert put(api, "/v1/flows/coalitions/bicycles-se", "platform", coalition).status_code == 200  # idempotent
    members = [api.new_member(), api.new_member(), api.new_member()]
    for member in members:
        response = put(api, f"/v1/flows/coalitions/bicycles-se/members/{member}", "admin", {})
        assert response.status_code == 201, response.text
    return members


def test_preferences_are_versioned_and_exported(flows_api: Api):
    api = flows_api
    setup_coalition(api)
    assert api.get("/v1/flows/coalitions/bicycles-se/preferences", "operator").status_code == 404
    first = put(api, "/v1/flows/coalitions/bicycles-se/preferences", "platform", PREFS)
    assert first.status_code == 200, first.text
    assert first.json()["version"] == 1
    second = put(api, "/v1/flows/coalitions/bicycles-se/preferences", "admin", {**PREFS, "default": "allow"})
    assert second.json()["version"] == 2
    got = api.get("/v1/flows/coalitions/bicycles-se/preferences", "operator").json()
    assert got["version"] == 2 and got["preferences"]["default"] == "allow"
    robots = api.client.get("/v1/flows/coalitions/bicycles-se/robots.txt")  # public, no key
    assert robots.status_code == 200 and robots.headers["content-type"].startswith("text/plain")
    parser = Protego.parse(robots.text)
    url = "https://bicycles.stackexchange.com/questions/7"
    assert parser.can_fetch(url, "GPTBot") is False  # training, not a funder
    assert parser.can_fetch(url, "AI2Bot") is True
    assert parser.can_fetch(url, "PerplexityBot") is True  # default now allow
    tdm = api.client.get("/v1/flows/coalitions/bicycles-se/tdmrep.json")
    assert tdm.json() == [{"location": "/questions/*", "tdm-reservation": 1}]
    assert "User-Agent: *" in api.client.get("/v1/flows/coalitions/bicycles-se/ai.txt").text


def test_bad_preferences_are_refused_and_change_nothing(flows_api: Api):
    api = flows_api
    setup_coalition(api)
    assert put(api, "/v1/flows/coalitions/bicycles-se/preferences", "platform", PREFS).status_code == 200
    bad = {**PREFS, "rules": [{"agent": "GPTBott", "decision": "deny"}]}
    response = put(api, "/v1/flows/coalitions/bicycles-se/preferences", "platform", bad)
    assert response.status_code == 400 and "GPTBot" in response.text  # a rule the schema cannot express
    assert response.json()["code"] == "bad_request" and isinstance(response.json()["detail"], str)  # one shape
    mismatch = put(api, "/v1/flows/coalitions/bicycles-se/preferences", "platform", {**PREFS, "coalition": "other"})
    assert mismatch.status_code == 400
    nobody = put(api, "/v1/flows/coalitions/nobody/preferences", "platform", {**PREFS, "coalition": "nobody"})
    assert nobody.status_code == 404
    assert put(api, "/v1/flows/coalitions/bicycles-se/preferences", "operator", PREFS).status_code == 403
    assert api.client.put("/v1/flows/coalitions/bicycles-se/preferences", json=PREFS).status_code == 401
    assert api.get("/v1/flows/coalitions/bicycles-se/preferences", "admin").json()["version"] == 1
    assert api.client.get("/v1/flows/coalitions/nobody/robots.txt").status_code == 404


def test_report_views_whatifs_and_alignment(flows_api: Api):
    api = flows_api
    members = setup_coalition(api)
    role = api.member_key(members[0])
    report = api.get(f"/v1/flows/members/{members[0]}/report?coalition=bicycles-se&node=stack-exchange", role)
    assert report.status_code == 200, report.text
    assert {m["model"] for m in report.json()["models"]} >= {"llama-65b", "pythia-12b"}
    other = api.get(f"/v1/flows/members/{members[1]}/report?coalition=bicycles-se&node=stack-exchange", role)
    assert other.status_code == 403
    body = {"coalition": "bicycles-se", "withheld": "stack-exchange", "system": "llama-65b"}
    first = api.post("/v1/flows/whatifs", "platform", body, key="w1")
    assert first.status_code == 201, first.text
    replay = api.post("/v1/flows/whatifs", "platform", body, key="w1")
    assert replay.headers.get("Idempotent-Replayed") == "true" and replay.json()["id"] == first.json()["id"]
    bad = api.post("/v1/flows/whatifs", "platform", {**body, "system": "gpt-9"}, key="w2")
    assert bad.status_code == 404 and "gpt-9" in bad.text  # not in the catalog
    month = api.clock.now.strftime("%Y-%m")
    computed = api.client.put(f"/v1/flows/alignment/llama-65b/{month}", headers=api.headers("admin"))
    assert computed.status_code == 200, computed.text
    score = computed.json()["scores"][0]
    # 3 members: one opened the report, the what-if exists, all can change for 20 < 100 credits.
    assert (score["members"], score["aware"], score["can_reason"], score["agency"], score["aligned"]) == (3, 1, 3, 3, 1)
    assert abs(score["score"] - 1 / 3) < 1e-12
    stored = api.get(f"/v1/flows/alignment/llama-65b?month={month}", "member:" + str(members[0]))
    assert stored.json()["scores"] == computed.json()["scores"]
    api.clock.advance(days=120)
    later = (api.clock.now).strftime("%Y-%m")
    recomputed = api.client.put(f"/v1/flows/alignment/llama-65b/{later}", headers=api.headers("admin")).json()
    assert recomputed["scores"][0]["aware"] == 0  # the view is now older than 90 days
    trend = api.get("/v1/flows/alignment/llama-65b", "operator").json()
    assert trend["months"] == [month, later]
    assert api.client.put("/v1/flows/alignment/llama-65b/2026-13", headers=api.headers("admin")).status_code == 422
    assert api.client.put(f"/v1/flows/alignment/llama-65b/{month}", headers=api.headers("operator")).status_code == 403


def test_align_report_from_the_database(flows_api: Api, tmp_path):
    import json

    from typer.testing import CliRunner

    from datalever.cli import app

    api = flows_api
    members = setup_coalition(api)
    role = api.member_key(members[1])
    assert (
        api.get(f"/v1/flows/members/{members[1]}/report?coalition=bicycles-se&node=wikipedia", role).status_code == 200
    )
    body = {"coalition": "bicycles-se", "withheld": "wikipedia", "system": "gpt-3-175b"}
    assert api.post("/v1/flows/whatifs", role, body).status_code == 201
    url = api.ledger.engine.url.render_as_string(hide_password=False)
    plot = tmp_path / "trend.svg"
    month = api.clock.now.strftime("%Y-%m")
    result = CliRunner().invoke(
        app, ["align", "report", "--database-url", url, "--system", "gpt-3-175b", "--json", "--plot", str(plot)]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["months"] == [month]
    assert report["scores"][0]["aligned"] == 1 and report["scores"][0]["members"] == 3
    stored = api.get("/v1/flows/alignment/gpt-3-175b", "operator").json()  # the CLI stored the month
    assert stored["scores"] == report["scores"]
    assert plot.exists()
    missing = CliRunner().invoke(app, ["align", "report", "--system", "x"], env={"DATALEVER_DATABASE_URL": ""})
    assert missing.exit_code == 2


def test_change_costs_beyond_the_column_are_refused(flows_api: Api):
    """A cost the database column cannot hold is a 422 naming the field, not a server error."""
    api = flows_api
    huge = {"name": None, "change_cost": 2**63}
    response = put(api, "/v1/flows/coalitions/bicycles-se", "platform", huge)
    assert response.status_code == 422 and "change_cost" in response.text
    setup_coalition(api)  # its first PUT must create the coalition: the refused one left nothing behind
    member = api.new_member()
    response = put(api, f"/v1/flows/coalitions/bicycles-se/members/{member}", "admin", {"change_cost": 2**31})
    assert response.status_code == 422 and "change_cost" in response.text
