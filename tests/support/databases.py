"""One migrated database per test, emptied back to its just-migrated rows between Hypothesis examples.

Migrating a new database for every example costs most of a second on PostgreSQL; emptying the tables and
re-inserting what the migrations seeded (the system accounts of 0001) costs milliseconds and leaves the
same books. The seed is read back from the database, so a migration that seeds more rows is covered too.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, MetaData, Table, select, text

from datalever import migrations
from datalever.ledger.db import make_engine


class MigratedDatabase:
    """A database at the latest schema; `reset` returns it to the rows the migrations left."""

    def __init__(self, url: str) -> None:
        self.engine = make_engine(url)
        migrations.upgrade(self.engine)
        metadata = MetaData()
        metadata.reflect(self.engine)
        self.tables: list[Table] = [table for table in metadata.sorted_tables if table.name != "alembic_version"]
        with self.engine.connect() as conn:
            self.seed: dict[str, list[dict[str, Any]]] = {
                table.name: [dict(row._mapping) for row in conn.execute(select(table))] for table in self.tables
            }

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def reset(self) -> Engine:
        """Empty every table (ids keep counting up on PostgreSQL) and put the seeded rows back."""
        with self.engine.begin() as conn:
            if self.dialect == "postgresql":
                quote = conn.dialect.identifier_preparer.quote
                conn.execute(text("TRUNCATE " + ", ".join(quote(table.name) for table in self.tables)))
            else:
                for table in reversed(self.tables):
                    conn.execute(table.delete())
            for table in self.tables:
                if self.seed[table.name]:
                    conn.execute(table.insert(), self.seed[table.name])
        return self.engine

    def close(self) -> None:
        self.engine.dispose()
