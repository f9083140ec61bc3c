"""Helpers of the pools tests: set up communities, read pool and member balances."""

from __future__ import annotations

from typing import Any

from tests.support.api import Api

OPEN_PREFS: dict[str, Any] = {"paths": ["/questions/"], "default": "allow"}
FUNDERS_ONLY: dict[str, Any] = {
    "paths": ["/questions/"],
    "default": "allow",
    "rules": [{"purpose": "training", "decision": "allow_if_funding"}],
}


def community(api: Api, cid: str, nodes: list[str], **extra: Any) -> dict[str, Any]:
    response = api.client.put(
        f"/v1/pools/communities/{cid}", json={"nodes": nodes, **extra}, headers=api.headers("admin")
    )
    assert response.status_code in (200, 201), response.text
    return dict(response.json())


def add_member(api: Api, cid: str, member_id: int) -> None:
    response = api.client.put(f"/v1/pools/communities/{cid}/members/{member_id}", headers=api.headers("admin"))
    assert response.status_code in (200, 201), response.text


def pool_balance(api: Api, cid: str) -> int:
    return int(api.get(f"/v1/pools/communities/{cid}", "admin").json()["pool_balance"])


def balance(api: Api, member_id: int) -> int:
    return int(api.get(f"/v1/members/{member_id}/balance", "admin").json()["balance"])
