"""The README's stipend example pays the member: link and confirm during the month, pay after it ended."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

from tests.support.api import Api

README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_stipend_example_pays(api: Api) -> None:
    text = README.read_text()
    body = re.search(r"-d '(\{\"contributions\".*?\]\})'", text, re.S)
    link = re.search(r"-d '(\{\"platform\": \"stackexchange\".*?\})'", text)
    assert body is not None and link is not None
    api.clock.now = datetime(2026, 3, 5, 9, 0, tzinfo=UTC)  # during March
    member_id = api.new_member()
    assert member_id == 1
    role = api.member_key(member_id)
    headers = api.headers(role, "readme-link") | {"Content-Type": "application/json"}
    requested = api.client.post(f"/v1/members/{member_id}/links", content=link.group(1), headers=headers)
    assert requested.status_code == 201, requested.text
    assert requested.json()["id"] == 1
    assert api.post("/v1/links/1/confirm", "platform:stackexchange").status_code == 200
    headers = api.headers("platform:stackexchange", "readme-activity") | {"Content-Type": "application/json"}
    reported = api.client.post("/v1/platforms/stackexchange/contributions", content=body.group(1), headers=headers)
    assert reported.status_code == 201, reported.text
    api.clock.now = datetime(2026, 4, 2, 9, 0, tzinfo=UTC)  # March has ended
    report = api.post("/v1/stipends/2026-03/run", "admin", {"member_id": None})
    assert report.status_code == 200, report.text
    paid = [m for m in report.json()["members"] if m["member_id"] == member_id]
    assert paid and paid[0]["status"] == "paid" and paid[0]["amount"] == 50
    assert api.get(f"/v1/members/{member_id}/balance", "admin").json()["balance"] == 50
