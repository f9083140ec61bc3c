"""Each bad input of the pools part gets a clear, specific refusal and changes nothing."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from datalever.ledger.models import OPERATIONS, TRANSFERS
from datalever.pools.models import Proposal, ValuationRun, Vote
from tests.pools.helpers import FUNDERS_ONLY, Api, add_member, balance, community, pool_balance
from tests.support.books import check_books


def _state(api: Api) -> tuple[int, ...]:
    """Counts of everything a refusal must not change."""
    with api.ledger.engine.connect() as conn:
        return tuple(
            int(conn.execute(select(func.count()).select_from(table)).scalar_one())
            for table in (TRANSFERS, OPERATIONS, Vote.__table__, Proposal.__table__, ValuationRun.__table__)
        )


@pytest.fixture
def setup(api: Api) -> dict[str, Any]:
    """A funded community with two members (ana has 20 credits, ben none), an outsider, an open proposal."""
    community(api, "se", ["stack-exchange"], link_platform="stackexchange", link_site="bicycles.stackexchange.com")
    community(api, "wiki", ["wikipedia"])
    ana, ben, eve = api.new_member(credits=20), api.new_member(), api.new_member(credits=50)
    add_member(api, "se", ana)
    add_member(api, "se", ben)
    assert api.post("/v1/pools/funding/2026-02", "operator", key=None).status_code == 201
    proposal = api.post(
        "/v1/pools/communities/se/proposals", "admin", {"kind": "data_use", "title": "t", "preferences": FUNDERS_ONLY}
    )
    assert proposal.status_code == 201, proposal.text
    keys = {m: api.member_key(m) for m in (ana, ben, eve)}
    return {"ana": ana, "ben": ben, "eve": eve, "proposal": proposal.json()["id"], "keys": keys}


def refused(api: Api, response: Any, status: int, code: str, words: str) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["code"] == code, body
    assert words in body["detail"], body


def vote(api: Api, s: dict[str, Any], member: str, votes: int, key: str | None = "auto", option: int = 1) -> Any:
    member_id = s[member]
    return api.post(
        f"/v1/pools/proposals/{s['proposal']}/votes",
        s["keys"][member_id],
        {"member_id": member_id, "option_id": option, "votes": votes},
        key=key,
    )


def test_voting_without_enough_credits(api: Api, setup: dict[str, Any]) -> None:
    before = _state(api)
    refused(api, vote(api, setup, "ben", 1), 402, "insufficient_credits", "1 needed, 0 available")
    refused(api, vote(api, setup, "ana", 5), 402, "insufficient_credits", "25 needed, 20 available")
    assert _state(api) == before and balance(api, setup["ana"]) == 20


def test_voting_by_a_non_member(api: Api, setup: dict[str, Any]) -> None:
    before = _state(api)
    refused(api, vote(api, setup, "eve", 1), 403, "not_a_member", "is not a member of community 'se'")
    assert _state(api) == before and balance(api, setup["eve"]) == 50


def test_voting_for_someone_else(api: Api, setup: dict[str, Any]) -> None:
    response = api.post(
        f"/v1/pools/proposals/{setup['proposal']}/votes",
        setup["keys"][setup["eve"]],
        {"member_id": setup["ana"], "option_id": 1, "votes": 1},
    )
    refused(api, response, 403, "forbidden", "may not access member")


def test_voting_outside_the_window_and_on_a_closed_proposal(api: Api, setup: dict[str, Any]) -> None:
    future = api.post(
        "/v1/pools/communities/se/proposals",
        "admin",
        {
            "kind": "data_use",
            "title": "later",
            "preferences": FUNDERS_ONLY,
            "opens_at": "2026-04-01T00:00:00Z",
            "closes_at": "2026-04-15T00:00:00Z",
        },
    ).json()["id"]
    before = _state(api)
    early = api.post(
        f"/v1/pools/proposals/{future}/votes",
        setup["keys"][setup["ana"]],
        {"member_id": setup["ana"], "option_id": 1, "votes": 1},
    )
    refused(api, early, 409, "voting_closed", "takes votes from 2026-04-01")
    api.clock.advance(days=15)
    refused(api, vote(api, setup, "ana", 1), 409, "voting_closed", "until")
    assert _state(api) == before
    assert api.post(f"/v1/pools/proposals/{setup['proposal']}/tally", "admin", key=None).status_code == 200
    refused(api, vote(api, setup, "ana", 1), 409, "voting_closed", "is closed (rejected)")
    assert balance(api, setup["ana"]) == 20


def test_voting_twice_beyond_the_cap_with_different_keys(api: Api, setup: dict[str, Any]) -> None:
    api.ledger.policy = api.ledger.policy.model_copy(
        update={
            "pools": api.ledger.policy.pools.model_copy(
                update={"voting": api.ledger.policy.pools.voting.model_copy(update={"max_votes_per_member": 3})}
            )
        }
    )
    assert vote(api, setup, "ana", 2, key="first").json()["credits"] == 4
    before = _state(api)
    refused(api, vote(api, setup, "ana", 2, key="second"), 409, "vote_cap_exceeded", "holds 2 votes")
    assert _state(api) == before and balance(api, setup["ana"]) == 16
    third = vote(api, setup, "ana", 1, key="third")  # up to the cap is fine: 3^2 - 2^2 = 5 credits
    assert third.status_code == 201 and third.json()["credits"] == 5 and third.json()["votes_held"] == 3
    replay = vote(api, setup, "ana", 2, key="first")  # a retry of the first vote is a replay, not a new vote
    assert replay.headers.get("Idempotent-Replayed") == "true" and balance(api, setup["ana"]) == 11


def test_unknown_option_and_proposal(api: Api, setup: dict[str, Any]) -> None:
    before = _state(api)
    refused(api, vote(api, setup, "ana", 1, option=7), 400, "unknown_option", "has no option 7")
    missing = api.post(
        "/v1/pools/proposals/999/votes",
        setup["keys"][setup["ana"]],
        {"member_id": setup["ana"], "option_id": 1, "votes": 1},
    )
    refused(api, missing, 404, "unknown_proposal", "proposal 999 does not exist")
    assert _state(api) == before


def test_a_proposal_spending_more_than_the_pool_holds(api: Api, setup: dict[str, Any]) -> None:
    held = pool_balance(api, "se")
    before = _state(api)
    response = api.post(
        "/v1/pools/communities/se/proposals",
        "admin",
        {
            "kind": "spending",
            "title": "too much",
            "budget": held + 1,
            "projects": [{"title": "p", "cost": held + 1, "recipient_member_id": setup["ben"]}],
        },
    )
    refused(api, response, 409, "pool_too_small", f"spends {held + 1} credits but the pool holds {held}")
    assert _state(api) == before


def test_donating_credits_one_does_not_have(api: Api, setup: dict[str, Any]) -> None:
    held = pool_balance(api, "se")
    before = _state(api)
    response = api.post(
        "/v1/pools/communities/se/donations", setup["keys"][setup["ana"]], {"member_id": setup["ana"], "amount": 21}
    )
    refused(api, response, 402, "insufficient_credits", "21 needed, 20 available")
    unknown = api.post(
        "/v1/pools/communities/nope/donations", setup["keys"][setup["ana"]], {"member_id": setup["ana"], "amount": 1}
    )
    refused(api, unknown, 404, "unknown_community", "community 'nope' does not exist")
    assert _state(api) == before and pool_balance(api, "se") == held and balance(api, setup["ana"]) == 20
    ok = api.post(
        "/v1/pools/communities/se/donations", setup["keys"][setup["ana"]], {"member_id": setup["ana"], "amount": 20}
    )
    assert ok.status_code == 201 and pool_balance(api, "se") == held + 20


def test_a_valuation_over_an_unknown_model_or_community(api: Api, setup: dict[str, Any]) -> None:
    before = _state(api)
    model = api.post("/v1/pools/valuations", "operator", {"month": "2026-02", "model": "llama-66b"})
    refused(api, model, 400, "invalid_valuation", "unknown node 'llama-66b'; did you mean 'llama-65b'")
    not_a_model = api.post("/v1/pools/valuations", "operator", {"month": "2026-02", "model": "wikipedia"})
    refused(api, not_a_model, 400, "invalid_valuation", "a valuation needs a catalog model")
    who = api.post("/v1/pools/valuations", "operator", {"month": "2026-02", "communities": ["nope"]})
    refused(api, who, 404, "unknown_community", "community 'nope' does not exist")
    bad_month = api.post("/v1/pools/valuations", "operator", {"month": "2026-13"})
    assert bad_month.status_code == 422 and bad_month.json()["code"] == "invalid_request"
    assert _state(api) == before


def test_funding_a_month_that_has_not_ended_and_tallying_too_early(api: Api, setup: dict[str, Any]) -> None:
    before = _state(api)
    refused(api, api.post("/v1/pools/funding/2026-03", "operator", key=None), 400, "month_not_ended", "has not ended")
    early = api.post(f"/v1/pools/proposals/{setup['proposal']}/tally", "admin", key=None)
    refused(api, early, 409, "voting_open", "takes votes until")
    assert _state(api) == before


def test_roles(api: Api, setup: dict[str, Any]) -> None:
    ana = setup["keys"][setup["ana"]]
    refused(api, api.post("/v1/pools/funding/2026-02", ana, key=None), 403, "forbidden", "may not do this")
    refused(api, api.post("/v1/pools/valuations", "platform", {"month": "2026-02"}), 403, "forbidden", "may not")
    put = api.client.put("/v1/pools/communities/x", json={"nodes": ["wikipedia"]}, headers=api.headers("operator"))
    refused(api, put, 403, "forbidden", "may not do this")
    assert api.client.get(f"/v1/pools/proposals/{setup['proposal']}").status_code == 200  # tallies are public


def test_joining_needs_a_confirmed_link_on_the_community_platform(api: Api, setup: dict[str, Any]) -> None:
    eve = setup["eve"]
    key = setup["keys"][eve]
    put = api.client.put(f"/v1/pools/communities/se/members/{eve}", headers=api.headers(key))
    refused(api, put, 403, "no_matching_link", "no confirmed linked account on stackexchange")
    link = api.post(
        f"/v1/members/{eve}/links",
        key,
        {"platform": "stackexchange", "site": "bicycles.stackexchange.com", "account_id": "42"},
    )
    assert link.status_code == 201, link.text
    assert api.post(f"/v1/links/{link.json()['id']}/confirm", "platform:stackexchange", {}).status_code == 200
    joined = api.client.put(f"/v1/pools/communities/se/members/{eve}", headers=api.headers(key))
    assert joined.status_code == 201 and joined.json()["joined_via"] == f"link:{link.json()['id']}"
    admin = api.client.put(f"/v1/pools/communities/wiki/members/{eve}", headers=api.headers("admin"))
    assert admin.json()["joined_via"].startswith("admin:")
    refused(
        api,
        api.client.put("/v1/pools/communities/wiki/members/999", headers=api.headers("admin")),
        404,
        "unknown_member",
        "member 999 does not exist",
    )


def test_community_with_an_unknown_node(api: Api) -> None:
    put = api.client.put("/v1/pools/communities/x", json={"nodes": ["wikipedai"]}, headers=api.headers("admin"))
    refused(api, put, 400, "invalid_community", "unknown node 'wikipedai'; did you mean 'wikipedia'")
    assert api.client.get("/v1/pools/communities/x", headers=api.headers("admin")).status_code == 404


def test_bad_data_use_preferences_are_refused(api: Api, setup: dict[str, Any]) -> None:
    before = _state(api)
    response = api.post(
        "/v1/pools/communities/se/proposals",
        "admin",
        {"kind": "data_use", "title": "t", "preferences": {"rules": [{"agent": "GPTBott", "decision": "deny"}]}},
    )
    refused(api, response, 400, "invalid_proposal", "did you mean 'GPTBot'")
    assert _state(api) == before
    check_books(api.ledger)


@pytest.mark.parametrize(
    "month",
    ["\uff12\uff10\uff12\uff16-01", "2026-01%0A", "%202026-01", "0000-01", "2026-1", "\u0662\u0660\u0662\u0666-01"],
)
def test_a_month_has_one_spelling_in_funding_and_valuations(api: Api, setup: dict[str, Any], month: str) -> None:
    """Funding is once per month because its key is built from the month: another spelling of an ended month
    must be refused, not funded a second time."""
    funded = api.post("/v1/pools/funding/2026-01", "operator", key=None)
    assert funded.status_code in (200, 201), funded.text
    before = _state(api)
    again = api.post(f"/v1/pools/funding/{month}", "operator", key=None)
    assert again.status_code == 422 and again.json()["code"] == "invalid_request", again.text
    valued = api.post("/v1/pools/valuations", "operator", {"month": month})
    assert valued.status_code == 422 and valued.json()["code"] == "invalid_request", valued.text
    assert _state(api) == before
