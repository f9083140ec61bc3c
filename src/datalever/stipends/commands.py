"""`datalever stipends ...`: contributor stipends from real platform activity.

Import heavy modules inside the command functions so `datalever --help` stays fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console

from datalever.commandline import DATABASE_URL, POLICY, open_ledger, parse_id_option, parse_month_option

if TYPE_CHECKING:
    from datalever.ledger.posting import Ledger

stipends_app = typer.Typer(
    name="stipends",
    help="Contributor stipends: replay a platform dump against a policy, import activity, pay stipends.",
    no_args_is_help=True,
)


def _fail(message: str) -> typer.Exit:
    """Print a clear error (as plain text: paths and policy keys may contain brackets) and exit with 2."""
    from rich.text import Text

    Console(stderr=True).print(Text.assemble(("error: ", "bold red"), message), highlight=False)
    return typer.Exit(code=2)


@stipends_app.command("replay")
def replay(
    dump: Path = typer.Option(..., "--dump", help="Directory of a Stack Exchange data dump (Posts.xml, Users.xml...)."),
    out: Path = typer.Option(..., "--out", help="Directory for the CSV files and the plot (created if missing)."),
    policy_file: Path | None = typer.Option(None, "--policy", help="Policy TOML (default: the packaged policy)."),
    site: str | None = typer.Option(
        None, "--site", help="The site's host name for attribution links, e.g. bicycles.meta.stackexchange.com."
    ),
    workers: int = typer.Option(1, "--workers", min=1, help="Read dump tables in this many parallel processes."),
) -> None:
    """Month by month over a dump's whole history: accounts that would qualify and the credits paid."""
    from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn, TransferSpeedColumn
    from rich.table import Table

    from datalever.documents import ConfigError
    from datalever.economy.policy import load_policy
    from datalever.importers.records import ImportFormatError
    from datalever.importers.stackexchange import dump_files
    from datalever.stipends import replay

    console = Console()
    try:
        policy = load_policy(policy_file)
        files = dump_files(dump)
    except (ConfigError, ImportFormatError) as error:
        raise _fail(str(error)) from None
    if site is None:
        site_name = dump.resolve().name
        Console(stderr=True).print(
            f"warning: no --site given: attribution links use the folder name ({site_name}) as the site's host "
            "name; give --site, e.g. --site bicycles.meta.stackexchange.com, so the CSV and plot credit the "
            "right site",
            markup=False,
            highlight=False,
        )
    else:
        site_name = _site_or_exit(site)
    total = sum(path.stat().st_size for path in files)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise _fail(f"{out}: cannot create output directory ({error.strerror})") from None
    columns = ("[progress.description]{task.description}", BarColumn(), DownloadColumn(), TransferSpeedColumn())
    with Progress(*columns, TimeRemainingColumn(), console=console, transient=True) as progress:
        task = progress.add_task(f"reading {dump.name}", total=total)
        try:
            result = replay.replay_dump(
                dump, policy, site_name, on_bytes=lambda n: progress.advance(task, n), workers=workers
            )
        except ImportFormatError as error:
            raise _fail(f"{error} (nothing was written)") from None
    if not result.months:
        raise _fail(f"{dump}: the dump holds no dated contributions by identifiable accounts")
    monthly, accounts, figure = out / "stipend_replay.csv", out / "qualified_accounts.csv", out / "stipend_replay.png"
    replay.write_monthly_csv(result, monthly)
    replay.write_accounts_csv(result, policy, accounts)
    note = (
        f"Source: {site_name} data dump by its contributors and Stack Exchange, Inc., CC BY-SA "
        f"(https://{site_name}).\nEach dump account counted as one member; scores as of the dump date."
    )
    replay.plot(result, figure, note)

    table = Table(title=f"Stipend replay of {site_name}", show_edge=False)
    for name in ("months", "records", "account-months active", "account-months qualified", "credits paid"):
        table.add_column(name, justify="right")
    table.add_row(
        str(len(result.months)),
        f"{result.records:,}",
        f"{sum(m.active_accounts for m in result.months):,}",
        f"{result.total_qualified:,}",
        f"{result.total_credits:,}",
    )
    console.print(table)
    console.print(f"wrote {monthly}, {accounts} and {figure}")


def _site_or_exit(site: str) -> str:
    from datalever import canonical

    try:
        return canonical.parse_name(site, "--site", 200)
    except canonical.CanonicalError as error:
        raise _fail(str(error)) from None


_parse_month = parse_month_option
_parse_id = parse_id_option


