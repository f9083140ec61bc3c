"""GitHub REST API events (`GET /users/{user}/events`, saved as returned, or as JSON Lines) as contribution records.

Each event is validated against the documented event object (id, type, actor, repo, payload, public,
created_at). A merged pull request is credited to the pull request's author, not to whoever merged it, and
is marked self-approved when the author merged it themself; a review is credited to the reviewer.
Event types that are not contributions (stars, forks, branch creation...) are skipped.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, ValidationError

from datalever.documents import describe_validation_error
from datalever.importers.jsonfiles import iter_documents
from datalever.importers.records import Contribution, ContributionKind, ImportFormatError, Platform

SITE = "github.com"


class _Loose(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class _User(_Loose):
    id: int
    login: str


class _Repo(_Loose):
    id: int
    name: str  # "owner/name"


class _Event(_Loose):
    id: str
    type: str
    actor: _User
    repo: _Repo
    payload: dict[str, Any]
    public: bool
    created_at: AwareDatetime


class _PullRequest(_Loose):
    number: int | None = None
    user: _User | None = None
    merged: bool | None = None
    merged_by: _User | None = None
    html_url: str | None = None


class _PullRequestPayload(_Loose):
    action: str
    pull_request: _PullRequest


class _Review(_Loose):
    id: int
    user: _User | None = None
    state: str | None = None
    html_url: str | None = None


class _ReviewPayload(_Loose):
    action: str
    review: _Review
    pull_request: _PullRequest


class _Issue(_Loose):
    number: int
    html_url: str | None = None


class _IssuesPayload(_Loose):
    action: str
    issue: _Issue


class _PushPayload(_Loose):
    size: int | None = None
    head: str | None = None
    ref: str | None = None


def read_events(path: str | Path) -> Iterator[Contribution]:
    """Contributions from a saved events file: a JSON array (one API page), or one event per line."""
    path = Path(path)
    for position, document in iter_documents(path):
        if isinstance(document, list):
            for index, item in enumerate(document):
                record = _convert(path, f"event {index + 1}", item)
                if record is not None:
                    yield record
        else:
            record = _convert(path, position, document)
            if record is not None:
                yield record


def _convert(path: Path, position: str, item: Any) -> Contribution | None:
    if not isinstance(item, dict):
        raise ImportFormatError(path, position, f"expected an event object, found {type(item).__name__}")
    try:
        event = _Event.model_validate(item)
        return _record(event)
    except ValidationError as error:
        where = f"{position} (id={item.get('id', '?')})"
        raise ImportFormatError(path, where, "; ".join(describe_validation_error(error))) from None


def _base(event: _Event, user: _User, kind: ContributionKind) -> dict[str, Any]:
    return {
        "platform": Platform.GITHUB,
        "site": SITE,
        "user_id": str(user.id),
        "user_name": user.login,
        "kind": kind,
        "source_id": f"event:{event.id}",
        "occurred_at": event.created_at,
        "repository": event.repo.name,
        "repository_owner": event.repo.name.split("/", 1)[0],
        "public": event.public,
    }


def _record(event: _Event) -> Contribution | None:
    if event.type == "PullRequestEvent":
        return _pull_request(event, _PullRequestPayload.model_validate(event.payload))
    if event.type == "PullRequestReviewEvent":
        payload = _ReviewPayload.model_validate(event.payload)
        if payload.action not in {"created", "submitted"}:
            return None
        reviewer = payload.review.user or event.actor
        author = payload.pull_request.user
        return Contribution(
            **_base(event, reviewer, ContributionKind.REVIEW),
            self_approved=None if author is None else author.id == reviewer.id,
            parent_id=_pr_id(payload.pull_request),
            detail=payload.review.state,
            url=payload.review.html_url,
        )
    if event.type == "IssuesEvent":
        issues = _IssuesPayload.model_validate(event.payload)
        kinds = {"opened": ContributionKind.ISSUE_OPENED, "closed": ContributionKind.ISSUE_CLOSED}
        if issues.action not in kinds:
            return None
        return Contribution(
            **_base(event, event.actor, kinds[issues.action]),
            parent_id=str(issues.issue.number),
            url=issues.issue.html_url,
        )
    if event.type == "IssueCommentEvent":
        return Contribution(**_base(event, event.actor, ContributionKind.ISSUE_COMMENT))
    if event.type == "PushEvent":
        push = _PushPayload.model_validate(event.payload)
        return Contribution(
            **_base(event, event.actor, ContributionKind.PUSH),
            score=push.size,
            detail=push.ref,
            url=f"https://github.com/{event.repo.name}/commit/{push.head}" if push.head else None,
        )
    return None


def _pr_id(pull_request: _PullRequest) -> str | None:
    return None if pull_request.number is None else str(pull_request.number)


def _pull_request(event: _Event, payload: _PullRequestPayload) -> Contribution | None:
    pr = payload.pull_request
    if payload.action == "opened":
        return Contribution(
            **_base(event, pr.user or event.actor, ContributionKind.PULL_REQUEST_OPENED),
            merged=False,
            parent_id=_pr_id(pr),
            url=pr.html_url,
        )
    if payload.action != "closed":
        return None
    if pr.merged is None:
        return None  # a trimmed payload that does not say whether it merged: nothing can be concluded
    if pr.user is None:
        return None  # the author is unknown, and the merger must not be credited with someone else's work
    merger = pr.merged_by or event.actor
    kind = ContributionKind.PULL_REQUEST_MERGED if pr.merged else ContributionKind.PULL_REQUEST_CLOSED
    return Contribution(
        **_base(event, pr.user, kind),
        merged=pr.merged,
        self_approved=(merger.id == pr.user.id) if pr.merged else None,
        parent_id=_pr_id(pr),
        url=pr.html_url,
    )
