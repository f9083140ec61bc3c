"""GitHub events importer, on fixtures that follow the documented event object and payloads."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from datalever.importers import ContributionKind, ImportFormatError, Platform, read_events

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "github"
EVENTS = FIXTURES / "events.json"


def _raw() -> list[dict]:
    return json.loads(EVENTS.read_text())


def test_contribution_events_become_records_and_others_are_skipped() -> None:
    raw = _raw()
    records = list(read_events(EVENTS))
    skipped = {e["id"] for e in raw if e["type"] == "WatchEvent"}
    assert skipped and not skipped & {r.source_id.removeprefix("event:") for r in records}
    assert len(records) == len(raw) - len(skipped)
    assert all(r.platform is Platform.GITHUB and r.site == "github.com" for r in records)
    by_id = {r.source_id: r for r in records}
    for event in raw:
        record = by_id.get(f"event:{event['id']}")
        if record is None:
            continue
        assert record.public is event["public"]
        assert record.repository == event["repo"]["name"]
        assert record.repository_owner == event["repo"]["name"].split("/")[0]


def test_merged_pull_request_is_credited_to_its_author_and_self_merges_are_marked() -> None:
    raw = {e["id"]: e for e in _raw()}
    merged = [r for r in read_events(EVENTS) if r.kind is ContributionKind.PULL_REQUEST_MERGED]
    assert len(merged) == sum(
        1 for e in raw.values() if e["type"] == "PullRequestEvent" and e["payload"]["pull_request"]["merged"]
    )
    for record in merged:
        pull_request = raw[record.source_id.removeprefix("event:")]["payload"]["pull_request"]
        assert record.user_id == str(pull_request["user"]["id"])  # the author, even when a maintainer merged
        assert record.self_approved == (pull_request["merged_by"]["id"] == pull_request["user"]["id"])
    assert {r.self_approved for r in merged} == {True, False}


def test_reviews_know_whose_pull_request_they_review() -> None:
    reviews = [r for r in read_events(EVENTS) if r.kind is ContributionKind.REVIEW]
    assert len(reviews) == 2
    assert all(r.self_approved is False for r in reviews)
    assert {r.repository_owner for r in reviews} == {"bigproject", "octo-dev"}


def test_json_lines_and_array_give_the_same_records() -> None:
    assert list(read_events(FIXTURES / "events.jsonl")) == list(read_events(EVENTS))


def test_truncated_array_names_file_line_and_column(tmp_path: Path) -> None:
    text = EVENTS.read_text()
    path = tmp_path / "events.json"
    path.write_text(text[: len(text) // 2])
    with pytest.raises(ImportFormatError, match=r"events\.json: line \d+, column \d+: .*truncated"):
        list(read_events(path))


def test_bad_line_in_json_lines_names_its_line(tmp_path: Path) -> None:
    lines = (FIXTURES / "events.jsonl").read_text().splitlines()
    lines[3] = lines[3][:40]
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(ImportFormatError, match=r"events\.jsonl: line 4, column \d+"):
        list(read_events(path))


def test_event_missing_a_documented_field_is_refused(tmp_path: Path) -> None:
    raw = _raw()
    del raw[2]["actor"]["id"]
    raw[5]["created_at"] = "last tuesday"
    path = tmp_path / "events.json"
    path.write_text(json.dumps(raw))
    with pytest.raises(ImportFormatError, match=rf"event 3 \(id={raw[2]['id']}\): actor\.id: missing"):
        list(read_events(path))


@pytest.mark.parametrize(("content", "expected"), [("", "empty file"), ("[1, 2]", "expected an event object")])
def test_empty_or_wrong_shape(tmp_path: Path, content: str, expected: str) -> None:
    path = tmp_path / "events.json"
    path.write_text(content)
    with pytest.raises(ImportFormatError, match=expected):
        list(read_events(path))
