"""The HTTP service end to end: happy paths and every kind of bad input, each with its status and message."""

from __future__ import annotations

import pytest

from tests.support.api import Api
from tests.support.books import check_books


def test_member_lifecycle_allowance_charge_balance_history(api: Api) -> None:
    member = api.post("/v1/members", "admin", {"external_ref": "alice"})
    assert member.status_code == 201
    member_id = member.json()["id"]
    run = api.post("/v1/allowance/runs", "admin", {"month": "2026-03"})
    assert run.status_code == 200 and run.json()["members_granted"] == 1
    rerun = api.post("/v1/allowance/runs", "admin", {"month": "2026-03"})
    assert rerun.json()["members_granted"] == 0 and rerun.json()["already_granted"] == 1
    charge = api.post(f"/v1/members/{member_id}/charges", "operator", {"reference": "q1"})
    assert charge.status_code == 201
    due = api.ledger.policy.allowance.credits_per_month
    assert charge.json()["balance"] == due - charge.json()["price"]
    balance = api.get(f"/v1/members/{member_id}/balance", "operator").json()
    assert balance["balance"] == charge.json()["balance"]
    assert [lot["source"] for lot in balance["lots"]] == ["allowance"]
    assert balance["lots"][0]["expires_at"] == "2026-05-01T00:00:00+00:00"
    history = api.get(f"/v1/members/{member_id}/history", "operator").json()["entries"]
    assert [(entry["kind"], entry["amount"]) for entry in history] == [("query", -1), ("allowance", due)]
    assert history[0]["lot"]["source"] == "allowance"  # the charge says which credits it burned
    summary = api.get("/v1/summary", "operator").json()
    assert summary["credits_issued"] == due
    assert summary["credits_spent"] == 1
    assert summary["credits_outstanding"] == due - 1
    assert summary["liability_cents"] == (due - 1) * api.ledger.policy.credit.value_cents
    assert summary["queries_charged"] == 1
    check_books(api.ledger)


def test_charge_without_credits_is_402_with_fallback_and_charges_nothing(api: Api) -> None:
    member_id = api.new_member()
    response = api.post(f"/v1/members/{member_id}/charges", "operator", {})
    assert response.status_code == 402
    body = response.json()
    assert body["fallback_url"] == str(api.ledger.policy.fallback.url)
    assert (body["needed"], body["available"]) == (1, 0)
    assert api.get("/v1/summary", "admin").json()["queries_charged"] == 0


def test_retry_returns_first_response_and_other_body_is_409(api: Api) -> None:
    member_id = api.new_member(credits=5)
    first = api.post(f"/v1/members/{member_id}/charges", "operator", {"reference": "a"}, key="k1")
    again = api.post(f"/v1/members/{member_id}/charges", "operator", {"reference": "a"}, key="k1")
    assert again.status_code == 201 and again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    other = api.post(f"/v1/members/{member_id}/charges", "operator", {"reference": "b"}, key="k1")
    assert other.status_code == 409 and "different request" in other.json()["detail"]
    assert api.get(f"/v1/members/{member_id}/balance", "admin").json()["balance"] == 4


def test_missing_idempotency_key_is_400(api: Api) -> None:
    member_id = api.new_member(credits=5)
    response = api.post(f"/v1/members/{member_id}/charges", "operator", {}, key=None)
    assert response.status_code == 400 and "Idempotency-Key" in response.json()["detail"]
    assert api.get(f"/v1/members/{member_id}/balance", "admin").json()["balance"] == 5


def test_unknown_member_is_404(api: Api) -> None:
    response = api.post("/v1/members/4242/charges", "operator", {})
    assert response.status_code == 404 and response.json()["detail"] == "member 4242 does not exist"
    assert api.get("/v1/members/4242/balance", "admin").status_code == 404


@pytest.mark.parametrize("amount", [0, -5, "7", 1.5, None])
def test_bad_grant_amount_is_422(api: Api, amount: object) -> None:
    member_id = api.new_member()
    response = api.post(f"/v1/members/{member_id}/grants", "admin", {"amount": amount})
    assert response.status_code == 422 and "amount" in response.json()["detail"]
    assert api.get(f"/v1/members/{member_id}/balance", "admin").json()["balance"] == 0


def test_malformed_json_is_422(api: Api) -> None:
    member_id = api.new_member(credits=5)
    response = api.client.post(
        f"/v1/members/{member_id}/charges",
        content=b'{"reference": ',
        headers={**api.headers("operator", "k"), "Content-Type": "application/json"},
    )
    assert response.status_code == 422 and "JSON" in response.json()["detail"]


