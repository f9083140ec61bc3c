"""A pools community on a web test service, set up through the pools API: valued and funded for the month
before the clock's, one member with credits, one open data-use proposal."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from tests.support.web import Web

COMMUNITY = "stackexchange"
PREFERENCES = {"coalition": COMMUNITY, "paths": ["/questions/"], "default": "allow"}


@dataclass(frozen=True)
class Pool:
    member: int
    proposal: int
    funded: int  # credits the month's funding put in the pool


def _ok(response: object) -> dict:  # type: ignore[type-arg]
    assert getattr(response, "status_code", None) in (200, 201), getattr(response, "text", "")
    return response.json()  # type: ignore[attr-defined,no-any-return]


def funded_pool(web: Web, credits: int = 100) -> Pool:
    now = web.clock()
    ended = (now.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    member = web.new_member(credits=credits)
    _ok(web.api("PUT", f"/v1/pools/communities/{COMMUNITY}", json={"nodes": ["stack-exchange"], "name": "SE"}))
    _ok(web.api("PUT", f"/v1/pools/communities/{COMMUNITY}/members/{member}"))
    _ok(web.api("POST", "/v1/pools/valuations", role="operator", json={"month": ended}))
    funding = _ok(web.api("POST", f"/v1/pools/funding/{ended}", role="operator"))
    funded = sum(a["amount"] for a in funding["allocations"] if a["community"] == COMMUNITY)
    proposal = _ok(
        web.api(
            "POST",
            f"/v1/pools/communities/{COMMUNITY}/proposals",
            json={"kind": "data_use", "title": "Allow the questions", "preferences": PREFERENCES},
        )
    )
    return Pool(member, int(proposal["id"]), funded)


def tally(web: Web, proposal_id: int) -> dict:  # type: ignore[type-arg]
    """Close the proposal: move the clock past its window, tally, and put the clock back."""
    before = web.clock.now
    web.clock.now = before + timedelta(days=30)
    try:
        return _ok(web.api("POST", f"/v1/pools/proposals/{proposal_id}/tally"))
    finally:
        web.clock.now = before
