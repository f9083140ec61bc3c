"""Monthly tallies: fixtures from three platforms, and the real dump checked against a naive recount."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from datalever.economy import load_policy
from datalever.economy import stipends as rules
from datalever.economy.grants import month_index
from datalever.economy.stipends import Rule
from datalever.importers import Contribution, ContributionKind, Platform, read_dump, read_events, read_usercontribs
from datalever.importers.stackexchange import dump_files
from datalever.stipends.tally import ActivityTally, month_label, parse_month, tally_dump
from tests.support.data import require_shared_data

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
CRITERIA = load_policy().stipend.criteria


def _outcomes(tally: ActivityTally) -> dict[tuple[str, str], Rule]:
    return {(a.user_id, a.month_label): a.rule for a in tally.results()}


def test_github_months() -> None:
    outcomes = _outcomes(ActivityTally(CRITERIA).add_all(read_events(FIXTURES / "github" / "events.json")))
    assert outcomes[("5001", "2024-02")] is Rule.GITHUB_MERGED_PULL_REQUEST  # merged by a maintainer
    assert outcomes[("5001", "2024-03")] is Rule.GITHUB_REVIEW  # a review in bigproject/lib
    assert outcomes[("5001", "2024-04")] is Rule.NONE  # merged, but in a private repository
    assert outcomes[("5001", "2024-01")] is Rule.NONE  # pushes to own repository only


def test_wikipedia_months_including_gaming() -> None:
    outcomes = _outcomes(
        ActivityTally(CRITERIA)
        .add_all(read_usercontribs(FIXTURES / "mediawiki" / "usercontribs-ada-fv2.json"))
        .add_all(read_usercontribs(FIXTURES / "mediawiki" / "usercontribs-bram-fv1.json"))
    )
    assert outcomes[("4242", "2024-04")] is Rule.WIKIPEDIA_ARTICLE_EDITS
    assert outcomes[("4242", "2024-05")] is Rule.NONE  # 4 good edits; reverted and talk-page edits don't count
    assert outcomes[("4242", "2024-06")] is Rule.NONE  # thirty one-byte minor edits: gaming
    assert outcomes[("777", "2024-04")] is Rule.NONE  # one reverted and one minor of six


def test_real_dump_tally_matches_a_naive_recount() -> None:
    dump = require_shared_data("stackexchange-bicycles-meta")
    records = list(read_dump(dump, "bicycles.meta.stackexchange.com"))
    tally = ActivityTally(CRITERIA).add_all(records)
    posts: dict[tuple[str, int], int] = defaultdict(int)
    accepted: dict[tuple[str, int], int] = defaultdict(int)
    for r in records:
        key = (r.user_id, month_index(r.occurred_at))
        if r.kind in (ContributionKind.QUESTION, ContributionKind.ANSWER) and r.score is not None and r.score >= 1:
            posts[key] += 1
        if r.kind is ContributionKind.ANSWER and r.accepted and not r.self_approved and (r.score or 0) >= 0:
            accepted[key] += 1
    expected = {}
    for key in set(posts) | set(accepted):
        if posts[key] >= 2:
            expected[key] = Rule.STACKEXCHANGE_SCORED_POSTS
        elif accepted[key] >= 1:
            expected[key] = Rule.STACKEXCHANGE_ACCEPTED_ANSWER
    got = {(a.user_id, a.month): a.rule for a in tally.results() if a.rule is not Rule.NONE}
    assert got == expected
    assert len(got) > 100
    assert rules.qualified(Rule.STACKEXCHANGE_SCORED_POSTS) and not rules.qualified(Rule.NONE)


def test_month_labels_round_trip() -> None:
    assert month_label(parse_month("2024-02")) == "2024-02"
    for bad in ("2024-13", "24-01", "2024/01", "2024-1", "soon"):
        try:
            parse_month(bad)
        except ValueError as error:
            assert "YYYY-MM" in str(error)
        else:
            raise AssertionError(f"{bad} accepted")


def test_parallel_table_tallies_merge_to_the_same_result() -> None:
    dump = require_shared_data("stackexchange-bicycles-meta")
    site = "bicycles.meta.stackexchange.com"
    sequential = tally_dump(dump, site, CRITERIA, workers=1)
    seen: list[int] = []
    parallel = tally_dump(dump, site, CRITERIA, workers=2, on_bytes=seen.append)
    assert sorted(seen) == sorted(p.stat().st_size for p in dump_files(dump))
    key = lambda a: (a.platform, a.site, a.user_id, a.month)  # noqa: E731
    assert sorted(sequential.results(), key=key) == sorted(parallel.results(), key=key)
    assert parallel.records == sequential.records and parallel.user_names == sequential.user_names


_KINDS = {
    Platform.STACKEXCHANGE: [ContributionKind.QUESTION, ContributionKind.ANSWER, ContributionKind.COMMENT],
    Platform.GITHUB: [ContributionKind.PULL_REQUEST_MERGED, ContributionKind.REVIEW, ContributionKind.PUSH],
    Platform.WIKIPEDIA: [ContributionKind.EDIT],
}
_maybe = st.sampled_from([True, False, None])


@st.composite
def _records(draw: st.DrawFn) -> list[Contribution]:
    records = []
    for index in range(draw(st.integers(0, 40))):
        platform = draw(st.sampled_from(list(Platform)))
        user = draw(st.sampled_from(["1", "2", "3"]))
        owner = draw(st.sampled_from(["alice", "bob", None]))
        records.append(
            Contribution(
                platform=platform,
                site="example.org",
                user_id=user,
                user_name=draw(st.sampled_from(["alice", "bob"])),
                kind=draw(st.sampled_from(_KINDS[platform])),
                source_id=f"s{index}",
                occurred_at=datetime(2024, draw(st.integers(1, 2)), draw(st.integers(1, 28)), tzinfo=UTC),
                score=draw(st.integers(-3, 4)),
                accepted=draw(_maybe),
                self_approved=draw(_maybe),
                public=draw(_maybe),
                repository_owner=owner,
                namespace=draw(st.sampled_from([0, 0, 1, 2])),
                reverted=draw(_maybe),
                minor=draw(_maybe),
                size_change=draw(st.one_of(st.none(), st.integers(-50, 50))),
            )
        )
    return records


def _naive(records: list[Contribution]) -> dict[tuple[str, str, int], Rule]:
    """The criteria restated record by record, without NumPy, to check the vectorized tally against."""
    se, gh, wp = CRITERIA.stackexchange, CRITERIA.github, CRITERIA.wikipedia
    counts: dict[tuple[str, str, int], list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0])
    for r in records:
        key = (r.platform.value, r.user_id, month_index(r.occurred_at))
        c = counts[key]
        score = r.score or 0
        if r.kind in (ContributionKind.QUESTION, ContributionKind.ANSWER) and score >= se.min_post_score:
            c[0] += 1
        if r.kind is ContributionKind.ANSWER and r.accepted is True and r.self_approved is not True and score >= 0:
            c[1] += 1
        own = None if r.repository_owner is None else r.repository_owner == r.user_name
        ok = r.public is True and r.self_approved is False and own is False
        c[2] += r.kind is ContributionKind.PULL_REQUEST_MERGED and ok
        c[3] += r.kind is ContributionKind.REVIEW and ok
        trivial = r.minor is True or (r.size_change is not None and abs(r.size_change) < wp.min_size_change_bytes)
        c[4] += r.kind is ContributionKind.EDIT and r.namespace in wp.namespaces and r.reverted is False and not trivial
    rules = {}
    for (platform, user, month), c in counts.items():
        if platform == "stackexchange":
            rule = (
                Rule.STACKEXCHANGE_SCORED_POSTS
                if c[0] >= se.min_scored_posts
                else Rule.STACKEXCHANGE_ACCEPTED_ANSWER
                if c[1] >= se.min_accepted_answers
                else Rule.NONE
            )
        elif platform == "github":
            rule = (
                Rule.GITHUB_MERGED_PULL_REQUEST
                if c[2] >= gh.min_merged_pull_requests
                else Rule.GITHUB_REVIEW
                if c[3] >= gh.min_reviews
                else Rule.NONE
            )
        else:
            rule = Rule.WIKIPEDIA_ARTICLE_EDITS if c[4] >= wp.min_edits else Rule.NONE
        rules[(platform, user, month)] = rule
    return rules


@settings(max_examples=80, deadline=None)
@given(records=_records())
def test_vectorized_tally_equals_a_record_by_record_reading(records: list[Contribution]) -> None:
    tally = ActivityTally(CRITERIA)
    for record in records:
        tally.add(record)
    got = {(a.platform.value, a.user_id, a.month): a.rule for a in tally.results()}
    assert got == _naive(records)
