"""Alembic environment: runs migrations on the connection or URL handed over by datalever.migrations."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from datalever.ledger.db import make_engine
from datalever.migrations import target_metadata as declared_metadata

config = context.config
target_metadata = declared_metadata()  # the tables each registered part declares (datalever.parts)


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(config.get_main_option("sqlalchemy.url") or "")
    try:
        with engine.connect() as conn:
            _run(conn)
    finally:
        engine.dispose()


if context.is_offline_mode():
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=target_metadata)
    with context.begin_transaction():
        context.run_migrations()
else:
    run_migrations_online()
