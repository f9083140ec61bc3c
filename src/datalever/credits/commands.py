"""Commands of the credits part: db upgrade, keys create/revoke, allowance run, expiry run.

Heavy modules are imported inside the commands so `datalever --help` stays fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console

from datalever.commandline import (
    DATABASE_URL,
    POLICY,
    database_url_or_default,
    display_url,
    open_ledger,
    parse_id_option,
    parse_month_option,
    policy_or_exit,
    upgrade_or_exit,
)

if TYPE_CHECKING:
    from datalever.ledger.allowance import AllowanceRun
    from datalever.ledger.posting import Ledger

console = Console()
errors = Console(stderr=True)

db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
keys_app = typer.Typer(help="API keys.", no_args_is_help=True)
allowance_app = typer.Typer(help="The monthly allowance.", no_args_is_help=True)
expiry_app = typer.Typer(help="Expiry of allowance credits.", no_args_is_help=True)


_parse_id = parse_id_option
_parse_month = parse_month_option


def _ledger(database_url: str | None, policy: Path | None) -> Ledger:
    return open_ledger(database_url, policy_or_exit(policy))


def _fail(message: str, code: int = 1) -> typer.Exit:
    errors.print(f"error: {message}", markup=False, highlight=False)
    return typer.Exit(code)


@db_app.command("upgrade")
def db_upgrade(database_url: str | None = DATABASE_URL) -> None:
    """Create or upgrade the schema to the latest revision (every part's migrations)."""

    url = database_url_or_default(database_url)
    upgrade_or_exit(url)
    console.print(f"database at {display_url(url)} is up to date")


@keys_app.command("create")
def keys_create(
    role: str = typer.Option(..., "--role", help="admin, operator, member or platform"),
    member: int | None = typer.Option(None, "--member", parser=_parse_id, help="The member of a member key."),
    platform: str | None = typer.Option(
        None, "--platform", help="The platform a platform key speaks for (required for platform keys)."
    ),
    site: str | None = typer.Option(None, "--site", help="Limit a platform key to one site, e.g. stackoverflow.com."),
    label: str | None = typer.Option(None, "--label", help="A note to tell keys apart."),
    database_url: str | None = DATABASE_URL,
) -> None:
    """Create an API key and print it once (only its hash is stored)."""
    from datalever.ledger.db import make_engine
    from datalever.ledger.errors import LedgerError
    from datalever.web.keys import create_key

    engine = make_engine(database_url_or_default(database_url))
    upgrade_or_exit(engine)
    try:
        with engine.begin() as conn:
            principal, token = create_key(conn, role, member, label, platform=platform, site=site)
    except LedgerError as error:
        raise _fail(error.message, 2) from None
    scope = f" for {principal.platform}" + (f" / {principal.site}" if principal.site else "") if platform else ""
    console.print(f"created {principal.role.value} key {principal.key_id}{scope} (shown once, store it now):")
    print(token)


@keys_app.command("scope")
def keys_scope(
    key_id: str = typer.Argument(..., help="The platform key's id (the part after dlk_)."),
    platform: str = typer.Option(..., "--platform", help="stackexchange, github or wikipedia."),
    site: str | None = typer.Option(None, "--site", help="Limit the key to one site, e.g. stackoverflow.com."),
    replace: bool = typer.Option(False, "--replace", help="Change the scope of a key that already has one."),
    database_url: str | None = DATABASE_URL,
) -> None:
    """Scope a platform key to one platform (and optionally one site); unscoped platform keys are refused."""
    from datalever.ledger.db import make_engine
    from datalever.ledger.errors import LedgerError
    from datalever.web.keys import scope_key

    engine = make_engine(database_url_or_default(database_url))
    upgrade_or_exit(engine)
    try:
        with engine.begin() as conn:
            principal = scope_key(conn, key_id, platform, site, replace=replace)
    except LedgerError as error:
        raise _fail(error.message, 2) from None
    where = f"{principal.platform}" + (f" / {principal.site}" if principal.site else " (every site)")
    console.print(f"platform key {key_id} now speaks for {where}")


@keys_app.command("revoke")
def keys_revoke(
    key_id: str = typer.Argument(..., help="The key id printed by `keys create` (the part after dlk_)."),
    database_url: str | None = DATABASE_URL,
) -> None:
    """Revoke an API key (running servers stop accepting it within their key-cache time, 5 s)."""
    from datalever.ledger.db import make_engine
    from datalever.web.keys import revoke_key

    engine = make_engine(database_url_or_default(database_url))
    with engine.begin() as conn:
        revoked = revoke_key(conn, key_id)
    if not revoked:
        raise _fail(f"no active key with id {key_id!r}", 2)
    console.print(f"revoked key {key_id}")


@allowance_app.command("run")
def allowance_run(
    month: str = typer.Option(..., "--month", parser=_parse_month, help="YYYY-MM, ASCII digits."),
    database_url: str | None = DATABASE_URL,
    policy: Path | None = POLICY,
) -> None:
    """Grant every member the month's allowance; running it again for the same month grants nothing."""
    from rich.progress import Progress
    from sqlalchemy import func, select

    from datalever.ledger.allowance import run_allowance
    from datalever.ledger.errors import LedgerError
    from datalever.ledger.models import MEMBERS

    ledger = _ledger(database_url, policy)
    with ledger.engine.connect() as conn:
        total = int(conn.execute(select(func.count()).select_from(MEMBERS)).scalar_one())
    try:
        with Progress(console=console, transient=True) as progress:
            task = progress.add_task(f"allowance {month}", total=total)
            result = run_allowance(ledger, month, progress=lambda n: progress.advance(task, n))
    except LedgerError as error:
        raise _fail(error.message, 2) from None
    console.print(
        f"allowance {result.month}: {result.members_granted} members granted {result.credits_granted} credits; "
        f"{result.already_granted} already had it",
        highlight=False,
    )
    if result.members_granted == 0:
        console.print(_why_nobody(result, total), markup=False, highlight=False)


def _why_nobody(result: AllowanceRun, members: int) -> str:
    """Why a run granted nobody: no members yet, all already granted, or all joined after the month."""
    if members == 0:
        return "nobody was granted: there are no members yet (POST /v1/members)"
    reasons = []
    if result.already_granted:
        reasons.append(f"{result.already_granted} already had this month's allowance (it is granted once per month)")
    if result.not_due:
        reasons.append(
            f"{result.not_due} joined after {result.month} and are due nothing for it (a member's allowance starts "
            "with the month they joined)"
        )
    return "nobody was granted: " + "; ".join(reasons) if reasons else "nobody was granted"


@expiry_app.command("run")
def expiry_run(database_url: str | None = DATABASE_URL, policy: Path | None = POLICY) -> None:
    """Post expiry transfers for every lot past its expiry (remaining credits only; spent credits stay spent)."""
    from datalever.ledger.expiry import run_expiry

    ledger = _ledger(database_url, policy)
    with console.status("expiring lots..."):
        result = run_expiry(ledger)
    console.print(f"expired {result.credits} credits from {result.lots} lots in {result.accounts} accounts")


def register(app: typer.Typer) -> None:
    """Add this part's commands to the top-level app."""
    app.add_typer(db_app, name="db")
    app.add_typer(keys_app, name="keys")
    app.add_typer(allowance_app, name="allowance")
    app.add_typer(expiry_app, name="expiry")
