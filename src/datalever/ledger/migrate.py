"""Schema upgrades through Alembic, with the environment shipped inside the package."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine

from datalever.ledger.db import make_engine, normalise_url

SCRIPT_LOCATION = "datalever.ledger:migrations"


def alembic_config(url: str | None = None) -> Config:
    """An Alembic config pointing at the packaged migrations (no alembic.ini needed)."""
    config = Config()
    config.set_main_option("script_location", SCRIPT_LOCATION)
    if url is not None:
        config.set_main_option("sqlalchemy.url", normalise_url(url).replace("%", "%%"))
    return config


def upgrade(url_or_engine: str | Engine, revision: str = "head") -> None:
    """Bring the database to the latest schema.

    The history has one head (parts that branched off in parallel are joined by a merge revision, and a
    test keeps it so); targeting "head" rather than "heads" makes a second, unmerged head an error here
    instead of a schema that depends on which branches happened to be applied.
    """
    engine = make_engine(url_or_engine) if isinstance(url_or_engine, str) else url_or_engine
    try:
        with engine.begin() as connection:
            config = alembic_config()
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
    finally:
        if isinstance(url_or_engine, str):
            engine.dispose()
