"""Monthly activity per platform account, tallied from a stream of contribution records.

The tally keeps one row of counters per (platform, site, account, month), never the records themselves, so
a dump of any size folds into memory proportional to its active accounts x months. Records are buffered in
column batches and judged with the vectorized rules of `datalever.economy.stipends`: the same functions the
simulator uses, so a replayed dump and a simulated policy are judged alike.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from datalever import canonical
from datalever.economy import stipends as rules
from datalever.economy.grants import month_index
from datalever.economy.stipends import Rule, StipendCriteria
from datalever.importers.records import Contribution, ContributionKind, Platform
from datalever.importers.stackexchange import dump_files, read_dump, read_table

COUNTERS = ("contributions", "scored_posts", "accepted_answers", "merged_pull_requests", "reviews", "counted_edits")
_ACTIVITY_EXCLUDED = {ContributionKind.ACCOUNT, ContributionKind.BADGE}
_BATCH = 20_000


@dataclass(frozen=True)
class AccountMonth:
    """One platform account's month: its counters and the rule that qualified it (Rule.NONE if none)."""

    platform: Platform
    site: str
    user_id: str
    month: int  # month index, year * 12 + month - 1
    counts: dict[str, int]
    rule: Rule

    @property
    def month_label(self) -> str:
        return month_label(self.month)


def month_label(index: int) -> str:
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def parse_month(text: str) -> int:
    """Month index for "YYYY-MM", or a clear error."""
    year, month = canonical.month_parts(text)  # ASCII YYYY-MM only (a CanonicalError is a ValueError)
    return year * 12 + month - 1


class ActivityTally:
    """Fold contributions into per-account monthly counters; `results()` applies the stipend criteria."""

    def __init__(self, criteria: StipendCriteria) -> None:
        self.criteria = criteria
        self.user_names: dict[tuple[Platform, str, str], str] = {}
        self._keys: dict[tuple[Platform, str, str, int], int] = {}
        self._counts = np.zeros((1024, len(COUNTERS)), dtype=np.int64)
        self._columns: dict[str, list[Any]] = {name: [] for name in _COLUMN_NAMES}
        self.records = 0

    def add_all(self, records: Iterable[Contribution]) -> ActivityTally:
        for record in records:
            self.add(record)
        return self

    def add(self, record: Contribution) -> None:
        self.records += 1
        if record.user_name is not None:
            self.user_names[(record.platform, record.site, record.user_id)] = record.user_name
        if record.kind in _ACTIVITY_EXCLUDED:
            return
        key = (record.platform, record.site, record.user_id, month_index(record.occurred_at))
        row = self._keys.get(key)
        if row is None:
            row = self._keys[key] = len(self._keys)
            if row >= len(self._counts):
                self._counts = np.concatenate([self._counts, np.zeros_like(self._counts)])
        columns = self._columns
        columns["row"].append(row)
        columns["kind"].append(_KIND_CODES.get(record.kind, 0))
        columns["score"].append(record.score if record.score is not None else 0)
        columns["accepted"].append(record.accepted)
        columns["self_approved"].append(record.self_approved)
        columns["public"].append(record.public)
        columns["own"].append(_own_repository(record))
        columns["namespace"].append(record.namespace if record.namespace is not None else -1)
        columns["reverted"].append(record.reverted)
        columns["minor"].append(record.minor)
        columns["size_change"].append(record.size_change)
        if len(columns["row"]) >= _BATCH:
            self._flush()

    def _flush(self) -> None:
        columns = self._columns
        if not columns["row"]:
            return
        row = np.asarray(columns["row"], dtype=np.int64)
        kind = np.asarray(columns["kind"], dtype=np.int64)
        score = np.asarray(columns["score"], dtype=np.int64)
        post = (kind == _QUESTION) | (kind == _ANSWER)
        github_ok = rules.counts_github(columns["public"], columns["self_approved"], columns["own"])
        counted = {
            "contributions": np.ones(len(row), dtype=bool),
            "scored_posts": post & rules.counts_scored_post(score, self.criteria.stackexchange),
            "accepted_answers": (kind == _ANSWER)
            & rules.counts_accepted_answer(score, columns["accepted"], columns["self_approved"]),
            "merged_pull_requests": (kind == _MERGED) & github_ok,
            "reviews": (kind == _REVIEW) & github_ok,
            "counted_edits": (kind == _EDIT)
            & rules.counts_wiki_edit(
                np.asarray(columns["namespace"], dtype=np.int64),
                columns["reverted"],
                columns["minor"],
                columns["size_change"],
                self.criteria.wikipedia,
            ),
        }
        size = len(self._counts)
        for position, name in enumerate(COUNTERS):
            self._counts[:, position] += np.bincount(row, weights=counted[name], minlength=size).astype(np.int64)
        self._columns = {name: [] for name in _COLUMN_NAMES}

    def merge(self, other: ActivityTally) -> ActivityTally:
        """Add another tally's counters (e.g. from another table read in another process) into this one."""
        other._flush()
        self._flush()
        for key, other_row in other._keys.items():
            row = self._keys.get(key)
            if row is None:
                row = self._keys[key] = len(self._keys)
                if row >= len(self._counts):
                    self._counts = np.concatenate([self._counts, np.zeros_like(self._counts)])
            self._counts[row] += other._counts[other_row]
        self.user_names.update(other.user_names)
        self.records += other.records
        return self

    def results(self) -> list[AccountMonth]:
        """Every account-month with activity, with the rule that qualified it."""
        self._flush()
        if not self._keys:
            return []
        keys = list(self._keys)
        counts = self._counts[: len(keys)]
        index = {name: position for position, name in enumerate(COUNTERS)}
        platform = np.asarray([key[0].value for key in keys])
        se = rules.stackexchange_rule(
            counts[:, index["scored_posts"]], counts[:, index["accepted_answers"]], self.criteria.stackexchange
        )
        gh = rules.github_rule(
            counts[:, index["merged_pull_requests"]], counts[:, index["reviews"]], self.criteria.github
        )
        wp = rules.wikipedia_rule(counts[:, index["counted_edits"]], self.criteria.wikipedia)
        code = np.select(
            [platform == Platform.STACKEXCHANGE.value, platform == Platform.GITHUB.value],
            [se, gh],
            default=wp,
        )
        return [
            AccountMonth(
                platform=key[0],
                site=key[1],
                user_id=key[2],
                month=key[3],
                counts={name: int(counts[i, position]) for position, name in enumerate(COUNTERS)},
                rule=Rule(int(code[i])),
            )
            for i, key in enumerate(keys)
        ]


