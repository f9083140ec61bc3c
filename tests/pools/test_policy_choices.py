"""The policy's choices reach the service: burnt vote credits, linear cost, quadratic funding, share of spend."""

from __future__ import annotations

from typing import Any

from datalever.economy.pools import BudgetKind, SpendingRule, VoteCost, VoteCreditsTo
from tests.pools.helpers import Api, add_member, balance, community, pool_balance
from tests.support.books import check_books


def set_policy(api: Api, voting: dict[str, Any] | None = None, **pools: Any) -> None:
    policy = api.ledger.policy
    section = policy.pools.model_copy(update=pools)
    if voting:
        section = section.model_copy(update={"voting": section.voting.model_copy(update=voting)})
    api.ledger.policy = policy.model_copy(update={"pools": section})


def test_quadratic_funding_with_burnt_linear_votes(api: Api) -> None:
    set_policy(
        api,
        {"cost": VoteCost.LINEAR, "credits_to": VoteCreditsTo.BURN, "spending_rule": SpendingRule.QUADRATIC_FUNDING},
    )
    community(api, "se", ["stack-exchange"])
    members = [api.new_member(credits=20) for _ in range(4)]
    for m in members:
        add_member(api, "se", m)
    assert api.post("/v1/pools/funding/2026-02", "operator", key=None).status_code == 201
    proposal = api.post(
        "/v1/pools/communities/se/proposals",
        "admin",
        {
            "kind": "spending",
            "title": "qf",
            "budget": 100,
            "projects": [
                {"title": "a", "cost": 1000, "recipient_member_id": members[0]},
                {"title": "b", "cost": 1000, "recipient_member_id": members[1]},
            ],
        },
    ).json()["id"]
    # Project 1: four members give 1 credit each -> (4 x 1)^2 = 16; project 2: one member gives 4 -> 4.
    for m in members:
        key = api.member_key(m)
        assert (
            api.post(
                f"/v1/pools/proposals/{proposal}/votes", key, {"member_id": m, "option_id": 1, "votes": 1}
            ).status_code
            == 201
        )
    key = api.member_key(members[3])
    assert (
        api.post(
            f"/v1/pools/proposals/{proposal}/votes", key, {"member_id": members[3], "option_id": 2, "votes": 4}
        ).json()["credits"]
        == 4
    )
    pool = pool_balance(api, "se")
    assert pool == 10_000  # burnt: vote credits went to the spend sink, not the pool
    api.clock.advance(days=15)
    tally = api.post(f"/v1/pools/proposals/{proposal}/tally", "admin", key=None).json()["tally"]
    assert tally["rule"] == "quadratic_funding"
    assert tally["payouts"] == [
        {"option_id": 1, "amount": 16, "recipient_member_id": members[0]},
        {"option_id": 2, "amount": 4, "recipient_member_id": members[1]},
    ]
    assert pool_balance(api, "se") == pool - 20 and balance(api, members[0]) == 19 + 16
    check_books(api.ledger)


def test_budget_as_a_share_of_the_month_query_spend(api: Api) -> None:
    set_policy(api, budget=BudgetKind.SHARE_OF_SPEND, spend_share_percent=50)
    community(api, "se", ["stack-exchange"])
    member = api.new_member(credits=20)
    api.clock.now = api.clock.now.replace(month=2, day=10)
    for _ in range(3):
        assert api.post(f"/v1/members/{member}/charges", "operator", {}).status_code == 201
    api.clock.now = api.clock.now.replace(month=3, day=10)
    funding = api.post("/v1/pools/funding/2026-02", "operator", key=None).json()
    assert funding["credits_spent_on_queries"] == 3 and funding["budget"] == 1  # 50% of 3, rounded down
    assert pool_balance(api, "se") == 1
    check_books(api.ledger)


def test_without_a_quorum_a_data_use_change_is_rejected_and_the_export_stays(api: Api) -> None:
    set_policy(api, {"quorum_percent": 60})
    community(api, "se", ["stack-exchange"])
    prefs = {"coalition": "se", "paths": ["/q/"], "default": "allow"}
    assert (
        api.client.put("/v1/flows/coalitions/se/preferences", json=prefs, headers=api.headers("admin")).status_code
        == 200
    )
    ana, ben = api.new_member(credits=10), api.new_member(credits=10)
    add_member(api, "se", ana)
    add_member(api, "se", ben)
    robots = api.client.get("/v1/flows/coalitions/se/robots.txt").text
    pid = api.post(
        "/v1/pools/communities/se/proposals",
        api.member_key(ana),
        {"kind": "data_use", "title": "deny", "preferences": {"default": "deny"}},
    ).json()["id"]
    vote = {"member_id": ana, "option_id": 1, "votes": 1}
    assert api.post(f"/v1/pools/proposals/{pid}/votes", f"member:{ana}", vote).status_code == 201
    api.clock.advance(days=15)
    tally = api.post(f"/v1/pools/proposals/{pid}/tally", "admin", key=None).json()
    assert tally["status"] == "rejected" and tally["tally"]["quorum_met"] is False  # 1 of 2 members < 60%
    assert api.client.get("/v1/flows/coalitions/se/robots.txt").text == robots


def test_members_of_the_community_may_open_proposals_others_may_not(api: Api) -> None:
    community(api, "se", ["stack-exchange"])
    insider, outsider = api.new_member(), api.new_member()
    add_member(api, "se", insider)
    body = {"kind": "data_use", "title": "t", "preferences": {"default": "deny"}}
    assert api.post("/v1/pools/communities/se/proposals", api.member_key(insider), body).status_code == 201
    refused = api.post("/v1/pools/communities/se/proposals", api.member_key(outsider), body)
    assert refused.status_code == 403 and refused.json()["code"] == "not_a_member"
