"""The credits part's declaration: the ledger's HTTP routes and commands, and the API-key table they use."""

from __future__ import annotations

from typing import TYPE_CHECKING

from datalever.part import Part

if TYPE_CHECKING:
    import typer
    from fastapi import APIRouter
    from sqlalchemy import MetaData


def _metadata() -> MetaData:
    """The api_keys table (declared in the web layer; its keys are made by this part's `keys` commands)."""
    from datalever.web.models import ApiKey

    return ApiKey.metadata


def _router() -> APIRouter:
    from datalever.credits.routes import router

    return router()


def _commands(app: typer.Typer) -> None:
    from datalever.credits.commands import register

    register(app)


PART = Part(name="credits", metadata=_metadata, router=_router, commands=_commands)
