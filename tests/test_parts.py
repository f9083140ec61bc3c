"""The registry assembles what the parts declare: every router is mounted, every command mounted, every
declared table is one Alembic knows, and each declaration points at modules that exist."""

from __future__ import annotations

import typer
from fastapi import APIRouter, FastAPI
from sqlalchemy import MetaData
from typer.main import get_command

from datalever import migrations
from datalever.cli import app as cli
from datalever.parts import PARTS
from tests.support.api import Api


def _operations(app: FastAPI) -> set[tuple[str, str]]:
    """(path, method) of every operation the app documents."""
    return {(path, method) for path, item in app.openapi()["paths"].items() for method in item}


def _alone(router: APIRouter) -> FastAPI:
    app = FastAPI()
    app.include_router(router)
    return app


def test_every_declared_router_is_mounted_by_the_service(api: Api) -> None:
    app = api.client.app
    assert isinstance(app, FastAPI)
    mounted = _operations(app)
    declared = [_operations(_alone(part.router())) for part in PARTS if part.router is not None]
    assert {part.name for part in PARTS if part.router is not None} >= {"credits", "stipends", "flows"}
    assert all(declared), "a part declares a router without routes"
    service_own = {("/healthz", "get"), ("/readyz", "get"), ("/metrics", "get")}  # the assembly's own routes
    assert set().union(*declared) == mounted - service_own


def test_every_declared_command_is_mounted_by_the_cli() -> None:
    top = set(get_command(cli).commands)  # type: ignore[attr-defined]
    for part in PARTS:
        if part.commands is None:
            continue
        alone = typer.Typer()
        part.commands(alone)
        alone.command("_placeholder")(lambda: None)  # a group even if the part adds a single command
        names = set(get_command(alone).commands) - {"_placeholder"}  # type: ignore[attr-defined]
        assert names, f"{part.name} declares commands but adds none"
        assert names <= top, f"{part.name}: {names - top} not in `datalever`"


def test_declared_tables_are_the_ones_alembic_compares() -> None:
    declared = [part.metadata() for part in PARTS if part.metadata is not None]
    assert all(isinstance(metadata, MetaData) for metadata in declared)
    names = {name for metadata in declared for name in metadata.tables}
    assert {"members", "api_keys", "platform_links", "flow_coalitions"} <= names
    (target,) = migrations.target_metadata()
    assert set(target.tables) == names


def test_each_part_with_migrations_has_its_own_folder() -> None:
    folders = [part.migrations for part in PARTS if part.migrations is not None]
    assert len(set(folders)) == len(folders)
    assert all(folder is not None and any(folder.glob("*.py")) for folder in folders)
    assert migrations.version_locations()[1:] == folders
