"""Contributor stipend criteria: who was an active participant on a linked platform in a month.

The stipend pays for being a real participant, never per post, commit or edit (that would invite gaming),
so each platform has a monthly threshold over contributions that carry a quality signal: Stack Exchange
posts the community scored up or accepted, GitHub pull requests merged by someone else into a public
repository the member does not own (or reviews there), Wikipedia article edits that were not reverted.
Negative-score posts, reverted edits and self-merged pull requests never count, whatever the policy says.

Two layers, both pure and vectorized (scalars or NumPy arrays, like the rest of `economy`):
* `counts_*` decide whether one contribution counts, from its signals;
* `*_rule` turn a member's monthly counts into the rule that qualified them (0 = none), and
  `stipend_due` turns the number of qualifying platforms into credits, capped per member.
"""

from __future__ import annotations

from enum import IntEnum
from typing import TYPE_CHECKING, Annotated, Any

import numpy as np
from pydantic import Field

from datalever.economy._arrays import IntLike, unwrap_bool, unwrap_int
from datalever.economy.config import StrictModel

if TYPE_CHECKING:
    from datalever.economy.policy import StipendPolicy

PositiveInt = Annotated[int, Field(gt=0)]
NonNegativeInt = Annotated[int, Field(ge=0)]


class StackExchangeCriteria(StrictModel):
    min_scored_posts: PositiveInt = Field(2, description="Questions or answers in the month with a good score.")
    min_post_score: PositiveInt = Field(1, description="Score a post needs to count (>= 1: negative never counts).")
    min_accepted_answers: PositiveInt = Field(1, description="Or this many answers accepted by someone else.")


class GitHubCriteria(StrictModel):
    min_merged_pull_requests: PositiveInt = Field(1, description="Merged by someone else, public, not own repo.")
    min_reviews: PositiveInt = Field(1, description="Reviews of someone else's pull request, public, not own repo.")


class WikipediaCriteria(StrictModel):
    min_edits: PositiveInt = Field(5, description="Unreverted edits in the counted namespaces.")
    namespaces: list[NonNegativeInt] = Field(default_factory=lambda: [0], min_length=1)
    count_minor_edits: bool = Field(False, description="Whether edits flagged minor count.")
    min_size_change_bytes: NonNegativeInt = Field(10, description="Edits changing fewer bytes do not count.")


class StipendCriteria(StrictModel):
    """The `[stipend.criteria.*]` tables of a policy file; defaults are the proposal's starting rules."""

    stackexchange: StackExchangeCriteria = Field(default_factory=StackExchangeCriteria)
    github: GitHubCriteria = Field(default_factory=GitHubCriteria)
    wikipedia: WikipediaCriteria = Field(default_factory=WikipediaCriteria)


class Rule(IntEnum):
    """Which rule qualified a member (codes so arrays can carry them; 0 means not qualified)."""

    NONE = 0
    STACKEXCHANGE_SCORED_POSTS = 1
    STACKEXCHANGE_ACCEPTED_ANSWER = 2
    GITHUB_MERGED_PULL_REQUEST = 3
    GITHUB_REVIEW = 4
    WIKIPEDIA_ARTICLE_EDITS = 5

    @property
    def label(self) -> str:
        return _LABELS[self]

    @classmethod
    def from_label(cls, label: str) -> Rule:
        for rule, name in _LABELS.items():
            if name == label:
                return rule
        raise ValueError(f"unknown stipend rule {label!r}")


_LABELS = {
    Rule.NONE: "none",
    Rule.STACKEXCHANGE_SCORED_POSTS: "stackexchange.scored_posts",
    Rule.STACKEXCHANGE_ACCEPTED_ANSWER: "stackexchange.accepted_answer",
    Rule.GITHUB_MERGED_PULL_REQUEST: "github.merged_pull_request",
    Rule.GITHUB_REVIEW: "github.review",
    Rule.WIKIPEDIA_ARTICLE_EDITS: "wikipedia.article_edits",
}


def _flag(value: Any) -> Any:
    """Booleans where None (unknown) is False: a signal nobody reported never earns anything."""
    array = np.asarray(value, dtype=object)
    return np.asarray(array == True, dtype=bool)  # noqa: E712 (elementwise, None-safe)


# --- does one contribution count? ------------------------------------------------------------------------


def counts_scored_post(score: IntLike, rules: StackExchangeCriteria) -> Any:
    """A question or answer whose score reaches the threshold (always >= 1, so negative posts never count)."""
    return unwrap_bool(np.asarray(score, dtype=np.int64) >= rules.min_post_score)


