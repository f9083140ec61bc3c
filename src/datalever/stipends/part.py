"""The stipends part's declaration: tables, migrations, routes and commands."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from datalever.part import Part

if TYPE_CHECKING:
    import typer
    from fastapi import APIRouter
    from sqlalchemy import MetaData


def _metadata() -> MetaData:
    import datalever.stipends.models  # noqa: F401  (declares this part's tables on the ledger's Base)
    from datalever.ledger.models import Base

    return Base.metadata


def _router() -> APIRouter:
    from datalever.stipends.router import router

    return router


def _commands(app: typer.Typer) -> None:
    from datalever.stipends.commands import register

    register(app)


PART = Part(
    name="stipends",
    metadata=_metadata,
    migrations=Path(__file__).parent / "migrations",
    router=_router,
    commands=_commands,
)
