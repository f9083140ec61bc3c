"""The pools part's declaration: tables, migrations, routes, commands and the web app's `PoolsView`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from datalever.part import Part

if TYPE_CHECKING:
    import typer
    from fastapi import APIRouter
    from sqlalchemy import MetaData


def _metadata() -> MetaData:
    import datalever.pools.models  # noqa: F401  (declares this part's tables on the ledger's Base)
    from datalever.ledger.models import Base

    return Base.metadata


def _router() -> APIRouter:
    from datalever.pools.router import router

    return router


def _commands(app: typer.Typer) -> None:
    from datalever.pools.commands import register

    register(app)


def _web_views() -> dict[str, object]:
    from datalever.pools.web_view import PoolsWebView

    return {"pools_view": PoolsWebView()}


PART = Part(
    name="pools",
    metadata=_metadata,
    migrations=Path(__file__).parent / "migrations",
    router=_router,
    commands=_commands,
    web_views=_web_views,
)
