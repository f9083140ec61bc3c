"""A database stamped with a revision this version does not know is refused in one line, not a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from datalever.cli import app


@pytest.mark.parametrize(
    "command",
    [["db", "upgrade"], ["keys", "create", "--role", "admin"], ["allowance", "run", "--month", "2026-01"]],
)
def test_an_unknown_revision_is_one_clear_line(tmp_path: Path, command: list[str]) -> None:
    url = f"sqlite:///{tmp_path / 'other.db'}"
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY)"))
        conn.execute(text("INSERT INTO alembic_version VALUES ('9999_from_elsewhere')"))
    engine.dispose()
    result = CliRunner().invoke(app, [*command, "--database-url", url])
    assert result.exit_code == 2, result.output
    assert "cannot upgrade the database" in result.output and "9999_from_elsewhere" in result.output
    assert ("Traceback" not in result.output and result.exception is None) or isinstance(result.exception, SystemExit)
