"""Storing imported contributions: one import is one transaction, so a broken file leaves nothing behind.

Records stream from an importer in batches of inserts inside a single transaction: memory stays flat
however large the export, and a truncated file (ImportFormatError half-way) rolls the whole import back.
A contribution already stored (same platform, site and source id) is skipped, so re-importing an
overlapping export is safe.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from itertools import islice
from typing import Any

from sqlalchemy import Connection, Engine, func, insert, select, tuple_, update

from datalever.economy.grants import month_index
from datalever.importers import Contribution, ContributionKind, Platform
from datalever.ledger.storage import insert_new
from datalever.stipends.models import CONTRIBUTION_IMPORTS, CONTRIBUTIONS

BATCH = 2000


@dataclass(frozen=True)
class ImportSummary:
    import_id: int
    platform: str
    records_read: int
    records_new: int
    records_not_stored: int  # account rows (Users.xml): who exists, not what they contributed

    @property
    def records_already_stored(self) -> int:
        return self.records_read - self.records_new - self.records_not_stored

    def body(self) -> dict[str, Any]:
        return {
            "import_id": self.import_id,
            "platform": self.platform,
            "records_read": self.records_read,
            "records_new": self.records_new,
            "records_already_stored": self.records_already_stored,
            "records_not_stored": self.records_not_stored,
        }


def _row(import_id: int, record: Contribution) -> dict[str, Any]:
    return {
        "import_id": import_id,
        "platform": record.platform.value,
        "site": record.site,
        "account_id": record.user_id,
        "kind": record.kind.value,
        "source_id": record.source_id,
        "occurred_at": record.occurred_at,
        "month": month_index(record.occurred_at),
        "user_name": record.user_name,
        "score": record.score,
        "accepted": record.accepted,
        "merged": record.merged,
        "reverted": record.reverted,
        "self_approved": record.self_approved,
        "namespace": record.namespace,
        "minor": record.minor,
        "size_change": record.size_change,
        "repository": record.repository,
        "repository_owner": record.repository_owner,
        "public": record.public,
        "url": record.url,
    }


def _insert_new(conn: Connection) -> Any:
    """INSERT that skips rows whose (platform, site, source_id) is already stored."""
    return insert_new(conn, CONTRIBUTIONS, ["platform", "site", "source_id"])


def _batches(records: Iterable[Contribution], size: int) -> Iterator[list[Contribution]]:
    iterator = iter(records)
    while batch := list(islice(iterator, size)):
        yield batch


def store_contributions(
    conn: Connection,
    records: Iterable[Contribution],
    platform: Platform,
    source: str,
    actor: str,
    now: datetime,
    on_batch: Callable[[int], None] | None = None,
    batch_size: int = BATCH,
) -> ImportSummary:
    """Insert every record of one import on `conn` (the caller's transaction); account rows are skipped."""
    import_id = conn.execute(
        insert(CONTRIBUTION_IMPORTS)
        .values(platform=platform.value, source=source, actor=actor, records_read=0, records_new=0, started_at=now)
        .returning(CONTRIBUTION_IMPORTS.c.id)
    ).scalar_one()
    statement = _insert_new(conn)
    read = skipped = 0
    for batch in _batches(records, batch_size):
        rows = []
        for record in batch:
            if record.platform is not platform:
                raise ValueError(f"{source}: a {record.platform.value} record in a {platform.value} import")
            if record.kind is ContributionKind.ACCOUNT:
                skipped += 1
            else:
                rows.append(_row(import_id, record))
        read += len(batch)
        if rows:
            conn.execute(statement, rows)
        if on_batch is not None:
            on_batch(len(batch))
    new = conn.execute(select(func.count()).where(CONTRIBUTIONS.c.import_id == import_id)).scalar_one()
    conn.execute(
        update(CONTRIBUTION_IMPORTS)
        .where(CONTRIBUTION_IMPORTS.c.id == import_id)
        .values(records_read=read, records_new=new, finished_at=now)
    )
    return ImportSummary(int(import_id), platform.value, read, int(new), skipped)


def import_contributions(
    engine: Engine,
    records: Iterable[Contribution],
    platform: Platform,
    source: str,
    actor: str,
    now: datetime,
    on_batch: Callable[[int], None] | None = None,
    batch_size: int = BATCH,
) -> ImportSummary:
    """One import in one transaction: all of it is stored, or (on any error) none of it."""
    with engine.begin() as conn:
        return store_contributions(conn, records, platform, source, actor, now, on_batch, batch_size)


def stored_records(conn: Connection, month: int, accounts: Iterable[tuple[str, str, str]]) -> Iterator[Contribution]:
    """Stored contributions of one month for the given (platform, site, account id) triples, as records."""
    wanted = sorted(set(accounts))
    key = tuple_(CONTRIBUTIONS.c.platform, CONTRIBUTIONS.c.site, CONTRIBUTIONS.c.account_id)
    for start in range(0, len(wanted), 500):
        rows = conn.execute(
            select(CONTRIBUTIONS)
            .where(CONTRIBUTIONS.c.month == month, key.in_(wanted[start : start + 500]))
            .order_by(CONTRIBUTIONS.c.id)
        )
        yield from (_record(row) for row in rows)


def _record(row: Any) -> Contribution:
    return Contribution(
        platform=row.platform,
        site=row.site,
        user_id=row.account_id,
        kind=row.kind,
        source_id=row.source_id,
        occurred_at=row.occurred_at,
        user_name=row.user_name,
        score=row.score,
        accepted=row.accepted,
        merged=row.merged,
        reverted=row.reverted,
        self_approved=row.self_approved,
        namespace=row.namespace,
        minor=row.minor,
        size_change=row.size_change,
        repository=row.repository,
        repository_owner=row.repository_owner,
        public=row.public,
        url=row.url,
    )
