"""Monthly tallies: fixtures from three platforms, and the real dump checked against a naive recount."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from datalever.economy import load_policy
from datalever.economy import stipends as rules
from datalever.economy.grants import month_index
from datalever.economy.stipends import Rule
from datalever.importers import ContributionKind, read_dump, read_events, read_usercontribs
from datalever.importers.activity import ActivityTally, month_label, parse_month, tally_dump
from datalever.importers.stackexchange import dump_files
from tests.conftest import require_shared_data

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
