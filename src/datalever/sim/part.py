"""The simulator's declaration: commands only (it has no tables and no routes, and imports only economy)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from datalever.part import Part

if TYPE_CHECKING:
    import typer


def _commands(app: typer.Typer) -> None:
    from datalever.sim.commands import register

    register(app)


PART = Part(name="sim", commands=_commands)
