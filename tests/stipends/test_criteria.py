"""Stipend criteria as pure rules: thresholds, never-count signals, gaming patterns, scalar == vectorized."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from datalever.economy import ConfigError, load_policy
from datalever.economy import stipends as rules
from datalever.economy.stipends import Rule, StackExchangeCriteria, WikipediaCriteria
from tests.support.data import DEFAULT_POLICY

POLICY = load_policy()
SE = POLICY.stipend.criteria.stackexchange
GH = POLICY.stipend.criteria.github
WP = POLICY.stipend.criteria.wikipedia


def test_default_policy_carries_the_proposal_defaults() -> None:
    assert (SE.min_scored_posts, SE.min_post_score, SE.min_accepted_answers) == (2, 1, 1)
    assert (GH.min_merged_pull_requests, GH.min_reviews) == (1, 1)
    assert (WP.min_edits, WP.namespaces) == (5, [0])


def test_stack_exchange_rule_names_which_rule_qualified() -> None:
    assert rules.stackexchange_rule(2, 0, SE) == Rule.STACKEXCHANGE_SCORED_POSTS
    assert rules.stackexchange_rule(1, 1, SE) == Rule.STACKEXCHANGE_ACCEPTED_ANSWER
    assert rules.stackexchange_rule(1, 0, SE) == Rule.NONE
    assert Rule(rules.stackexchange_rule(5, 3, SE)).label == "stackexchange.scored_posts"
    assert all(Rule.from_label(rule.label) is rule for rule in Rule)
    with pytest.raises(ValueError, match="unknown stipend rule"):
        Rule.from_label("reddit.karma")


def test_negative_posts_and_self_accepted_answers_never_count() -> None:
    assert rules.counts_scored_post(-3, SE) is False
    assert rules.counts_scored_post(0, SE) is False
    assert rules.counts_scored_post(1, SE) is True
    assert rules.counts_accepted_answer(4, True, False) is True
    assert rules.counts_accepted_answer(4, True, True) is False  # accepted by its own author
    assert rules.counts_accepted_answer(-1, True, False) is False  # negative score never counts
    assert rules.counts_accepted_answer(4, None, None) is False  # unknown is not accepted


def test_policy_cannot_make_negative_posts_count(tmp_path: Path) -> None:
    text = DEFAULT_POLICY.read_text().replace("min_post_score = 1", "min_post_score = -1")
    path = tmp_path / "policy.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=r"stipend\.criteria\.stackexchange\.min_post_score"):
        load_policy(path)


def test_unknown_criteria_key_is_refused(tmp_path: Path) -> None:
    text = DEFAULT_POLICY.read_text().replace("min_edits = 5", "min_edits = 5\nmin_edtis = 3")
    path = tmp_path / "policy.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=r"stipend\.criteria\.wikipedia\.min_edtis: unknown key"):
        load_policy(path)


def test_github_counts_only_public_not_owned_not_self_merged() -> None:
    assert rules.counts_github(True, False, False) is True
    assert rules.counts_github(True, True, False) is False  # self-merged
    assert rules.counts_github(True, False, True) is False  # own repository
    assert rules.counts_github(False, False, False) is False  # private
    assert rules.counts_github(True, None, False) is False  # merger unknown
    assert rules.github_rule(1, 0, GH) == Rule.GITHUB_MERGED_PULL_REQUEST
    assert rules.github_rule(0, 1, GH) == Rule.GITHUB_REVIEW
    assert rules.github_rule(0, 0, GH) == Rule.NONE


def test_wikipedia_counts_unreverted_substantial_article_edits() -> None:
    assert rules.counts_wiki_edit(0, False, False, 200, WP) is True
    assert rules.counts_wiki_edit(0, True, False, 200, WP) is False  # reverted
    assert rules.counts_wiki_edit(0, None, False, 200, WP) is False  # revert status unknown
    assert rules.counts_wiki_edit(1, False, False, 200, WP) is False  # talk page
    assert rules.counts_wiki_edit(0, False, True, 200, WP) is False  # minor
    assert rules.counts_wiki_edit(0, False, False, -3, WP) is False  # trivial size change
    assert rules.counts_wiki_edit(0, False, False, None, WP) is True  # size unknown: not judged on size
    lenient = WikipediaCriteria(count_minor_edits=True, min_size_change_bytes=0)
    assert rules.counts_wiki_edit(0, False, True, 1, lenient) is True
    assert rules.counts_wiki_edit(0, True, True, 1, lenient) is False  # reverted never counts, any policy
    assert rules.wikipedia_rule(5, WP) == Rule.WIKIPEDIA_ARTICLE_EDITS
    assert rules.wikipedia_rule(4, WP) == Rule.NONE


def test_gaming_patterns_do_not_qualify() -> None:
    # Fifty trivial posts that nobody upvoted, plus downvoted ones.
    scores = np.array([0] * 50 + [-1] * 20)
    assert rules.stackexchange_rule(int(rules.counts_scored_post(scores, SE).sum()), 0, SE) == Rule.NONE
    # Forty self-accepted answers.
    accepted = rules.counts_accepted_answer(np.full(40, 3), np.full(40, True), np.full(40, True))
    assert rules.stackexchange_rule(0, int(accepted.sum()), SE) == Rule.NONE
    # Thirty self-merged pull requests, twenty more in the member's own repositories.
    merged = rules.counts_github(
        np.full(50, True), np.r_[np.full(30, True), np.full(20, False)], np.r_[np.full(30, False), np.full(20, True)]
    )
    assert rules.github_rule(int(merged.sum()), 0, GH) == Rule.NONE
    # A hundred one-byte minor edits, and ten substantial edits that were all reverted.
    edits = rules.counts_wiki_edit(
        np.zeros(110, dtype=int),
        np.r_[np.full(100, False), np.full(10, True)],
        np.r_[np.full(100, True), np.full(10, False)],
        np.r_[np.ones(100, dtype=int), np.full(10, 500)],
        WP,
    )
    assert rules.wikipedia_rule(int(edits.sum()), WP) == Rule.NONE


def test_stipend_is_capped_per_member() -> None:
    assert rules.stipend_due(0, POLICY.stipend) == 0
    assert rules.stipend_due(1, POLICY.stipend) == POLICY.stipend.credits_per_month
    generous = POLICY.stipend.model_copy(update={"credits_per_month": 30, "max_per_member_per_month": 50})
    assert list(rules.stipend_due(np.array([0, 1, 2, 3]), generous)) == [0, 30, 50, 50]
    with pytest.raises(ValueError, match=">= 0"):
        rules.stipend_due(-1, POLICY.stipend)


@given(
    posts=st.lists(st.integers(0, 6), min_size=1, max_size=30),
    accepted=st.lists(st.integers(0, 3), min_size=30, max_size=30),
    min_posts=st.integers(1, 5),
    min_score=st.integers(1, 4),
)
def test_vectorized_rules_equal_scalar_rules(
    posts: list[int], accepted: list[int], min_posts: int, min_score: int
) -> None:
    criteria = StackExchangeCriteria(min_scored_posts=min_posts, min_post_score=min_score)
    accepted = accepted[: len(posts)]
    vector = rules.stackexchange_rule(np.array(posts), np.array(accepted), criteria)
    assert list(vector) == [rules.stackexchange_rule(p, a, criteria) for p, a in zip(posts, accepted, strict=True)]
    scores = np.array(posts) - 3
    assert list(rules.counts_scored_post(scores, criteria)) == [
        rules.counts_scored_post(int(s), criteria) for s in scores
    ]