def _ledger(database_url: str | None, policy_file: Path | None) -> Ledger:
    from datalever.documents import ConfigError
    from datalever.economy.policy import load_policy

    try:
        policy = load_policy(policy_file)
    except ConfigError as error:
        raise _fail(str(error)) from None
    return open_ledger(database_url, policy)


@stipends_app.command("import")
def import_activity(
    source: Path = typer.Argument(..., help="A Stack Exchange dump directory, or GitHub / MediaWiki JSON file(s)."),
    platform_name: str = typer.Option(..., "--platform", help="stackexchange, github or wikipedia."),
    site: str | None = typer.Option(
        None,
        "--site",
        help="The platform site, e.g. bicycles.stackexchange.com (required for Stack Exchange dumps; "
        "wikipedia: [default: en.wikipedia.org])",
    ),
    database_url: str | None = DATABASE_URL,
) -> None:
    """Store a platform's activity export in the database, in one transaction (all of it, or nothing)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn

    from datalever.importers import ImportFormatError, Platform, parse_platform, read_source
    from datalever.ledger.types import utcnow
    from datalever.stipends.contributions import import_contributions

    try:
        platform = parse_platform(platform_name)
    except ValueError as error:
        raise _fail(str(error)) from None
    if not source.exists():
        raise _fail(f"{source}: no such file or directory")
    if site is not None:
        site = _site_or_exit(site)
    elif platform is Platform.STACKEXCHANGE:
        raise _fail(
            f"give --site: a Stack Exchange dump does not name its site, and importing it under the folder's "
            f"name ({source.resolve().name}) would store a second copy of a site already imported under its "
            "real name; e.g. --site bicycles.stackexchange.com"
        )
    elif platform is Platform.WIKIPEDIA:
        site = "en.wikipedia.org"
        Console(stderr=True).print(
            "site: en.wikipedia.org (the default; give --site for another wiki)", markup=False, highlight=False
        )
    ledger = _ledger(database_url, None)
    console = Console()
    columns = (SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task(f"importing {source.name}", total=None)
        try:
            summary = import_contributions(
                ledger.engine,
                read_source(platform, source, site),
                platform,
                str(source),
                "cli",
                utcnow(),
                on_batch=lambda n: progress.advance(task, n),
            )
        except ImportFormatError as error:
            raise _fail(f"{error} (nothing was imported)") from None
        finally:
            ledger.engine.dispose()
    console.print(
        f"imported {summary.records_read:,} records from {source}: {summary.records_new:,} new, "
        f"{summary.records_already_stored:,} already stored, {summary.records_not_stored:,} account rows not stored"
    )


@stipends_app.command("run")
def run(
    month: str = typer.Option(
        ..., "--month", parser=_parse_month, help="The month to pay, YYYY-MM (it must have ended)."
    ),
    member: int | None = typer.Option(None, "--member", parser=_parse_id, help="Pay only this member."),
    out: Path = typer.Option(Path("stipend-reports"), "--out", help="Where to write the month's report."),
    database_url: str | None = DATABASE_URL,
    policy_file: Path | None = POLICY,
) -> None:
    """Pay the month's stipends (once per member and month, however often this runs) and write the report."""
    import csv
    import json

    from rich.table import Table

    from datalever.ledger.errors import LedgerError
    from datalever.stipends import payments

    ledger = _ledger(database_url, policy_file)
    try:
        with Console().status(f"paying stipends for {month}..."):
            report = payments.run_month(ledger, month, member)
    except LedgerError as error:
        raise _fail(error.message) from None
    finally:
        ledger.engine.dispose()
    out.mkdir(parents=True, exist_ok=True)
    csv_path, json_path = out / f"stipends-{report.label}.csv", out / f"stipends-{report.label}.json"
    with csv_path.open("w", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(["month", "member_id", "platform", "site", "account_id", "rule", "status", "amount"])
        for result in report.members:
            for account in result.accounts:
                writer.writerow(
                    [
                        report.label,
                        result.member_id,
                        account.platform,
                        account.site,
                        account.account_id,
                        account.rule.label,
                        result.status,
                        result.amount,
                    ]
                )
    json_path.write_text(json.dumps(report.body(), indent=2) + "\n")

    table = Table(title=f"Stipends for {report.label}")
    for column in ("member", "qualified by", "status", "credits"):
        table.add_column(column, justify="right" if column in ("member", "credits") else "left")
    for result in report.members:
        table.add_row(str(result.member_id), ", ".join(result.rules) or "-", result.status, str(result.amount))
    console = Console()
    console.print(table)
    console.print(f"paid now: {report.paid:,} credits; report written to {csv_path} and {json_path}")


def register(app: typer.Typer) -> None:
    """Add this part's commands to the top-level app."""
    app.add_typer(stipends_app, name="stipends")
