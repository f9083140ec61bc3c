"""MediaWiki `action=query&list=usercontribs` responses (what Wikipedia's API returns) as contribution records.

Works with both response formats (`formatversion=1`, where flags are present-but-empty strings, and
`formatversion=2`, where they are booleans). Whether an edit was later reverted comes from the `mw-reverted`
change tag, so request `ucprop=ids|title|timestamp|comment|size|sizediff|flags|tags`: without tags the
reverted signal is unknown (None), and the stipend criteria do not count edits of unknown standing.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, ValidationError, field_validator

from datalever.documents import describe_validation_error
from datalever.importers.jsonfiles import iter_documents
from datalever.importers.records import Contribution, ContributionKind, ImportFormatError, Platform

DEFAULT_SITE = "en.wikipedia.org"
REVERTED_TAG = "mw-reverted"


class _Contrib(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    userid: int | None = None  # absent when the user name is hidden; 0 for logged-out (IP) edits
    user: str | None = None
    pageid: int | None = None
    revid: int
    ns: int
    title: str | None = None
    timestamp: AwareDatetime
    minor: bool = False
    sizediff: int | None = None
    tags: list[str] | None = None

    @field_validator("minor", mode="before")
    @classmethod
    def _flag(cls, value: Any) -> Any:
        return True if value == "" else value  # formatversion=1 marks a set flag with an empty string


def read_usercontribs(path: str | Path, site: str = DEFAULT_SITE) -> Iterator[Contribution]:
    """Contributions from a saved usercontribs response (one page per file, or one page per line)."""
    path = Path(path)
    for position, document in iter_documents(path):
        for index, item in enumerate(_contribs(path, position, document)):
            record = _convert(path, f"{position}, contribution {index + 1}", item, site)
            if record is not None:
                yield record


def _contribs(path: Path, position: str, document: Any) -> list[Any]:
    if not isinstance(document, dict):
        raise ImportFormatError(path, position, "expected an API response object")
    if "error" in document:
        error = document["error"]
        code = error.get("code", "?") if isinstance(error, dict) else error
        raise ImportFormatError(path, position, f"the file is a MediaWiki API error response (code {code})")
    query = document.get("query")
    contribs = query.get("usercontribs") if isinstance(query, dict) else None
    if not isinstance(contribs, list):
        raise ImportFormatError(path, position, "no query.usercontribs list: not a list=usercontribs response")
    return contribs


def _convert(path: Path, position: str, item: Any, site: str) -> Contribution | None:
    if not isinstance(item, dict):
        raise ImportFormatError(path, position, f"expected a contribution object, found {type(item).__name__}")
    try:
        contrib = _Contrib.model_validate(item)
    except ValidationError as error:
        where = f"{position} (revid={item.get('revid', '?')})"
        raise ImportFormatError(path, where, "; ".join(describe_validation_error(error))) from None
    if not contrib.userid:
        return None  # logged-out or hidden editor: no account to link
    return Contribution(
        platform=Platform.WIKIPEDIA,
        site=site,
        user_id=str(contrib.userid),
        user_name=contrib.user,
        kind=ContributionKind.EDIT,
        source_id=f"revision:{contrib.revid}",
        occurred_at=contrib.timestamp,
        namespace=contrib.ns,
        reverted=None if contrib.tags is None else REVERTED_TAG in contrib.tags,
        minor=contrib.minor,
        size_change=contrib.sizediff,
        parent_id=None if contrib.pageid is None else str(contrib.pageid),
        detail=contrib.title,
        url=f"https://{site}/w/index.php?oldid={contrib.revid}",
    )
