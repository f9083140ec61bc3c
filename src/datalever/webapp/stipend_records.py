"""The one place the web app reads the stipend part's stored contributions (moves with that part)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from sqlalchemy import Connection

from datalever.importers import Contribution
from datalever.service.contribution_store import stored_records


def month_records(conn: Connection, month: int, accounts: Iterable[tuple[str, str, str]]) -> Iterator[Contribution]:
    return stored_records(conn, month, accounts)
