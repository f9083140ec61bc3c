"""What a part declares about itself, so the app, the CLI and the migrations can assemble it.

A part (ledger, credits, stipends, flows, sim, ...) is one package; its `part.py` holds one `PART`. Each
field is optional and every heavy one is a callable, so reading the registry imports nothing heavy and
`datalever --help` stays fast. `tables`, `routes` and `commands` build those callables from the module
names a part states (its own modules, named explicitly: nothing is scanned). This module imports no part:
parts depend on it, never the other way.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, cast

if TYPE_CHECKING:
    import typer
    from fastapi import APIRouter
    from sqlalchemy import MetaData


@dataclass(frozen=True)
class Part:
    """One part's declaration: its tables, its Alembic revisions, its HTTP routes and its commands.

    * `metadata`: imports the part's models and returns the MetaData they are declared on (for Alembic's
      autogenerate and the schema test); the tables are named explicitly there, nothing is scanned.
    * `migrations`: the folder of the part's Alembic revision files (one linear history across parts).
    * `router`: builds the part's APIRouter; the service mounts routers in registry order.
    * `commands`: adds the part's commands to the top-level Typer app; the CLI calls them in registry order.
    * `web_views`: builds the objects the part offers another part's pages, by their `app.state` name (e.g.
      pools gives `{"pools_view": ...}`, the web app's `PoolsView`); the service sets each on `app.state`, so
      the page's part never imports the part that implements it and works without it.
    """

    name: str
    metadata: Callable[[], MetaData] | None = None
    migrations: Path | None = None
    router: Callable[[], APIRouter] | None = None
    commands: Callable[[typer.Typer], None] | None = None
    web_views: Callable[[], dict[str, object]] | None = None

    def __post_init__(self) -> None:
        assert self.name.isidentifier(), f"a part's name is a Python identifier, not {self.name!r}"
        assert self.migrations is None or self.migrations.is_dir(), f"{self.name}: no folder {self.migrations}"


def tables(models: str) -> Callable[[], MetaData]:
    """The MetaData of the tables declared in module `models`, on the `Base` that module uses."""

    def metadata() -> MetaData:
        base = importlib.import_module(models).Base
        return cast("MetaData", base.metadata)

    return metadata


def routes(module: str) -> Callable[[], APIRouter]:
    """The APIRouter named `router` in `module`."""

    def router() -> APIRouter:
        return cast("APIRouter", importlib.import_module(module).router)

    return router


def commands(module: str) -> Callable[[typer.Typer], None]:
    """`register(app)` of `module`, which adds the part's commands to the top-level app."""

    def register(app: typer.Typer) -> None:
        importlib.import_module(module).register(app)

    return register
