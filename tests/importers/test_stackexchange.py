"""Stack Exchange dump importer: the real Bicycles Meta dump, streaming, and every kind of broken file."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError

from datalever.importers import Contribution, ContributionKind, ImportFormatError, Platform
from datalever.importers.stackexchange import CHUNK_BYTES, dump_files, read_dump, read_table
from tests.support.data import require_shared_data

SITE = "bicycles.meta.stackexchange.com"
DUMP = ("stackexchange-bicycles-meta",)


def _rows(path: Path) -> list[dict[str, str]]:
    """An independent reading of a table with the standard library, to check the importer against."""
    return [dict(element.attrib) for element in ET.parse(path).getroot()]


def test_posts_match_an_independent_reading_of_the_real_dump() -> None:
    posts_xml = require_shared_data(*DUMP, "Posts.xml")
    rows = _rows(posts_xml)
    expected = {
        f"post:{row['Id']}": row for row in rows if row.get("OwnerUserId") and not row["OwnerUserId"].startswith("-")
    }
    records = list(read_table(posts_xml, SITE))
    assert {r.source_id for r in records} == set(expected)
    for record in records:
        row = expected[record.source_id]
        assert record.platform is Platform.STACKEXCHANGE
        assert record.user_id == row["OwnerUserId"]
        assert record.score == int(row["Score"])
        assert record.occurred_at == datetime.fromisoformat(row["CreationDate"]).replace(tzinfo=UTC)
        kind = {"1": ContributionKind.QUESTION, "2": ContributionKind.ANSWER}.get(row["PostTypeId"])
        assert record.kind is (kind or ContributionKind.OTHER_POST)


def test_accepted_answers_are_joined_in_one_streaming_pass() -> None:
    posts_xml = require_shared_data(*DUMP, "Posts.xml")
    rows = _rows(posts_xml)
    owner = {row["Id"]: row.get("OwnerUserId") for row in rows}
    asker_of = {row["AcceptedAnswerId"]: row.get("OwnerUserId") for row in rows if row.get("AcceptedAnswerId")}
    answers = [r for r in read_table(posts_xml, SITE) if r.kind is ContributionKind.ANSWER]
    accepted = {r.source_id.removeprefix("post:"): r for r in answers if r.accepted}
    expected = {answer for answer in asker_of if owner.get(answer) and not owner[answer].startswith("-")}
    assert set(accepted) == expected
    assert len(accepted) > 100
    for answer_id, record in accepted.items():
        assert record.self_approved == (asker_of[answer_id] == record.user_id)
    assert any(r.self_approved for r in accepted.values())  # the dump does contain self-accepted answers


def test_whole_dump_kinds_and_attribution_links() -> None:
    dump = require_shared_data(*DUMP)
    records = list(read_dump(dump, SITE))
    kinds = Counter(r.kind for r in records)
    users = [row for row in _rows(dump / "Users.xml") if not row["Id"].startswith("-")]
    assert kinds[ContributionKind.ACCOUNT] == len(users)
    assert kinds[ContributionKind.BADGE] == sum(1 for _ in _rows(dump / "Badges.xml"))
    comment_rows = [row for row in _rows(dump / "Comments.xml") if not row.get("UserId", "-").startswith("-")]
    assert kinds[ContributionKind.COMMENT] == len(comment_rows)
    assert kinds[ContributionKind.POST_EDIT] > 0
    # The NOTICE: a question is at /q/<Id>, a user at /users/<Id>; both links travel with the records.
    question = next(r for r in records if r.kind is ContributionKind.QUESTION)
    assert question.url == f"https://{SITE}/q/{question.source_id.removeprefix('post:')}"
    account = next(r for r in records if r.kind is ContributionKind.ACCOUNT)
    assert account.url == f"https://{SITE}/users/{account.user_id}" and account.user_name
    # Rows are dated 2010-08-25 to 2023-09-03 (NOTICE) and every time is timezone-aware UTC.
    times = [r.occurred_at for r in records]
    assert all(t.tzinfo is not None for t in times)
    assert min(times).date().isoformat() >= "2010-08-25" and max(times).date().isoformat() <= "2023-09-03"
    assert not any(r.user_id.startswith("-") for r in records)  # the Community bot is not a person


def _table(tmp_path: Path, name: str, root: str, rows: list[str]) -> Path:
    path = tmp_path / name
    path.write_text(
        '\ufeff<?xml version="1.0" encoding="utf-8"?>\n<' + root + ">\n" + "\n".join(rows) + f"\n</{root}>\n",
        encoding="utf-8",
    )
    return path


def test_records_stream_out_before_the_file_is_read_whole(tmp_path: Path) -> None:
    row = '  <row Id="{}" PostId="1" Score="0" Text="{}" CreationDate="2020-01-01T00:00:00.000" UserId="7" />'
    path = _table(tmp_path, "Comments.xml", "comments", [row.format(i, "x" * 200) for i in range(1, 40_000)])
    assert path.stat().st_size > 4 * CHUNK_BYTES
    consumed = []
    stream = read_table(path, SITE, on_bytes=consumed.append)
    first = next(stream)
    assert first.source_id == "comment:1"
    assert sum(consumed) <= CHUNK_BYTES  # one chunk read, not the whole file
    assert sum(1 for _ in stream) == 40_000 - 2


def _post(post_id: int, post_type: int, owner: int, score: int, **extra: str) -> str:
    attributes = " ".join(f'{key}="{value}"' for key, value in extra.items())
    return (
        f'<row Id="{post_id}" PostTypeId="{post_type}" {attributes} CreationDate="2020-01-0{post_id}T00:00:00.000" '
        f'Score="{score}" OwnerUserId="{owner}" />'
    )


def test_self_accepted_and_late_answers(tmp_path: Path) -> None:
    posts = _table(
        tmp_path,
        "Posts.xml",
        "posts",
        [
            _post(1, 1, 10, score=2, AcceptedAnswerId="3"),
            _post(2, 1, 11, score=1, AcceptedAnswerId="4"),
            _post(3, 2, 20, score=5, ParentId="1"),
            _post(4, 2, 11, score=1, ParentId="2"),
            _post(5, 2, 21, score=-2, ParentId="2"),
        ],
    )
    by_id = {r.source_id: r for r in read_table(posts, SITE)}
    assert (by_id["post:3"].accepted, by_id["post:3"].self_approved) == (True, False)
    assert (by_id["post:4"].accepted, by_id["post:4"].self_approved) == (True, True)
    assert (by_id["post:5"].accepted, by_id["post:5"].score) == (False, -2)
    assert by_id["post:1"].accepted is None  # a question is not itself accepted


@pytest.mark.parametrize("cut", [0.3, 0.7, 0.999])
def test_truncated_real_table_names_file_and_position(tmp_path: Path, cut: float) -> None:
    source = require_shared_data(*DUMP, "Posts.xml").read_bytes()
    path = tmp_path / "Posts.xml"
    path.write_bytes(source[: int(len(source) * cut)])
    with pytest.raises(ImportFormatError) as caught:
        list(read_table(path, SITE))
    message = str(caught.value)
    assert str(path) in message and "line " in message and "column " in message
    assert caught.value.path == str(path)


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        (['<row Id="1" PostId="1" CreationDate="2020-01-01T00:00:00.000" UserId="7" Score="lots" />'], "Score='lots'"),
        (['<row Id="1" PostId="1" UserId="7" Score="1" />'], "missing attribute CreationDate"),
        (['<row Id="1" PostId="1" CreationDate="yesterday" UserId="7" Score="1" />'], "CreationDate='yesterday'"),
        (['<row Id="1" PostId="1" CreationDate="2020-01-01T00:00:00.000" UserId="7" Score="1">'], "line 4"),
        (['<row Id="1" PostId="1" CreationDate="2020-01-01T00:00:00.000" UserId="7" Score="1 />'], "line"),
        (["<comment Id='1' />"], "unexpected element <comment>"),
    ],
)
def test_malformed_rows_raise_clear_errors(tmp_path: Path, rows: list[str], expected: str) -> None:
    path = _table(tmp_path, "Comments.xml", "comments", rows)
    with pytest.raises(ImportFormatError) as caught:
        list(read_table(path, SITE))
    assert expected in str(caught.value) and "Comments.xml" in str(caught.value)


def test_malformed_row_error_names_row_number_and_id(tmp_path: Path) -> None:
    good = '<row Id="{}" PostId="1" CreationDate="2020-01-01T00:00:00.000" UserId="7" Score="1" />'
    bad = '<row Id="99" PostId="1" CreationDate="2020-01-01T00:00:00.000" UserId="7" Score="x" />'
    path = _table(tmp_path, "Comments.xml", "comments", [good.format(1), good.format(2), bad])
    with pytest.raises(ImportFormatError, match=r"row 3 \(Id=99\)"):
        list(read_table(path, SITE))


def test_wrong_table_empty_file_and_empty_directory(tmp_path: Path) -> None:
    wrong = _table(tmp_path, "Posts.xml", "users", ['<row Id="1" CreationDate="2020-01-01T00:00:00.000" />'])
    with pytest.raises(ImportFormatError, match="expected <posts>, found <users>"):
        list(read_table(wrong, SITE))
    empty = tmp_path / "Votes.xml"
    empty.write_bytes(b"")
    with pytest.raises(ImportFormatError, match=r"Votes\.xml"):
        list(read_table(empty, SITE))
    with pytest.raises(ImportFormatError, match="not a known dump table"):
        list(read_table(tmp_path / "Tags.xml", SITE))
    nothing = tmp_path / "nothing"
    nothing.mkdir()
    with pytest.raises(ImportFormatError, match="no Stack Exchange dump tables"):
        dump_files(nothing)
    with pytest.raises(ImportFormatError, match="not a directory"):
        dump_files(tmp_path / "missing")


def test_records_built_directly_are_the_records_pydantic_would_build() -> None:
    """Rows whose values pass the importer's own checks skip pydantic; the result must be identical."""
    for record in read_dump(require_shared_data(*DUMP), SITE):
        again = Contribution.model_validate({name: getattr(record, name) for name in record.model_fields_set})
        assert again == record
        assert again.model_fields_set == record.model_fields_set
        assert again.model_dump_json() == record.model_dump_json()
        assert record.occurred_at.utcoffset() == timedelta(0)
        assert record.model_copy(update={"score": 1}).model_fields_set == record.model_fields_set | {"score"}


