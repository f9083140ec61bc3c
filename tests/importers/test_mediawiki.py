"""MediaWiki usercontribs importer, on API responses in both format versions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from datalever.importers import ContributionKind, ImportFormatError, Platform, read_usercontribs

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "mediawiki"
ADA = FIXTURES / "usercontribs-ada-fv2.json"
BRAM = FIXTURES / "usercontribs-bram-fv1.json"


def test_formatversion_2_fields_and_reverted_tag() -> None:
    raw = json.loads(ADA.read_text())["query"]["usercontribs"]
    records = list(read_usercontribs(ADA))
    assert len(records) == len(raw)
    for record, item in zip(records, raw, strict=True):
        assert record.platform is Platform.WIKIPEDIA and record.kind is ContributionKind.EDIT
        assert record.user_id == str(item["userid"]) and record.user_name == item["user"]
        assert record.namespace == item["ns"]
        assert record.reverted == ("mw-reverted" in item["tags"])
        assert record.minor == item["minor"]
        assert record.size_change == item["sizediff"]
        assert record.url == f"https://en.wikipedia.org/w/index.php?oldid={item['revid']}"


def test_formatversion_1_flags_and_logged_out_edits() -> None:
    raw = json.loads(BRAM.read_text())["query"]["usercontribs"]
    records = list(read_usercontribs(BRAM, site="de.wikipedia.org"))
    assert len(records) == sum(1 for item in raw if item["userid"])  # the IP edit (userid 0) has no account
    minor = {r.source_id for r in records if r.minor}
    assert minor == {f"revision:{item['revid']}" for item in raw if "minor" in item and item["userid"]}
    assert all(r.site == "de.wikipedia.org" for r in records)


def test_without_tags_the_reverted_signal_is_unknown(tmp_path: Path) -> None:
    page = json.loads(ADA.read_text())
    for item in page["query"]["usercontribs"]:
        del item["tags"]
    path = tmp_path / "page.json"
    path.write_text(json.dumps(page))
    assert {r.reverted for r in read_usercontribs(path)} == {None}


def test_pages_as_json_lines(tmp_path: Path) -> None:
    path = tmp_path / "pages.jsonl"
    path.write_text(json.dumps(json.loads(ADA.read_text())) + "\n" + json.dumps(json.loads(BRAM.read_text())) + "\n")
    assert len(list(read_usercontribs(path))) == len(list(read_usercontribs(ADA))) + len(list(read_usercontribs(BRAM)))


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        ({"error": {"code": "baduser_ucuser", "info": "Invalid value"}}, "error response \\(code baduser_ucuser\\)"),
        ({"batchcomplete": "", "query": {"pages": {}}}, "not a list=usercontribs response"),
        ({"query": {"usercontribs": [{"userid": 1, "revid": 5, "ns": 0}]}}, r"contribution 1 \(revid=5\): timestamp"),
        (
            {"query": {"usercontribs": [{"userid": 1, "revid": 5, "ns": "main", "timestamp": "2024-01-01T00:00:00Z"}]}},
            "ns",
        ),
    ],
)
def test_wrong_documents_are_refused(tmp_path: Path, document: dict, expected: str) -> None:
    path = tmp_path / "page.json"
    path.write_text(json.dumps(document))
    with pytest.raises(ImportFormatError, match=expected):
        list(read_usercontribs(path))


def test_truncated_response(tmp_path: Path) -> None:
    text = ADA.read_text()
    path = tmp_path / "page.json"
    path.write_text(text[: len(text) - 200])
    with pytest.raises(ImportFormatError, match=r"page\.json: line \d+, column \d+: .*truncated"):
        list(read_usercontribs(path))
