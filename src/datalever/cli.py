"""The `datalever` command: a thin shell that mounts `serve` and each registered part's own commands."""

from __future__ import annotations

import typer

from datalever import __version__
from datalever.parts import PARTS
from datalever.service.commands import register as register_serve

app = typer.Typer(
    name="datalever",
    help="A credit economy for AI use: ledger service, ecosystem simulator and data-flow tools.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
    rich_markup_mode=None,  # help texts show square brackets as written ("[default: built-in]")
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"datalever {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Show the version."),
) -> None:
    """datalever: give the people whose data built generative AI a real share of it."""


register_serve(app)
for part in PARTS:
    if part.commands is not None:
        part.commands(app)