def counts_accepted_answer(score: IntLike, accepted: Any, self_approved: Any) -> Any:
    """An answer accepted by someone other than its author, and not scored below zero."""
    ok = _flag(accepted) & ~_flag(self_approved) & (np.asarray(score, dtype=np.int64) >= 0)
    return unwrap_bool(ok)


def counts_github(public: Any, self_approved: Any, own_repository: Any) -> Any:
    """A merged pull request or review counts only in a public repository the member does not own, and only if
    someone else merged it (for reviews: it was someone else's pull request). Unknown signals never count."""
    self_done = np.asarray(self_approved, dtype=object)
    not_self = np.asarray(self_done == False, dtype=bool)  # noqa: E712
    not_own = np.asarray(np.asarray(own_repository, dtype=object) == False, dtype=bool)  # noqa: E712
    return unwrap_bool(_flag(public) & not_self & not_own)


def counts_wiki_edit(namespace: IntLike, reverted: Any, minor: Any, size_change: Any, rules: WikipediaCriteria) -> Any:
    """An edit in a counted namespace, known not to be reverted, not trivial (minor or a few bytes)."""
    ns = np.asarray(namespace, dtype=np.int64)
    not_reverted = np.asarray(np.asarray(reverted, dtype=object) == False, dtype=bool)  # noqa: E712
    ok = np.isin(ns, rules.namespaces) & not_reverted
    if not rules.count_minor_edits:
        ok &= ~_flag(minor)
    sizes = np.asarray(size_change, dtype=object)
    known = np.asarray(sizes != None, dtype=bool)  # noqa: E711 (elementwise: None means the size is unknown)
    magnitude = np.abs(np.where(known, sizes, 0).astype(np.int64))
    ok &= ~known | (magnitude >= rules.min_size_change_bytes)
    return unwrap_bool(ok)


# --- does a member's month qualify? ------------------------------------------------------------------------


def _first_met(
    first: IntLike, first_min: int, first_rule: Rule, second: IntLike, second_min: int, second_rule: Rule
) -> Any:
    """The first of two count thresholds a month meets, as a rule code (Rule.NONE when neither is met)."""
    first_counts = np.asarray(first, dtype=np.int64)
    second_counts = np.asarray(second, dtype=np.int64)
    code = np.where(
        first_counts >= first_min,
        first_rule,
        np.where(second_counts >= second_min, second_rule, Rule.NONE),
    )
    return unwrap_int(code.astype(np.int64))


def stackexchange_rule(scored_posts: IntLike, accepted_answers: IntLike, rules: StackExchangeCriteria) -> Any:
    """Rule code for a month's Stack Exchange counts: scored posts first, else an accepted answer, else 0."""
    return _first_met(
        scored_posts,
        rules.min_scored_posts,
        Rule.STACKEXCHANGE_SCORED_POSTS,
        accepted_answers,
        rules.min_accepted_answers,
        Rule.STACKEXCHANGE_ACCEPTED_ANSWER,
    )


def github_rule(merged_pull_requests: IntLike, reviews: IntLike, rules: GitHubCriteria) -> Any:
    """Rule code for a month's GitHub counts: a merged pull request first, else a review, else 0."""
    return _first_met(
        merged_pull_requests,
        rules.min_merged_pull_requests,
        Rule.GITHUB_MERGED_PULL_REQUEST,
        reviews,
        rules.min_reviews,
        Rule.GITHUB_REVIEW,
    )


def wikipedia_rule(counted_edits: IntLike, rules: WikipediaCriteria) -> Any:
    """Rule code for a month's count of counting Wikipedia edits."""
    edits = np.asarray(counted_edits, dtype=np.int64)
    return unwrap_int(np.where(edits >= rules.min_edits, Rule.WIKIPEDIA_ARTICLE_EDITS, Rule.NONE).astype(np.int64))


def stipend_due(qualifying_platforms: IntLike, rules: StipendPolicy) -> Any:
    """Credits for one member and month: the stipend per qualifying platform, capped per member."""
    platforms = np.asarray(qualifying_platforms, dtype=np.int64)
    if np.any(platforms < 0):
        raise ValueError("qualifying_platforms must be >= 0")
    return unwrap_int(np.minimum(platforms * rules.credits_per_month, rules.max_per_member_per_month))


def qualified(rule_code: IntLike) -> Any:
    """Whether a rule code means the member qualified."""
    return unwrap_bool(np.asarray(rule_code, dtype=np.int64) != Rule.NONE)


__all__ = [
    "GitHubCriteria",
    "Rule",
    "StackExchangeCriteria",
    "StipendCriteria",
    "WikipediaCriteria",
    "counts_accepted_answer",
    "counts_github",
    "counts_scored_post",
    "counts_wiki_edit",
    "github_rule",
    "qualified",
    "stackexchange_rule",
    "stipend_due",
    "wikipedia_rule",
]
