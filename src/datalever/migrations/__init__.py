"""Schema upgrades through Alembic: one linear history built from the revisions every part declares.

The environment (env.py, script.py.mako) lives here, above the parts, because it reads the registry
(`datalever.parts.PARTS`): each part's `migrations` folder becomes a version location and each part's
`metadata` the autogenerate target. `versions/` holds revisions that belong to no single part (the merge
that joined the stipends and flows branches). No alembic.ini is needed.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine

from datalever.ledger.db import make_engine, normalise_url

if TYPE_CHECKING:
    from sqlalchemy import MetaData

SCRIPT_LOCATION = "datalever:migrations"
SHARED_VERSIONS = Path(__file__).parent / "versions"


def version_locations() -> list[Path]:
    """Every folder of revisions: the shared one, then each registered part's, in registry order."""
    from datalever.parts import PARTS

    return [SHARED_VERSIONS, *(part.migrations for part in PARTS if part.migrations is not None)]


def target_metadata() -> list[MetaData]:
    """The MetaData of every registered part's tables (each one once; parts may share the ledger's Base)."""
    from datalever.parts import PARTS

    found: list[MetaData] = []
    for part in PARTS:
        if part.metadata is not None:
            metadata = part.metadata()
            if not any(metadata is seen for seen in found):
                found.append(metadata)
    return found


def alembic_config(url: str | None = None) -> Config:
    """An Alembic config pointing at the packaged environment and every part's revisions."""
    config = Config()
    config.set_main_option("script_location", SCRIPT_LOCATION)
    config.set_main_option("path_separator", "os")
    locations = os.pathsep.join(str(path) for path in version_locations())
    config.set_main_option("version_locations", locations.replace("%", "%%"))
    if url is not None:
        config.set_main_option("sqlalchemy.url", normalise_url(url).replace("%", "%%"))
    return config


def upgrade(url_or_engine: str | Engine, revision: str = "head") -> None:
    """Bring the database to the latest schema.

    The history has one head (a test keeps it so); targeting "head" rather than "heads" makes a second,
    unmerged head an error here instead of a schema that depends on which branches happened to be applied.
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


def pending(engine: Engine) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(the database's revisions, the code's head revisions): equal when no migration is pending.

    For readiness checks: reads one row (`alembic_version`) and the revision files (cached by the caller)."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_heads()
    return tuple(sorted(current)), head_revisions()


_HEADS: tuple[str, ...] | None = None


def head_revisions() -> tuple[str, ...]:
    """The head revision(s) of the code's migration history (read once per process)."""
    global _HEADS
    if _HEADS is None:
        from alembic.script import ScriptDirectory

        _HEADS = tuple(sorted(ScriptDirectory.from_config(alembic_config()).get_heads()))
    return _HEADS
