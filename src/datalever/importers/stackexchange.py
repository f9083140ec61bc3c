"""Stack Exchange data dump (Posts, Users, Votes, Comments, PostHistory, Badges XML) as contribution records.

A dump table is one root element holding one `<row .../>` per record, attributes only; Stack Overflow's
Posts.xml alone is close to 100 GB, so the files are streamed: lxml's parser calls back for each row (no tree
is built), the file is fed in 1 MiB chunks and records leave in batches, keeping memory flat.

The one join the criteria need (is this answer the accepted one, and was it accepted by someone other than
its author?) is streamed too: a question announces its AcceptedAnswerId, which is remembered only until that
answer's row arrives. Post ids grow with time and an answer is always younger than its question, so the
set of open entries stays small however large the dump.
"""

from __future__ import annotations

import gc
import re
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any, TypeGuard

from lxml import etree
from pydantic import BaseModel, ValidationError

from datalever.importers.records import Contribution, ContributionKind, ImportFormatError, Platform

CHUNK_BYTES = 1 << 20

RowHandler = Callable[[Mapping[str, str]], Contribution | None]

# Dump file name -> the root element its rows live under.
TABLES: dict[str, str] = {
    "Users.xml": "users",
    "Posts.xml": "posts",
    "Comments.xml": "comments",
    "PostHistory.xml": "posthistory",
    "Votes.xml": "votes",
    "Badges.xml": "badges",
}

_POST_KINDS = {"1": ContributionKind.QUESTION, "2": ContributionKind.ANSWER}
_EDIT_TYPES = {"4", "5", "6"}  # edit title, body, tags (1-3 are the initial revision: the post itself)
_ROLLBACK_TYPES = {"7", "8", "9"}


def dump_files(directory: str | Path) -> list[Path]:
    """The dump tables present in a directory, in import order; an error if there are none."""
    root = Path(directory)
    if not root.is_dir():
        raise ImportFormatError(root, "directory", "not a directory")
    found = [root / name for name in TABLES if (root / name).is_file()]
    if not found:
        raise ImportFormatError(
            root, "directory", f"no Stack Exchange dump tables found (expected {', '.join(TABLES)})"
        )
    return found


def read_dump(
    directory: str | Path,
    site: str,
    on_bytes: Callable[[int], None] | None = None,
) -> Iterator[Contribution]:
    """Every contribution in a dump directory, table by table (Users, Posts, Comments, PostHistory, Votes, Badges)."""
    for path in dump_files(directory):
        yield from read_table(path, site, on_bytes=on_bytes)


def read_table(path: str | Path, site: str, on_bytes: Callable[[int], None] | None = None) -> Iterator[Contribution]:
    """Contributions from one dump table; the table is recognised by its file name."""
    path = Path(path)
    if path.name not in TABLES:
        raise ImportFormatError(path, "file name", f"not a known dump table (expected one of {', '.join(TABLES)})")
    handler = _handler_for(path.name, _Rows(site))
    return stream_rows(path, TABLES[path.name], handler, on_bytes=on_bytes)


def stream_rows(
    path: Path,
    expected_root: str,
    handler: RowHandler,
    on_bytes: Callable[[int], None] | None = None,
) -> Iterator[Contribution]:
    """Feed the file to a callback parser chunk by chunk, yielding each chunk's records as they are made."""
    target = _RowTarget(path, expected_root, handler)
    parser = etree.XMLParser(target=target, resolve_entities=False, no_network=True, load_dtd=False)
    with path.open("rb") as stream:
        while chunk := stream.read(CHUNK_BYTES):
            _feed(parser, path, chunk)
            if target.records:
                batch, target.records = target.records, []
                yield from batch
            if on_bytes is not None:
                on_bytes(len(chunk))
    _feed(parser, path, None)
    if not target.seen_root:
        raise ImportFormatError(path, "start of file", "empty file: no XML root element")
    yield from target.records