def _tally_table(path: Path, site: str, criteria: StipendCriteria) -> ActivityTally:
    tally = ActivityTally(criteria).add_all(read_table(path, site))
    tally._flush()  # ship counters, not buffered columns, back to the parent
    return tally


def tally_dump(
    directory: str | Path,
    site: str,
    criteria: StipendCriteria,
    workers: int = 1,
    on_bytes: Callable[[int], None] | None = None,
) -> ActivityTally:
    """Tally a whole Stack Exchange dump; with workers > 1, tables are read in parallel processes.

    Counters are sums, so per-table tallies merge exactly: the result does not depend on `workers`.
    With several workers, progress is reported table by table.
    """
    if workers <= 1:
        return ActivityTally(criteria).add_all(read_dump(directory, site, on_bytes=on_bytes))
    files = sorted(dump_files(directory), key=lambda path: path.stat().st_size, reverse=True)
    tally = ActivityTally(criteria)
    with ProcessPoolExecutor(max_workers=workers) as pool:
        futures = {pool.submit(_tally_table, path, site, criteria): path for path in files}
        for future in as_completed(futures):
            tally.merge(future.result())
            if on_bytes is not None:
                on_bytes(futures[future].stat().st_size)
    return tally


def _own_repository(record: Contribution) -> bool | None:
    if record.repository_owner is None or record.user_name is None:
        return None
    return record.repository_owner.lower() == record.user_name.lower()


_COLUMN_NAMES = (
    "row",
    "kind",
    "score",
    "accepted",
    "self_approved",
    "public",
    "own",
    "namespace",
    "reverted",
    "minor",
    "size_change",
)
_QUESTION, _ANSWER, _MERGED, _REVIEW, _EDIT = 1, 2, 3, 4, 5
_KIND_CODES = {
    ContributionKind.QUESTION: _QUESTION,
    ContributionKind.ANSWER: _ANSWER,
    ContributionKind.PULL_REQUEST_MERGED: _MERGED,
    ContributionKind.REVIEW: _REVIEW,
    ContributionKind.EDIT: _EDIT,
}
