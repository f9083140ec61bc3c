"""End to end over HTTP: a community is valued and funded, a member votes a data-use change that is adopted
and changes the robots.txt export (and the alignment score's agency), and a pool-spending proposal pays out."""

from __future__ import annotations

from protego import Protego

from tests.pools.helpers import FUNDERS_ONLY, OPEN_PREFS, Api, add_member, balance, community, pool_balance
from tests.support.books import check_books


def test_value_fund_vote_adopt_and_pay_out(api: Api) -> None:
    # Two communities tied to catalog nodes (the clock is 2026-03-10, so 2026-02 has ended).
    community(api, "stackexchange", ["stack-exchange"], name="Stack Exchange", change_cost=150)
    community(api, "wikipedians", ["wikipedia"])
    prefs = api.client.put(
        "/v1/flows/coalitions/stackexchange/preferences",
        json={"coalition": "stackexchange", **OPEN_PREFS},
        headers=api.headers("admin"),
    )
    assert prefs.status_code == 200, prefs.text
    robots_before = api.client.get("/v1/flows/coalitions/stackexchange/robots.txt").text
    assert Protego.parse(robots_before).can_fetch("https://se.example/questions/1", "GPTBot")

    ana, ben = api.new_member(credits=100), api.new_member(credits=0)
    add_member(api, "stackexchange", ana)
    add_member(api, "stackexchange", ben)

    # Valued (Shapley by default) and funded: 10,000 credits split by value, exactly once.
    valuation = api.post("/v1/pools/valuations", "operator", {"month": "2026-02"})
    assert valuation.status_code == 201, valuation.text
    rows = {r["community"]: r for r in valuation.json()["result"]["communities"]}
    assert rows["wikipedians"]["value"] > rows["stackexchange"]["value"] > 0
    funding = api.post("/v1/pools/funding/2026-02", "operator", key=None)
    assert funding.status_code == 201, funding.text
    amounts = {a["community"]: a["amount"] for a in funding.json()["allocations"]}
    assert sum(amounts.values()) == 10_000
    for case in ("amount_low_case", "amount_high_case"):  # the split at each end of the catalog's ranges
        assert sum(a[case] for a in funding.json()["allocations"]) == 10_000
    assert amounts["stackexchange"] == round(10_000 * rows["stackexchange"]["weight"])
    again = api.post("/v1/pools/funding/2026-02", "operator", key=None)
    assert again.headers.get("Idempotent-Replayed") == "true" and again.json() == funding.json()
    assert pool_balance(api, "stackexchange") == amounts["stackexchange"]

    # A data-use proposal: training crawlers only if their operator funds the pool.
    proposal = api.post(
        "/v1/pools/communities/stackexchange/proposals",
        "admin",
        {"kind": "data_use", "title": "Training only by funders", "preferences": FUNDERS_ONLY},
    )
    assert proposal.status_code == 201, proposal.text
    pid = proposal.json()["id"]
    ana_key = api.member_key(ana)
    vote = api.post(f"/v1/pools/proposals/{pid}/votes", ana_key, {"member_id": ana, "option_id": 1, "votes": 3})
    assert vote.status_code == 201, vote.text
    assert vote.json()["credits"] == 9  # quadratic: 3 votes cost 9 credits
    assert balance(api, ana) == 91
    assert pool_balance(api, "stackexchange") == amounts["stackexchange"] + 9  # vote credits go to the pool

    api.clock.advance(days=15)
    tally = api.post(f"/v1/pools/proposals/{pid}/tally", "admin", key=None)
    assert tally.status_code == 200, tally.text
    published = tally.json()["tally"]
    assert published["outcome"] == "adopted"
    assert {o["title"]: o["votes"] for o in published["options"]} == {"against": 0, "for": 3}
    assert "member_id" not in str(published)  # totals only, never who voted how

    robots = api.client.get("/v1/flows/coalitions/stackexchange/robots.txt").text
    parsed = Protego.parse(robots)
    assert not parsed.can_fetch("https://se.example/questions/1", "GPTBot")  # OpenAI does not fund the pool
    assert parsed.can_fetch("https://se.example/questions/1", "AI2Bot")  # Ai2 funded it (real transfers)
    stored = api.get("/v1/flows/coalitions/stackexchange/preferences", "admin").json()
    assert stored["preferences"]["funding_operators"] == ["Ai2"]

    # The alignment score sees the change: ana reconfigured the flow for 9 credits (< 100), ben did not vote.
    scores = api.client.put("/v1/flows/alignment/llama-65b/2026-03", headers=api.headers("admin")).json()
    row = next(s for s in scores["scores"] if s["coalition"] == "stackexchange")
    assert (row["members"], row["agency"]) == (2, 1)

    # A pool-spending proposal pays out (Method of Equal Shares) from the pool to the project's recipient.
    spending = api.post(
        "/v1/pools/communities/stackexchange/proposals",
        "admin",
        {
            "kind": "spending",
            "title": "Community projects",
            "budget": 1000,
            "projects": [
                {"title": "Moderator tooling", "cost": 600, "recipient_member_id": ben},
                {"title": "Translation sprint", "cost": 700, "recipient_member_id": ben},
            ],
        },
    )
    assert spending.status_code == 201, spending.text
    sid = spending.json()["id"]
    assert (
        api.post(
            f"/v1/pools/proposals/{sid}/votes", ana_key, {"member_id": ana, "option_id": 1, "votes": 2}
        ).status_code
        == 201
    )
    before = pool_balance(api, "stackexchange")
    api.clock.advance(days=15)
    paid = api.post(f"/v1/pools/proposals/{sid}/tally", "operator", key=None)
    assert paid.status_code == 200, paid.text
    assert paid.json()["tally"]["payouts"] == [{"option_id": 1, "amount": 600, "recipient_member_id": ben}]
    assert balance(api, ben) == 600
    assert pool_balance(api, "stackexchange") == before - 600
    replay = api.post(f"/v1/pools/proposals/{sid}/tally", "operator", key=None)
    assert replay.headers.get("Idempotent-Replayed") == "true"
    assert balance(api, ben) == 600  # paid exactly once
    check_books(api.ledger)
