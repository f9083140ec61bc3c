"""What every part's commands share (as `web/` is for routers): the database and policy options, the
database URL shown without its password, and a ledger on a migrated database.

Heavy modules are imported inside the functions so `datalever --help` stays fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from datalever.economy import Policy
    from datalever.ledger.posting import Ledger

errors = Console(stderr=True)

DATABASE_URL = typer.Option(
    None,
    "--database-url",
    envvar="DATALEVER_DATABASE_URL",
    help="SQLAlchemy URL, e.g. postgresql+psycopg://user@host/db "
    "[default: $DATALEVER_DATABASE_URL, else datalever.db in the user data folder; see docs/operations.md]",
)
POLICY = typer.Option(None, "--policy", envvar="DATALEVER_POLICY", help="Credit policy TOML [default: built-in].")


def database_url_or_default(database_url: str | None) -> str:
    """The database every command agrees on (`datalever.locations`), printed on stderr when a command starts
    so nobody writes to a database they did not mean."""
    from datalever.locations import database_url as resolve

    url = resolve(database_url)
    errors.print(f"database: {display_url(url)}", markup=False, highlight=False, soft_wrap=True)
    return url


def parse_id_option(text: str) -> int | None:
    """Typer `parser=` for ids: ASCII digits only (`datalever.canonical`), else a usage error."""
    from datalever import canonical

    return canonical.typer_callback(canonical.parse_id)(text)


def parse_month_option(text: str) -> str | None:
    """Typer `parser=` for months: YYYY-MM in ASCII digits only, else a usage error."""
    from datalever import canonical

    return canonical.typer_callback(canonical.parse_month)(text)


def display_url(url: str) -> str:
    """The URL as it may be printed: any password hidden."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def policy_or_exit(policy: Path | None) -> Policy:
    """The policy, or its ConfigError printed as one message and exit status 2."""
    from datalever.economy import ConfigError, load_policy

    try:
        return load_policy(policy)
    except ConfigError as error:
        errors.print(str(error), markup=False, highlight=False)
        raise typer.Exit(2) from None


def open_ledger(database_url: str | None, policy: Policy) -> Ledger:
    """A ledger on the database, created or upgraded to the latest schema first."""
    from datalever.ledger.db import make_engine
    from datalever.ledger.posting import Ledger

    engine = make_engine(database_url_or_default(database_url))
    upgrade_or_exit(engine)
    return Ledger(engine, policy)


def upgrade_or_exit(url_or_engine: str | Engine) -> None:
    """Upgrade the schema, or print why not as one message and exit status 2 (e.g. a database stamped by
    another version of datalever, whose revision this one does not know), never a traceback."""
    from alembic.util import CommandError

    from datalever import migrations

    try:
        migrations.upgrade(url_or_engine)
    except CommandError as error:
        heads = ", ".join(migrations.head_revisions())
        errors.print(
            f"cannot upgrade the database: {error} (this version's migrations end at {heads}; "
            "was the database made by another version?)",
            markup=False,
            highlight=False,
        )
        raise typer.Exit(2) from None
