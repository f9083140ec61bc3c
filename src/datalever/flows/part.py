"""The flows part's declaration: tables, migrations, routes and commands."""

from pathlib import Path

from datalever.part import Part, commands, routes, tables

PART = Part(
    name="flows",
    metadata=tables("datalever.flows.models"),
    migrations=Path(__file__).parent / "migrations",
    router=routes("datalever.flows.router"),
    commands=commands("datalever.flows.commands"),
)