@pytest.mark.parametrize(
    ("stamp", "score"),
    [
        ("2020-02-30T00:00:00.000", "1"),  # no such day
        ("2020-01-01T24:00:00.000", "1"),
        ("2020-01-01T00:00:00.1234567", "1"),  # more than microseconds
        ("2020-01-01 00:00:00.000", "1"),  # space separated
        ("2020-W01-1T00:00:00.000", "1"),  # ISO week date: fromisoformat reads it, pydantic does not
        ("2020-01-01T00:00:00", "+3"),
        ("2020-01-01T00:00:00.5", " 3"),
        ("2020-01-01T00:00:00.000", "3.0"),
        ("2020-01-01T00:00:00.000", "\u0663"),  # an Arabic-Indic digit
        ("2020-01-01T00:00:00.000", "1" * 30),
        ("2020-01-01T00:00:00.000", "-"),
        ("0001-01-01T00:00:00.000", "007"),  # valid, taken by the direct path: must agree with pydantic
        ("9999-12-31T23:59:59.999999", "-0"),
        ("0000-01-01T00:00:00.000", "1"),
    ],
)
def test_unusual_values_get_exactly_pydantics_verdict(tmp_path: Path, stamp: str, score: str) -> None:
    row = f'<row Id="5" PostId="1" CreationDate="{stamp}" UserId="7" Score="{score}" />'
    path = _table(tmp_path, "Comments.xml", "comments", [row])
    raw = {
        "platform": "stackexchange",
        "site": SITE,
        "user_id": "7",
        "kind": "comment",
        "source_id": "comment:5",
        "occurred_at": stamp + "Z",
        "score": score,
        "parent_id": "1",
        "url": f"https://{SITE}/posts/comments/5",
    }
    try:
        expected = Contribution.model_validate(raw)
    except ValidationError:
        with pytest.raises(ImportFormatError, match=r"row 1 \(Id=5\): attribute (CreationDate|Score)="):
            list(read_table(path, SITE))
    else:
        assert list(read_table(path, SITE)) == [expected]