def test_unknown_field_is_422(api: Api) -> None:
    member_id = api.new_member(credits=5)
    response = api.post(f"/v1/members/{member_id}/charges", "operator", {"price": 0})
    assert response.status_code == 422 and "price" in response.json()["detail"]


def test_bad_month_is_422_and_future_month_is_400(api: Api) -> None:
    assert api.post("/v1/allowance/runs", "admin", {"month": "March"}).status_code == 422
    future = api.post("/v1/allowance/runs", "admin", {"month": "2027-01"})
    assert future.status_code == 400 and "future" in future.json()["detail"]


def test_missing_and_invalid_keys_are_401(api: Api) -> None:
    assert api.client.get("/v1/summary").status_code == 401
    bad = api.client.get("/v1/summary", headers={"Authorization": "Bearer dlk_nope_nope"})
    assert bad.status_code == 401 and bad.json()["detail"] == "invalid or revoked API key"


@pytest.mark.parametrize(
    ("role", "method", "path"),
    [
        ("operator", "post", "/v1/members"),
        ("operator", "post", "/v1/allowance/runs"),
        ("platform", "post", "/v1/members/1/charges"),
        ("platform", "get", "/v1/summary"),
        ("member", "get", "/v1/summary"),
        ("member", "post", "/v1/members/1/charges"),
    ],
)
def test_wrong_role_is_403(api: Api, role: str, method: str, path: str) -> None:
    member_id = api.new_member(credits=5)
    if role == "member":
        role = api.member_key(member_id)
    body = {"month": "2026-03"} if "allowance" in path else {}
    response = api.post(path, role, body) if method == "post" else api.get(path, role)
    assert response.status_code == 403
    assert api.get(f"/v1/members/{member_id}/balance", "admin").json()["balance"] == 5


def test_member_key_reads_only_its_own_member(api: Api) -> None:
    mine = api.new_member(credits=3)
    other = api.new_member(credits=4)
    role = api.member_key(mine)
    assert api.get(f"/v1/members/{mine}/balance", role).json()["balance"] == 3
    assert api.get(f"/v1/members/{other}/balance", role).status_code == 403
    assert api.get(f"/v1/members/{other}/history", role).status_code == 403


def test_member_ids_out_of_range_are_422(api: Api) -> None:
    assert api.get("/v1/members/0/balance", "admin").status_code == 422
    assert api.get(f"/v1/members/{2**40}/balance", "admin").status_code == 422


def test_reversing_a_charge_refills_the_lot_it_burned_once(api: Api) -> None:
    member_id = api.new_member(credits=5)
    charge = api.post(f"/v1/members/{member_id}/charges", "operator", {}).json()
    reversal = api.post(f"/v1/operations/{charge['query_id']}/reversal", "admin", {})
    assert reversal.status_code == 201 and reversal.json()["credits"] == charge["price"]
    assert api.get(f"/v1/members/{member_id}/balance", "admin").json()["lots"][0]["remaining"] == 5
    entry = api.get(f"/v1/members/{member_id}/history", "admin").json()["entries"][0]
    assert (entry["kind"], entry["amount"], entry["counterparty"]) == ("reversal", charge["price"], "spend")
    again = api.post(f"/v1/operations/{charge['query_id']}/reversal", "admin", {})
    assert again.status_code == 409 and "already reversed" in again.json()["detail"]
    summary = api.get("/v1/summary", "admin").json()
    assert summary["credits_spent"] == 0 and summary["credits_outstanding"] == 5
    check_books(api.ledger)


def test_reversing_a_spent_grant_is_refused_and_changes_nothing(api: Api) -> None:
    member_id = api.new_member()
    grant = api.post(f"/v1/members/{member_id}/grants", "admin", {"amount": 1}).json()
    api.post(f"/v1/members/{member_id}/charges", "operator", {})
    refused = api.post(f"/v1/operations/{grant['operation_id']}/reversal", "admin", {})
    assert refused.status_code == 402 and refused.json()["available"] == 0
    assert api.post("/v1/operations/00000000-0000-0000-0000-000000000001/reversal", "admin", {}).status_code == 404
    assert api.post(f"/v1/operations/{grant['operation_id']}/reversal", "operator", {}).status_code == 403
    check_books(api.ledger)


def test_revoked_key_is_401(api: Api) -> None:
    from datalever.web.keys import revoke_key

    assert api.get("/v1/summary", "operator").status_code == 200
    with api.ledger.engine.begin() as conn:
        assert revoke_key(conn, api.tokens["operator"].split("_", 2)[1])
    response = api.get("/v1/summary", "operator")
    assert response.status_code == 401 and response.json()["detail"] == "invalid or revoked API key"
