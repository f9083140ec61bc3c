"""Feedback duplicates are found through Unicode compatibility forms and invisible characters (issue 10)."""

from __future__ import annotations

import pytest

from tests.support.api import Api


@pytest.mark.parametrize(
    "copy",
    [
        "\uff27\uff52\uff45\uff41\uff54 answer",  # full-width "Great"
        "Great\u200b answer",  # zero-width space
        "\ufeffGreat answer\u2060",  # byte-order mark, word joiner
        "Gre\u00adat answer",  # soft hyphen
        "great\u00a0answer",  # no-break space
    ],
)
def test_unicode_variants_are_duplicates(api: Api, copy: str) -> None:
    member_id = api.new_member(credits=10)
    role = api.member_key(member_id)
    queries = [api.post(f"/v1/members/{member_id}/charges", "operator", {}).json()["query_id"] for _ in range(2)]
    first = api.post(f"/v1/members/{member_id}/feedback", role, {"query_id": queries[0], "text": "Great answer"})
    assert first.status_code == 201, first.text
    again = api.post(f"/v1/members/{member_id}/feedback", role, {"query_id": queries[1], "text": copy})
    assert again.status_code == 409, again.text
    assert "same feedback text" in again.json()["detail"]
