"""A few months of economy on a test service, driven through the public API with a test clock: allowance runs,
charges, an expiry run, accepted feedback, a grant, a confirmed link, a community with preferences."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from tests.support.web import Web


@dataclass(frozen=True)
class World:
    member: int
    others: list[int]
    link_id: int
    community: str


def _ok(response: object, status: int = 200) -> dict:  # type: ignore[type-arg]
    code = getattr(response, "status_code", None)
    assert code in (status, 201, 200), getattr(response, "text", "")
    return response.json()  # type: ignore[attr-defined,no-any-return]


def populate(web: Web) -> World:
    web.clock.now = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    member = web.new_member()
    others = [web.new_member() for _ in range(3)]
    member_role = f"member:{member}"
    from datalever.web.keys import create_key

    with web.ledger.engine.begin() as conn:
        web.tokens[member_role] = create_key(conn, "member", member)[1]
    for month, charges in (("2026-01", 12), ("2026-02", 18), ("2026-03", 9)):
        web.clock.now = datetime(int(month[:4]), int(month[5:]), 2, 8, 0, tzinfo=UTC)
        _ok(web.api("POST", "/v1/expiry/runs", json={}))
        _ok(web.api("POST", "/v1/allowance/runs", json={"month": month}))
        for i in range(charges):
            web.clock.advance(minutes=40)
            who = member if i % 2 == 0 else others[i % 3]
            _ok(
                web.api("POST", f"/v1/members/{who}/charges", role="operator", json={"reference": f"q-{month}-{i}"}),
                201,
            )
    # Accepted feedback on one of the member's March charges.
    charge = _ok(web.api("POST", f"/v1/members/{member}/charges", role="operator", json={}), 201)
    feedback = _ok(
        web.api(
            "POST",
            f"/v1/members/{member}/feedback",
            role=member_role,
            json={"query_id": charge["query_id"], "text": "The answer cited the wrong API version."},
        ),
        201,
    )
    _ok(web.api("POST", f"/v1/feedback/{feedback['id']}/verdict", role="admin", json={"accepted": True}))
    _ok(web.api("POST", f"/v1/members/{member}/grants", json={"amount": 25, "source": "welcome"}), 201)
    link = _ok(
        web.api(
            "POST",
            f"/v1/members/{member}/links",
            role=member_role,
            json={"platform": "stackexchange", "site": "stackoverflow.com", "account_id": "4242"},
        ),
        201,
    )
    _ok(web.api("POST", f"/v1/links/{link['id']}/confirm", role="platform"))
    community = "stack-overflow"
    _ok(
        web.api(
            "PUT", f"/v1/flows/coalitions/{community}", json={"name": "Stack Overflow community", "change_cost": 10}
        )
    )
    for who in [member, *others]:
        _ok(web.api("PUT", f"/v1/flows/coalitions/{community}/members/{who}", json={}))
    _ok(
        web.api(
            "PUT",
            f"/v1/flows/coalitions/{community}/preferences",
            json={"coalition": community, "default": "deny", "rules": [{"agent": "GPTBot", "decision": "deny"}]},
        ),
    )
    web.clock.now = datetime(2026, 3, 20, 12, 0, tzinfo=UTC)
    return World(member, others, int(link["id"]), community)
