"""The web app part's declaration: tables, migrations, routes (pages at /, the directory's API, offline
/docs) and commands."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from datalever.part import Part

if TYPE_CHECKING:
    import typer
    from fastapi import APIRouter
    from sqlalchemy import MetaData


def _metadata() -> MetaData:
    import datalever.webapp.models  # noqa: F401  (declares this part's tables on the ledger's Base)
    from datalever.ledger.models import Base

    return Base.metadata


def _router() -> APIRouter:
    from datalever.webapp.router import router

    return router


def _commands(app: typer.Typer) -> None:
    from datalever.webapp.commands import register

    register(app)


PART = Part(
    name="webapp",
    metadata=_metadata,
    migrations=Path(__file__).parent / "migrations",
    router=_router,
    commands=_commands,
)
