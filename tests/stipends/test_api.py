"""The stipend API end to end: a member asks, the platform confirms and reports activity, an admin pays."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from datalever.importers import read_events
from tests.support.api import Api

EVENTS = Path(__file__).resolve().parents[1] / "fixtures" / "github" / "events.json"


def _linked_member(api: Api, account: str = "5001") -> tuple[int, str, int]:
    member = api.new_member()
    role = api.member_key(member)
    response = api.post(f"/v1/members/{member}/links", role, {"platform": "github", "account_id": account})
    assert response.status_code == 201, response.text
    return member, role, response.json()["id"]


def test_link_confirm_report_and_pay(api: Api) -> None:
    api.clock.now = datetime(2024, 1, 20, tzinfo=UTC)
    member, role, link = _linked_member(api)
    assert api.post(f"/v1/links/{link}/confirm", role).status_code == 403  # a member cannot vouch for itself
    confirmed = api.post(f"/v1/links/{link}/confirm", "platform")
    assert confirmed.status_code == 200 and confirmed.json()["status"] == "confirmed"

    api.clock.now = datetime(2024, 7, 10, tzinfo=UTC)
    records = [record.model_dump(mode="json") for record in read_events(EVENTS)]
    reported = api.post("/v1/platforms/github/contributions", "platform", {"contributions": records})
    assert reported.status_code == 201, reported.text
    assert reported.json()["records_new"] == len(records)

    run = api.post("/v1/stipends/2024-02/run", "admin", {})
    assert run.status_code == 200, run.text
    [paid] = run.json()["members"]
    assert (paid["member_id"], paid["status"], paid["amount"], paid["rules"]) == (
        member,
        "paid",
        50,
        ["github.merged_pull_request"],
    )
    again = api.post("/v1/stipends/2024-02/run", "admin", {})
    assert again.json()["members"][0]["status"] == "already paid"
    assert api.get(f"/v1/members/{member}/balance", role).json()["balance"] == 50

    report = api.get("/v1/stipends/2024-02", "admin").json()
    assert report["credits_paid"] == 50 and report["members"][0]["status"] == "paid"
    history = api.get(f"/v1/members/{member}/links", role).json()["links"][0]["history"]
    assert [event["action"] for event in history] == ["requested", "confirmed"]

    assert api.post(f"/v1/links/{link}/unlink", role).json()["status"] == "unlinked"
    after = api.get("/v1/stipends/2024-02", "admin").json()  # the payment stays in the report
    assert [(m["member_id"], m["status"], m["rules"]) for m in after["members"]] == [
        (member, "paid", ["github.merged_pull_request"])
    ]
    history = api.get(f"/v1/members/{member}/links", role).json()["links"][0]["history"]
    assert [event["action"] for event in history] == ["requested", "confirmed", "unlinked"]


def test_bad_input_is_refused_and_nothing_is_paid(api: Api) -> None:
    api.clock.now = datetime(2024, 1, 20, tzinfo=UTC)
    member, role, link = _linked_member(api)
    unknown = api.post(f"/v1/members/{member}/links", role, {"platform": "myspace", "account_id": "1"})
    assert unknown.status_code == 422 and "platform" in unknown.json()["detail"]  # the schema lists the platforms
    duplicate = api.post(f"/v1/members/{member}/links", role, {"platform": "github", "account_id": "5001"})
    assert duplicate.status_code == 409 and "duplicate link" in duplicate.json()["detail"]
    other = api.new_member()
    other_role = api.member_key(other)
    assert (
        api.post(f"/v1/members/{member}/links", other_role, {"platform": "github", "account_id": "9"}).status_code
        == 403
    )

    unconfirmed = api.post("/v1/stipends/2023-12/run", "admin", {"member_id": member})
    assert unconfirmed.status_code == 400 and "awaiting the platform's confirmation" in unconfirmed.json()["detail"]
    future = api.post("/v1/stipends/2024-03/run", "admin", {})
    assert future.status_code == 400 and "in the future" in future.json()["detail"]
    wrong = api.post(
        "/v1/platforms/wikipedia/contributions",
        "platform:wikipedia",
        {"contributions": [record.model_dump(mode="json") for record in read_events(EVENTS)][:1]},
    )
    assert wrong.status_code == 400 and "not wikipedia contributions" in wrong.json()["detail"]
    assert api.post(f"/v1/links/{link}/unlink", other_role).status_code == 404
    assert api.get(f"/v1/members/{member}/balance", role).json()["balance"] == 0
