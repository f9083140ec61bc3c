"""The normalized contribution record every importer yields, whatever the platform's own format.

One flat record per act (a post, an edit, a merged pull request...) with the quality signals the stipend
criteria need. Signals a format does not carry stay None: "unknown" is never silently read as "good".
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field


class Platform(StrEnum):
    STACKEXCHANGE = "stackexchange"
    GITHUB = "github"
    WIKIPEDIA = "wikipedia"


class ContributionKind(StrEnum):
    # Stack Exchange
    QUESTION = "question"
    ANSWER = "answer"
    OTHER_POST = "other_post"  # tag wikis, moderator nominations and other non-Q&A post types
    COMMENT = "comment"
    POST_EDIT = "post_edit"
    ROLLBACK = "rollback"
    VOTE = "vote"  # only the vote types the public dump attributes to a user (favorites, bounties)
    BADGE = "badge"
    ACCOUNT = "account"  # a row of Users.xml: when the account was created, with its reputation as score
    # GitHub
    PUSH = "push"
    PULL_REQUEST_OPENED = "pull_request_opened"
    PULL_REQUEST_MERGED = "pull_request_merged"
    PULL_REQUEST_CLOSED = "pull_request_closed"  # closed without merging
    REVIEW = "review"
    ISSUE_OPENED = "issue_opened"
    ISSUE_CLOSED = "issue_closed"
    ISSUE_COMMENT = "issue_comment"
    # MediaWiki
    EDIT = "edit"


class Contribution(BaseModel):
    """One act by one platform account, with the signals that tell a real contribution from noise."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    platform: Platform
    site: Annotated[str, Field(min_length=1, max_length=200)]
    user_id: Annotated[str, Field(min_length=1, max_length=100)]
    kind: ContributionKind
    # Unique per platform and site: importing the same act twice is recognisable.
    source_id: Annotated[str, Field(min_length=1, max_length=100)]
    occurred_at: AwareDatetime
    user_name: Annotated[str, Field(max_length=200)] | None = None
    score: int | None = None
    accepted: bool | None = None
    merged: bool | None = None
    reverted: bool | None = None
    # The approval (accepting the answer, merging the pull request) came from the author themself.
    self_approved: bool | None = None
    namespace: int | None = None
    minor: bool | None = None  # the editor flagged the edit as minor
    size_change: int | None = None  # bytes added (+) or removed (-) by an edit
    repository: Annotated[str, Field(max_length=200)] | None = None
    repository_owner: Annotated[str, Field(max_length=100)] | None = None
    public: bool | None = None
    parent_id: str | None = None
    detail: str | None = None
    url: str | None = None  # attribution link back to the contribution or account on its platform


class ImportFormatError(ValueError):
    """A source file is truncated, malformed or not the format it claims; the message says where."""

    def __init__(self, path: str | Path, position: str, reason: str) -> None:
        self.path = str(path)
        self.position = position
        self.reason = reason
        super().__init__(f"{self.path}: {position}: {reason}")
