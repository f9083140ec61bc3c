"""Alembic environment: runs migrations on the connection or URL handed over by datalever.ledger.migrate."""

from __future__ import annotations

import importlib
import importlib.util
import pkgutil

from alembic import context
from sqlalchemy import Connection

import datalever
from datalever.ledger.db import make_engine
from datalever.ledger.models import Base


def _import_models() -> None:
    """Import every `datalever.<part>.models` so autogenerate sees all parts' tables on Base.metadata."""
    for part in pkgutil.iter_modules(datalever.__path__):
        if part.ispkg and importlib.util.find_spec(f"datalever.{part.name}.models") is not None:
            importlib.import_module(f"datalever.{part.name}.models")


_import_models()
config = context.config
target_metadata = Base.metadata


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
