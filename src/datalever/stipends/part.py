"""The stipends part's declaration: tables, migrations, routes and commands."""

from pathlib import Path

from datalever.part import Part, commands, routes, tables

PART = Part(
    name="stipends",
    metadata=tables("datalever.stipends.models"),
    migrations=Path(__file__).parent / "migrations",
    router=routes("datalever.stipends.router"),
    commands=commands("datalever.stipends.commands"),
)
