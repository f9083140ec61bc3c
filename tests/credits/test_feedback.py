"""Feedback: pays per reputation once accepted, lowers reputation when rejected, and filters spam."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from datalever.economy import feedback_reward, reputation_after
from tests.support.api import Api
from tests.support.books import check_books


def _charged_query(api: Api, member_id: int) -> str:
    response = api.post(f"/v1/members/{member_id}/charges", "operator", {})
    assert response.status_code == 201, response.text
    return str(response.json()["query_id"])


def _member_with_queries(api: Api, queries: int) -> tuple[int, str, list[str]]:
    member_id = api.new_member(credits=100)
    role = api.member_key(member_id)
    return member_id, role, [_charged_query(api, member_id) for _ in range(queries)]


def _feedback(api: Api, role: str, member_id: int, query_id: str, text: str) -> Any:
    return api.post(f"/v1/members/{member_id}/feedback", role, {"query_id": query_id, "text": text})


def test_accepted_feedback_pays_by_reputation_and_raises_it(api: Api) -> None:
    rules = api.ledger.policy.feedback
    member_id, role, [query] = _member_with_queries(api, 1)
    before = api.get(f"/v1/members/{member_id}/balance", "admin").json()["balance"]
    submitted = _feedback(api, role, member_id, query, "The answer cited a retracted paper.")
    assert submitted.status_code == 201 and submitted.json()["status"] == "pending"
    verdict = api.post(f"/v1/feedback/{submitted.json()['id']}/verdict", "operator", {"accepted": True})
    assert verdict.status_code == 200
    expected_reward = feedback_reward(rules.initial_reputation, rules)
    assert verdict.json()["reward"] == expected_reward
    assert verdict.json()["reputation"] == pytest.approx(reputation_after(rules.initial_reputation, True, rules))
    assert api.get(f"/v1/members/{member_id}/balance", "admin").json()["balance"] == before + expected_reward
    history = api.get(f"/v1/members/{member_id}/history", role).json()["entries"]
    assert history[0]["kind"] == "feedback" and history[0]["lot"]["expires_at"] is None
    again = api.post(f"/v1/feedback/{submitted.json()['id']}/verdict", "operator", {"accepted": False})
    assert again.status_code == 409 and "already moderated" in again.json()["detail"]
    check_books(api.ledger)


def test_rejected_feedback_lowers_reputation_and_pays_nothing(api: Api) -> None:
    rules = api.ledger.policy.feedback
    member_id, role, [query] = _member_with_queries(api, 1)
    before = api.get(f"/v1/members/{member_id}/balance", "admin").json()["balance"]
    submitted = _feedback(api, role, member_id, query, "spam spam")
    verdict = api.post(f"/v1/feedback/{submitted.json()['id']}/verdict", "admin", {"accepted": False})
    assert verdict.json()["reward"] == 0
    assert verdict.json()["reputation"] == pytest.approx(reputation_after(rules.initial_reputation, False, rules))
    assert api.get(f"/v1/members/{member_id}", "admin").json()["reputation"] == pytest.approx(
        verdict.json()["reputation"]
    )
    assert api.get(f"/v1/members/{member_id}/balance", "admin").json()["balance"] == before


def test_daily_cap_refuses_the_next_submission_until_tomorrow(api: Api) -> None:
    cap = api.ledger.policy.feedback.daily_cap
    member_id, role, queries = _member_with_queries(api, cap + 2)
    for index in range(cap):
        assert _feedback(api, role, member_id, queries[index], f"note number {index}").status_code == 201
    refused = _feedback(api, role, member_id, queries[cap], "one too many")
    assert refused.status_code == 429 and f"cap of {cap}" in refused.json()["detail"]
    api.clock.now += timedelta(days=1)
    assert _feedback(api, role, member_id, queries[cap + 1], "a new day").status_code == 201


def test_duplicate_text_is_refused_even_with_other_case_and_spacing(api: Api) -> None:
    member_id, role, queries = _member_with_queries(api, 2)
    assert _feedback(api, role, member_id, queries[0], "Great answer").status_code == 201
    duplicate = _feedback(api, role, member_id, queries[1], "  great   ANSWER ")
    assert duplicate.status_code == 409 and "same feedback text" in duplicate.json()["detail"]


def test_second_feedback_on_one_query_is_refused(api: Api) -> None:
    member_id, role, [query] = _member_with_queries(api, 1)
    assert _feedback(api, role, member_id, query, "first").status_code == 201
    assert _feedback(api, role, member_id, query, "second").status_code == 409


def test_feedback_on_another_members_query_is_404(api: Api) -> None:
    member_id, role, _queries = _member_with_queries(api, 0)
    _other, _other_role, [other_query] = _member_with_queries(api, 1)
    response = _feedback(api, role, member_id, other_query, "not mine")
    assert response.status_code == 404 and str(member_id) in response.json()["detail"]
    unknown = _feedback(api, role, member_id, "00000000-0000-0000-0000-000000000000", "nothing")
    assert unknown.status_code == 404


def test_feedback_needs_the_members_own_key(api: Api) -> None:
    member_id, _role, [query] = _member_with_queries(api, 1)
    other_role = api.member_key(api.new_member())
    assert _feedback(api, other_role, member_id, query, "hello").status_code == 403
    assert _feedback(api, "operator", member_id, query, "hello").status_code == 403


@pytest.mark.parametrize("body", [{"text": "no query"}, {"query_id": "not-a-uuid", "text": "x"}, {"query_id": None}])
def test_malformed_feedback_is_422(api: Api, body: dict[str, Any]) -> None:
    member_id, role, _queries = _member_with_queries(api, 0)
    assert api.post(f"/v1/members/{member_id}/feedback", role, body).status_code == 422


def test_whitespace_only_feedback_is_400(api: Api) -> None:
    member_id, role, [query] = _member_with_queries(api, 1)
    response = _feedback(api, role, member_id, query, "   ")
    assert response.status_code == 400 and "empty" in response.json()["detail"]


def test_verdict_on_unknown_feedback_is_404_and_bad_verdict_422(api: Api) -> None:
    assert api.post("/v1/feedback/999/verdict", "admin", {"accepted": True}).status_code == 404
    assert api.post("/v1/feedback/1/verdict", "admin", {"accepted": "yes"}).status_code == 422