def _feed(parser: Any, path: Path, chunk: bytes | None) -> None:
    """Parse one chunk with the cyclic garbage collector paused.

    A chunk makes thousands of records that all survive the chunk (they leave as one batch), so the collector
    would run many times per chunk and, each time its older generations fill, walk every object of the
    process: about a third of the import's time on small-row tables. Rows and records form no reference
    cycles, so nothing is left for the collector: memory is freed by reference counting as before, and the
    collector runs again (and catches up) as soon as the chunk is parsed. Its previous state is restored.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        if chunk is None:
            parser.close()
        else:
            parser.feed(chunk)
    except etree.XMLSyntaxError as error:
        line, column = error.position
        reason = error.msg or "malformed XML"
        if "end of data" in reason or "EndTag" in reason or "Extra content" in reason:
            reason = f"{reason} (the file looks truncated or corrupt)"
        raise ImportFormatError(path, f"line {line}, column {column}", reason) from None
    finally:
        if was_enabled:
            gc.enable()


class _RowTarget:
    """lxml parser target: builds no tree, turns each `<row>` into a record and keeps only the current batch.

    It has no `end` or `data` method on purpose: lxml then skips those callbacks, two Python calls a row.
    The dump's rows are empty elements, so the root and the tag of each element are all there is to check.
    """

    def __init__(self, path: Path, expected_root: str, handler: RowHandler) -> None:
        self.path = path
        self.expected_root = expected_root
        self.handler = handler
        self.records: list[Contribution] = []
        self.rows = 0
        self.seen_root = False

    def start(self, tag: str, attrib: Mapping[str, str]) -> None:
        if tag != "row" or not self.seen_root:
            self._not_a_row(tag)
            return
        self.rows += 1
        try:
            record = self.handler(attrib)
        except ValidationError as error:
            where = f"row {self.rows} (Id={attrib.get('Id', '?')})"
            raise ImportFormatError(self.path, where, _describe(error, attrib)) from None
        except KeyError as error:
            where = f"row {self.rows} (Id={attrib.get('Id', '?')})"
            raise ImportFormatError(self.path, where, f"missing attribute {error.args[0]}") from None
        if record is not None:
            self.records.append(record)

    def _not_a_row(self, tag: str) -> None:
        if self.seen_root:
            raise ImportFormatError(self.path, f"after row {self.rows}", f"unexpected element <{tag}>")
        self.seen_root = True
        if tag != self.expected_root:
            raise ImportFormatError(self.path, "root element", f"expected <{self.expected_root}>, found <{tag}>")

    def close(self) -> None:
        pass


# Record field -> the dump attributes it may come from, so errors name what is actually in the file.
_SOURCE_ATTRIBUTES = {
    "occurred_at": ("CreationDate", "Date"),
    "score": ("Score", "Reputation", "BountyAmount"),
    "user_id": ("OwnerUserId", "UserId", "Id"),
    "parent_id": ("ParentId", "PostId"),
}


def _describe(error: ValidationError, attrib: Mapping[str, str]) -> str:
    problems = []
    for item in error.errors():
        field = str(item["loc"][0]) if item["loc"] else ""
        source = next((name for name in _SOURCE_ATTRIBUTES.get(field, ()) if name in attrib), None)
        if source is None:
            problems.append(f"{field}: {item['msg']}")
        else:
            problems.append(f"attribute {source}={attrib[source]!r}: {item['msg']}")
    return "; ".join(problems)


def _person(user_id: str | None) -> TypeGuard[str]:
    """A real account: the dump uses -1 for the Community bot and omits the id for deleted users."""
    return user_id is not None and not user_id.startswith("-") and user_id != "0"


class _Rows:
    """Row handlers of one table read; holds the open accepted-answer entries for Posts."""

    def __init__(self, site: str) -> None:
        self.site = site
        self.base = f"https://{site}" if "." in site else None
        # accepted answer id -> the owner of the question that accepted it ("" when the asker is deleted)
        self.open_accepts: dict[str, str] = {}
        # Records are built without pydantic only when the one value not checked per row, the site, is valid.
        self.fast = 0 < len(site) <= 200

    def _url(self, path: str) -> str | None:
        return None if self.base is None else self.base + path

    def post(self, row: Mapping[str, str]) -> Contribution | None:
        post_id = row["Id"]
        owner = row.get("OwnerUserId")
        post_type = row.get("PostTypeId")
        kind = _POST_KINDS.get(post_type or "", ContributionKind.OTHER_POST)
        accepted: bool | None = None
        self_approved: bool | None = None
        if kind is ContributionKind.QUESTION:
            accepted_answer = row.get("AcceptedAnswerId")
            if accepted_answer:
                self.open_accepts[accepted_answer] = owner or ""
        elif kind is ContributionKind.ANSWER:
            asker = self.open_accepts.pop(post_id, None)
            accepted = asker is not None
            self_approved = accepted and asker == owner
        if not _person(owner):
            return None
        letter = "q" if kind is ContributionKind.QUESTION else "a"
        return self._record(
            owner,
            kind,
            f"post:{post_id}",
            row["CreationDate"],
            row.get("Score"),
            {
                "accepted": accepted,
                "self_approved": self_approved,
                "parent_id": row.get("ParentId"),
                "url": self._url(f"/{letter}/{post_id}"),
            },
        )

    def comment(self, row: Mapping[str, str]) -> Contribution | None:
        user = row.get("UserId")
        if not _person(user):
            return None
        row_id = row["Id"]
        return self._record(
            user,
            ContributionKind.COMMENT,
            f"comment:{row_id}",
            row["CreationDate"],
            row.get("Score"),
            {"parent_id": row.get("PostId"), "url": self._url(f"/posts/comments/{row_id}")},
        )

    def history(self, row: Mapping[str, str]) -> Contribution | None:
        history_type = row.get("PostHistoryTypeId")
        if history_type in _EDIT_TYPES:
            kind = ContributionKind.POST_EDIT
        elif history_type in _ROLLBACK_TYPES:
            kind = ContributionKind.ROLLBACK
        else:
            return None
        user = row.get("UserId")
        if not _person(user):
            return None
        post_id = row.get("PostId")
        return self._record(
            user,
            kind,
            f"revision:{row['Id']}",
            row["CreationDate"],
            None,
            {"parent_id": post_id, "url": self._url(f"/posts/{post_id}/revisions")},
        )

    def vote(self, row: Mapping[str, str]) -> Contribution | None:
        user = row.get("UserId")  # the public dump names the voter only for favorites and bounties
        if not _person(user):
            return None
        return self._record(
            user,
            ContributionKind.VOTE,
            f"vote:{row['Id']}",
            row["CreationDate"],
            row.get("BountyAmount"),
            {"parent_id": row.get("PostId"), "detail": f"VoteTypeId={row.get('VoteTypeId')}"},
        )

    def badge(self, row: Mapping[str, str]) -> Contribution | None:
        user = row.get("UserId")
        if not _person(user):
            return None
        return self._record(
            user,
            ContributionKind.BADGE,
            f"badge:{row['Id']}",
            row["Date"],
            None,
            {"detail": row.get("Name"), "url": self._url(f"/users/{user}")},
        )

    def user(self, row: Mapping[str, str]) -> Contribution | None:
        user = row["Id"]
        if not _person(user):
            return None
        return self._record(
            user,
            ContributionKind.ACCOUNT,
            f"user:{user}",
            row["CreationDate"],
            row.get("Reputation"),
            {"user_name": row.get("DisplayName"), "url": self._url(f"/users/{user}")},
        )

    def _record(
        self,
        user: str,
        kind: ContributionKind,
        source_id: str,
        stamp: str,
        score: str | None,
        more: dict[str, Any],
    ) -> Contribution:
        """One record from a row's raw strings: built directly when every untrusted value passes the checks
        below (each as strict as the model's own), otherwise validated by pydantic, which then either accepts
        an unusual but valid value or raises the error that names the offending attribute."""
        occurred_at = _timestamp(stamp)
        number = _integer(score)
        name = more.get("user_name")
        if (
            self.fast
            and occurred_at is not None
            and number is not _INVALID
            and 0 < len(user) <= 100
            and len(source_id) <= 100
            and (name is None or len(name) <= 200)
        ):
            values = _ABSENT.copy()
            values.update(more)
            values["site"] = self.site
            values["user_id"] = user
            values["kind"] = kind
            values["source_id"] = source_id
            values["occurred_at"] = occurred_at
            values["score"] = number
            return _construct(values, more)
        fields = {
            "platform": Platform.STACKEXCHANGE,
            "site": self.site,
            "user_id": user,
            "kind": kind,
            "source_id": source_id,
            "occurred_at": stamp + "Z",
            "score": score,
        }
        fields.update(more)
        record: Contribution = _VALIDATE(fields)
        return record


# Calling the validator directly skips BaseModel.__init__'s Python-level wrapper: ~1 us a row on dense tables.
_VALIDATE = Contribution.__pydantic_validator__.validate_python

# The dump writes times as UTC without an offset, e.g. 2010-08-25T18:47:40.477. A value of exactly this shape
# means the same to datetime.fromisoformat as to pydantic; anything else goes to pydantic.
_DUMP_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,6})?").fullmatch
_INVALID = object()

# Every field of a record, with the value a Stack Exchange row leaves it: the model's default (None) or the platform.
_ABSENT: dict[str, Any] = {name: None for name in Contribution.model_fields}
_ABSENT["platform"] = Platform.STACKEXCHANGE
# The fields _record always passes; with the row's own extras, what the record reports as explicitly set.
_GIVEN = frozenset(("platform", "site", "user_id", "kind", "source_id", "occurred_at", "score"))
_NEW = Contribution.__new__
_SET = object.__setattr__
# The slots' own setters: a third cheaper than object.__setattr__, which looks each slot up by name.
_SET_FIELDS_SET = BaseModel.__dict__["__pydantic_fields_set__"].__set__
_SET_EXTRA = BaseModel.__dict__["__pydantic_extra__"].__set__
_SET_PRIVATE = BaseModel.__dict__["__pydantic_private__"].__set__


def _timestamp(stamp: str) -> datetime | None:
    """The row's time as an aware UTC datetime, or None when only pydantic may judge it."""
    if _DUMP_TIME(stamp) is None:
        return None
    try:
        return datetime.fromisoformat(stamp + "Z")
    except ValueError:  # e.g. February 30th: pydantic will say so
        return None


def _integer(text: str | None) -> int | object | None:
    """A plain decimal integer attribute, or _INVALID when only pydantic may judge it."""
    if text is None:
        return None
    digits = text[1:] if text[:1] == "-" else text
    if 0 < len(digits) <= 18 and digits.isascii() and digits.isdigit():
        return int(text)
    return _INVALID


def _construct(values: dict[str, Any], more: dict[str, Any]) -> Contribution:
    """A record from values already checked against the model's constraints; what model_construct does,
    without its per-call introspection (12x slower than validating)."""
    record: Contribution = _NEW(Contribution)
    _SET(record, "__dict__", values)
    _SET_FIELDS_SET(record, {*_GIVEN, *more})
    _SET_EXTRA(record, None)
    _SET_PRIVATE(record, None)
    return record


def _handler_for(file_name: str, rows: _Rows) -> RowHandler:
    handlers: dict[str, RowHandler] = {
        "Users.xml": rows.user,
        "Posts.xml": rows.post,
        "Comments.xml": rows.comment,
        "PostHistory.xml": rows.history,
        "Votes.xml": rows.vote,
        "Badges.xml": rows.badge,
    }
    return handlers[file_name]
