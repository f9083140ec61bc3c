"""Whatever the damage, a broken file raises ImportFormatError naming the file: never a stray KeyError or a
silently shortened import."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from datalever.importers import ImportFormatError, Platform, parse_platform, read_source
from datalever.importers.github import read_events
from datalever.importers.mediawiki import read_usercontribs
from datalever.importers.stackexchange import read_table

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
POSTS = b"""\xef\xbb\xbf<?xml version="1.0" encoding="utf-8"?>
<posts>
  <row Id="1" PostTypeId="1" AcceptedAnswerId="2" CreationDate="2020-01-01T00:00:00.000" Score="3"
       OwnerUserId="5" Body="&lt;p&gt;Why?&lt;/p&gt;" />
  <row Id="2" PostTypeId="2" ParentId="1" CreationDate="2020-01-02T00:00:00.000" Score="4"
       OwnerUserId="6" Body="&lt;p&gt;Because.&lt;/p&gt;" />
</posts>
"""
SLOW = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@SLOW
@given(cut=st.integers(min_value=0, max_value=len(POSTS) - 12))
def test_any_truncation_of_a_dump_table_is_refused(tmp_path: Path, cut: int) -> None:
    path = tmp_path / "Posts.xml"
    path.write_bytes(POSTS[:cut])
    with pytest.raises(ImportFormatError) as caught:
        list(read_table(path, "x.stackexchange.com"))
    assert str(path) in str(caught.value)


@SLOW
@given(fraction=st.floats(min_value=0.0, max_value=0.995))
def test_any_truncation_of_saved_api_json_is_refused(tmp_path: Path, fraction: float) -> None:
    for source, reader in (
        (FIXTURES / "github" / "events.json", read_events),
        (FIXTURES / "mediawiki" / "usercontribs-ada-fv2.json", read_usercontribs),
    ):
        data = source.read_bytes().rstrip()
        path = tmp_path / source.name
        path.write_bytes(data[: int(len(data) * fraction)])
        with pytest.raises(ImportFormatError) as caught:
            list(reader(path))
        assert str(path) in str(caught.value)


def test_platform_names() -> None:
    assert parse_platform(" GitHub ") is Platform.GITHUB
    with pytest.raises(
        ValueError, match="unknown platform 'reddit' \\(known platforms: stackexchange, github, wikipedia\\)"
    ):
        parse_platform("reddit")


def test_read_source_dispatches_and_reads_folders(tmp_path: Path) -> None:
    github = list(read_source(Platform.GITHUB, FIXTURES / "github" / "events.json"))
    assert github and all(r.platform is Platform.GITHUB for r in github)
    wiki = list(read_source(Platform.WIKIPEDIA, FIXTURES / "mediawiki"))  # every page in the folder
    assert {r.user_id for r in wiki} == {"4242", "777"}
    with pytest.raises(ImportFormatError, match=r"no \.json"):
        list(read_source(Platform.GITHUB, tmp_path))
