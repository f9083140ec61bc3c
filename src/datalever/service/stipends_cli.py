"""`datalever stipends ...`: contributor stipends from real platform activity.

Import heavy modules inside the command functions so `datalever --help` stays fast.
"""

from __future__ import annotations

from pathlib import Path

import typer

stipends_app = typer.Typer(
    name="stipends",
    help="Contributor stipends: replay a platform dump against a policy, import activity, pay stipends.",
    no_args_is_help=True,
)


def _fail(message: str) -> typer.Exit:
    from rich.console import Console

    Console(stderr=True).print(f"[bold red]error:[/] {message}", highlight=False)
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
    from rich.console import Console
    from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn, TransferSpeedColumn
    from rich.table import Table

    from datalever.economy.config import ConfigError
    from datalever.economy.policy import load_policy
    from datalever.importers.records import ImportFormatError
    from datalever.importers.stackexchange import dump_files
    from datalever.service import stipend_replay

    console = Console()
    try:
        policy = load_policy(policy_file)
        files = dump_files(dump)
    except (ConfigError, ImportFormatError) as error:
        raise _fail(str(error)) from None
    site_name = site or dump.resolve().name
    total = sum(path.stat().st_size for path in files)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise _fail(f"{out}: cannot create output directory ({error.strerror})") from None
    columns = ("[progress.description]{task.description}", BarColumn(), DownloadColumn(), TransferSpeedColumn())
    with Progress(*columns, TimeRemainingColumn(), console=console, transient=True) as progress:
        task = progress.add_task(f"reading {dump.name}", total=total)
        try:
            result = stipend_replay.replay_dump(
                dump, policy, site_name, on_bytes=lambda n: progress.advance(task, n), workers=workers
            )
        except ImportFormatError as error:
            raise _fail(f"{error} (nothing was written)") from None
    if not result.months:
        raise _fail(f"{dump}: the dump holds no dated contributions by identifiable accounts")
    monthly, accounts, figure = out / "stipend_replay.csv", out / "qualified_accounts.csv", out / "stipend_replay.png"
    stipend_replay.write_monthly_csv(result, monthly)
    stipend_replay.write_accounts_csv(result, policy, accounts)
    note = (
        f"Source: {site_name} data dump by its contributors and Stack Exchange, Inc., CC BY-SA "
        f"(https://{site_name}).\nEach dump account counted as one member; scores as of the dump date."
    )
    stipend_replay.plot(result, figure, note)

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


def register(app: typer.Typer) -> None:
    """Add this part's commands to the top-level app."""
    app.add_typer(stipends_app, name="stipends")
